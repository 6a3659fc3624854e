// A sync test bed without Lua: ledgers, the addon-message network with a fault plan, and one
// SyncLink per client, driven in virtual time. Received entries go straight into the ledger
// (authorization, when a test needs it, is the `accept` filter).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/addon_network.hpp"
#include "runtime/ledger.hpp"
#include "runtime/network_faults.hpp"
#include "runtime/sync_link.hpp"
#include "runtime/sync_tally.hpp"

namespace tally::testing {

struct SyncBed {
  struct Member {
    std::string name;
    Ledger ledger;
    std::unique_ptr<SyncLink> link;  // null for an adversary
    std::uint64_t refused = 0;
    std::uint32_t id = 0;
    // An adversary's behaviour: it sees what it receives and acts through the network itself.
    std::function<void(const Delivery&)> on_delivery;
    std::function<void(double now)> on_tick;
  };

  std::shared_ptr<const FaultCounters> faults;  // before network: make_options sets it
  AddonNetwork network;
  std::vector<std::unique_ptr<Member>> members;
  // Whether a received entry is committed (entry, sender); empty: all are.
  std::function<bool(const Entry&, const std::string&)> accept;
  double now = 0;
  double step = 0.05;

  explicit SyncBed(const FaultPlan& plan = {}, std::uint64_t seed = 1)
      : network(make_options(plan, seed, faults)) {}

  static NetworkOptions make_options(const FaultPlan& plan, std::uint64_t seed, std::shared_ptr<const FaultCounters>& counters) {
    NetworkOptions options;
    FaultPolicy policy = make_delivery_policy(plan, seed);
    options.policy = policy.policy;
    counters = policy.counters;
    return options;
  }

  Member& add(const std::string& name, TallySyncConfig config = {}, std::uint64_t seed = 1) {
    auto m = std::make_unique<Member>();
    m->name = name + "-Tally";
    auto id = static_cast<std::uint32_t>(members.size() + 1);
    m->id = id;
    network.add_client({id, m->name, "Guild", 0, 0, true});
    network.register_prefix(id, "TallySync");
    Member* raw = m.get();
    SyncContext context;
    context.ledger = &raw->ledger;
    context.self = raw->name;
    context.seed = seed;
    context.deliver = [this, raw](std::vector<Entry> entries, const std::string& sender) {
      for (const Entry& e : entries) {
        if (accept && !accept(e, sender)) {
          ++raw->refused;
          continue;
        }
        raw->ledger.insert(e);
      }
    };
    raw->link = std::make_unique<SyncLink>(std::make_unique<TallySync>(context, config), "TallySync", id,
                                           static_cast<std::uint16_t>(seed * 131 + id));
    members.push_back(std::move(m));
    return *raw;
  }

  // A client that runs no protocol: the test gives it behaviour.
  Member& add_adversary(const std::string& name) {
    auto m = std::make_unique<Member>();
    m->name = name + "-Tally";
    m->id = static_cast<std::uint32_t>(members.size() + 1);
    network.add_client({m->id, m->name, "Guild", 0, 0, true});
    network.register_prefix(m->id, "TallySync");
    members.push_back(std::move(m));
    return *members.back();
  }

  void run_for(double seconds) {
    double end = now + seconds;
    while (now < end) tick();
  }

  void tick() {
    now += step;
    for (const Delivery& d : network.collect(now)) {
      Member& m = *members[d.receiver - 1];
      if (m.link) m.link->on_frame(d.sender_name, d.text, now);
      else if (m.on_delivery) m.on_delivery(d);
    }
    for (auto& m : members) {
      if (m->link) m->link->pump(network, now);
      else if (m->on_tick) m->on_tick(now);
    }
  }

  // Whether every honest client holds the same ledger.
  bool converged() const {
    const Member* first = nullptr;
    for (const auto& m : members) {
      if (!m->link) continue;
      if (first == nullptr) first = m.get();
      if (m->ledger.fingerprint().sum != first->ledger.fingerprint().sum || m->ledger.size() != first->ledger.size()) {
        return false;
      }
    }
    return true;
  }

  // Runs until every ledger is equal (true) or `limit` seconds pass (false).
  bool run_until_converged(double limit) {
    double end = now + limit;
    while (now < end) {
      tick();
      if (converged()) return true;
    }
    return false;
  }
};

// An award entry: deterministic content from its number.
inline Entry award(std::uint32_t n, std::uint32_t creator = 7, std::uint32_t base = 1700000000) {
  Entry e{{base + n, 0, 0, creator}, "award", 1, {}};
  e.payload.set("player", "P" + std::to_string(n % 97)).set("amount", static_cast<std::int64_t>(n % 50 + 1));
  return e;
}

}  // namespace tally::testing
