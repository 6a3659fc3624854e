// The ledgers open in one client's Lua state, by name: how the host (sync, scenarios, tools)
// reaches a ledger that an addon created. Entries are added and removed by the ledger
// userdata's life (wrap_ledger.cpp); the registry never owns them.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

#include "bindings/ledger_binding.hpp"

namespace tally {

class LedgerRegistry {
 public:
  void add(LedgerBinding* binding) { open_.push_back(binding); }
  void remove(LedgerBinding* binding) { std::erase(open_, binding); }
  LedgerBinding* find(std::string_view name) const {
    auto it = std::find_if(open_.begin(), open_.end(), [&](LedgerBinding* b) { return b->name() == name; });
    return it == open_.end() ? nullptr : *it;
  }
  const std::vector<LedgerBinding*>& all() const { return open_; }

 private:
  std::vector<LedgerBinding*> open_;  // in creation order
};

}  // namespace tally
