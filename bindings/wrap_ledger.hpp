// The Lua face of one addon ledger (see wrap_ledger.cpp and lua/ledger_api.lua).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bindings/ledger_binding.hpp"
#include "bindings/ledger_registry.hpp"

struct lua_State;

namespace tally {

// Pushes a new ledger userdata owning its LedgerBinding, listed in `registry` while it lives.
// The userdata is pushed first, so Lua owns it; when opening throws (JournalError,
// InvalidEntry) it stays closed and is collected.
void push_ledger(lua_State* L, LedgerBindingOptions options, std::vector<std::string>* warnings,
                 LedgerRegistry* registry);

}  // namespace tally

extern "C" std::size_t tally_replay_fetch(void* binding, std::size_t max, tally::ReplayRecord* records,
                                          double* values, std::size_t value_capacity);
extern "C" void tally_replay_commit(void* binding, std::size_t count);
