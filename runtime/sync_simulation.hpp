// A sync simulation without Lua: ledgers, the addon-message network with a fault plan, and one
// SyncLink per client, driven in virtual time. Used by the sync tests and `tally bench sync`.
// Received entries go straight into the ledger, through an optional `accept` policy.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/addon_network.hpp"
#include "runtime/ledger.hpp"
#include "runtime/network_faults.hpp"
#include "runtime/sync_link.hpp"

namespace tally {

// Makes one client's protocol endpoint.
using SyncFactory = std::function<std::unique_ptr<SyncEndpoint>(SyncContext)>;

class SyncSimulation {
 public:
  struct Member {
    std::string name;  // "Name-Realm"
    std::uint32_t id = 0;
    Ledger ledger;
    std::unique_ptr<SyncLink> link;  // null for an adversary
    std::uint64_t refused = 0;       // received entries the accept policy refused
    // An adversary's behaviour: it sees what it receives and acts through the network itself.
    std::function<void(const Delivery&)> on_delivery;
    std::function<void(double now)> on_tick;
  };

  static constexpr const char* kPrefix = "TallySync";

  explicit SyncSimulation(const FaultPlan& plan = {}, std::uint64_t seed = 1);

  // A client running the protocol `factory` makes (Tally's when empty). Its name gets "-Tally".
  Member& add(const std::string& name, const SyncFactory& factory = {}, std::uint64_t seed = 1);
  // A client that runs no protocol: the caller gives it behaviour.
  Member& add_adversary(const std::string& name);

  // One step of `step` seconds: deliveries, then every client's frame.
  void tick();
  void run_for(double seconds);
  // Runs until every honest ledger is equal (true) or `limit` seconds pass (false).
  bool run_until_converged(double limit);
  bool converged() const;
  // Applies the plan's offline windows each tick.
  void follow_schedule(const FaultPlan& plan) { schedule_ = std::make_unique<FaultSchedule>(plan); }

  AddonNetwork& network() { return network_; }
  const FaultCounters& faults() const { return *faults_; }
  std::vector<std::unique_ptr<Member>>& members() { return members_; }
  double now() const { return now_; }
  void set_step(double seconds) { step_ = seconds; }
  // Prefixes per client link for clients added from now on (see SyncLink); default 3.
  void set_lanes(std::size_t lanes) { lanes_ = lanes; }
  // Whether a received entry is committed (entry, sender); empty: all are.
  void set_accept(std::function<bool(const Entry&, const std::string&)> accept) { accept_ = std::move(accept); }

 private:
  std::shared_ptr<const FaultCounters> faults_;  // before network_, which takes its policy
  AddonNetwork network_;
  std::unique_ptr<FaultSchedule> schedule_;
  std::vector<std::unique_ptr<Member>> members_;
  std::function<bool(const Entry&, const std::string&)> accept_;
  double now_ = 0;
  double step_ = 0.05;
  std::size_t lanes_ = 3;
};

}  // namespace tally
