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

namespace tally {

// Pushes an entry as addons see it: { type, data, time, creator, counter, realm, revision, id }.
void push_entry_table(lua_State* L, const Entry& entry);
// The ledger userdata at `index` (raises a Lua error when it is not one, or closed).
LedgerBinding* to_ledger_binding(lua_State* L, int index);

}  // namespace tally

extern "C" std::size_t tally_replay_fetch(void* binding, std::size_t max, tally::ReplayBatch* batch);
extern "C" void tally_replay_commit(void* binding, std::size_t count);
