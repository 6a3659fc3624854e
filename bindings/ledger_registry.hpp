// The ledgers open in one client's Lua state, by name, with the sync link of those that sync:
// how the host (the network, scenarios, tools) reaches a ledger an addon created. Entries come
// and go with the ledger userdata (wrap_ledger.cpp); the registry owns only the sync links,
// which it destroys before their ledger goes away.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "bindings/ledger_binding.hpp"
#include "runtime/sync_link.hpp"

namespace tally {

class LedgerRegistry {
 public:
  struct Open {
    LedgerBinding* binding;
    std::unique_ptr<SyncLink> sync;          // null: the ledger does not sync
    SyncState reported = SyncState::Unknown;  // the state last reported to the addon
  };

  void add(LedgerBinding* binding) { open_.push_back({binding, nullptr}); }
  void remove(LedgerBinding* binding) {
    std::erase_if(open_, [&](const Open& o) { return o.binding == binding; });
  }
  LedgerBinding* find(std::string_view name) const {
    for (const Open& o : open_) {
      if (o.binding->name() == name) return o.binding;
    }
    return nullptr;
  }
  std::vector<LedgerBinding*> all() const {
    std::vector<LedgerBinding*> out;
    for (const Open& o : open_) out.push_back(o.binding);
    return out;
  }
  std::vector<Open>& open() { return open_; }

  void attach_sync(LedgerBinding* binding, std::unique_ptr<SyncLink> link) {
    for (Open& o : open_) {
      if (o.binding == binding) o.sync = std::move(link);
    }
  }
  SyncLink* sync_of(const LedgerBinding* binding) const {
    for (const Open& o : open_) {
      if (o.binding == binding) return o.sync.get();
    }
    return nullptr;
  }
  SyncLink* sync_for_prefix(std::string_view prefix) const {
    for (const Open& o : open_) {
      if (o.sync && o.sync->handles(prefix)) return o.sync.get();
    }
    return nullptr;
  }

 private:
  std::vector<Open> open_;  // in creation order
};

}  // namespace tally
