// Fault injection for the addon-message network: a plan of loss, latency, jitter, duplication,
// reordering, partitions and offline windows; its text form; a seeded delivery policy built
// from it; and the schedule that takes clients offline as virtual time passes.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "runtime/addon_network.hpp"

namespace tally {

// A client named by id or by name ("Name-Realm", matched ignoring ASCII letter case). A name
// must be non-empty, not all digits (that reads as an id) and free of the text form's
// separators , | + @ = — which the game's names never hold.
using ClientRef = std::variant<std::uint32_t, std::string>;

// From `start` until `heal` (virtual seconds, [start, heal)) the clients are split into
// `groups` plus one more group of every client no group lists, and a copy from one group to
// another is lost. So a single group cuts those clients off from everyone else.
struct Partition {
  double start = 0;
  double heal = 0;
  std::vector<std::vector<ClientRef>> groups;
  bool operator==(const Partition&) const = default;
};

// `client` is offline from `from` until `to` (virtual seconds, [from, to)).
struct OfflineWindow {
  ClientRef client;
  double from = 0;
  double to = 0;
  bool operator==(const OfflineWindow&) const = default;
};

// What goes wrong on the network. Each copy of a send (one per online receiver) meets the
// faults in this order:
//   1. lost with probability `loss`;
//   2. else duplicated with probability `duplicate`: one extra copy, with its own delay;
//   3. each copy is delayed latency + U[0, jitter) seconds, and with probability `reorder` held
//      back a further U[0, reorder_delay) seconds, so copies sent after it may overtake it;
//   4. a copy is lost if a partition separating its sender and receiver is in force at any
//      moment it is on the wire, from its send to its delivery: at send time, at delivery
//      time, or when a partition starts and heals while it travels. (Delivery times compare
//      before the network rounds them to the microsecond.)
// Offline windows are not part of the policy: FaultSchedule applies them. Bandwidth and
// per-prefix allowances are checked at send, before any of this, and so always apply.
// The default plan has no faults and the network's default latency, so it delivers exactly as
// a network without a policy.
struct FaultPlan {
  double loss = 0;                                            // rate in [0, 1]
  double latency_seconds = NetworkOptions{}.latency_seconds;  // >= 0
  double jitter_seconds = 0;                                  // >= 0
  double duplicate = 0;                                       // rate in [0, 1]
  double reorder = 0;                                         // rate in [0, 1]
  double reorder_delay_seconds = 1;                           // >= 0
  std::vector<Partition> partitions;
  std::vector<OfflineWindow> offline;
  bool operator==(const FaultPlan&) const = default;
};

// The text form, for a CLI flag or a scenario: key=value items separated by commas, in any
// order; spaces around items, values and client names are ignored; empty text is the default
// plan. Keys not given keep their defaults.
//
//   loss=RATE                 FaultPlan::loss
//   latency=SECONDS           FaultPlan::latency_seconds
//   jitter=SECONDS            FaultPlan::jitter_seconds
//   dup=RATE                  FaultPlan::duplicate
//   reorder=RATE              FaultPlan::reorder
//   reorder_delay=SECONDS     FaultPlan::reorder_delay_seconds
//   partition=GROUPS@FROM-TO  one Partition per item; GROUPS is GROUP|GROUP|..., GROUP is
//                             CLIENT+CLIENT+...
//   offline=CLIENT@FROM-TO    one OfflineWindow per item
//
// RATE, SECONDS, FROM and TO are plain decimals ("0.25", "10"; no sign, no exponent). CLIENT
// is an id when all digits, else a name. The first six keys may appear once each; partition
// and offline may repeat. Example:
//   loss=0.1,latency=0.2,jitter=0.1,dup=0.05,reorder=0.1,partition=1+2|3+4@10-60,
//   offline=Cassia-Silvermoon@100-3700
//
// Throws std::invalid_argument naming the item (key and value) and what is wrong with it.
FaultPlan parse_fault_plan(std::string_view text);

// The text form of a valid plan, listing only what differs from the default plan, such that
// parse_fault_plan(format_fault_plan(plan)) == plan.
std::string format_fault_plan(const FaultPlan& plan);

// Throws std::invalid_argument, naming the offending item in the text form, when a rate is
// outside [0, 1], a duration is negative or not finite, a window does not end after it starts,
// a group is empty, a client is in two groups of one partition, or a name cannot be written.
void validate_fault_plan(const FaultPlan& plan);

// What the faults did, counted per copy over one run.
struct FaultCounters {
  std::uint64_t decided = 0;            // copies the network asked the policy about
  std::uint64_t lost_by_loss = 0;       // lost to `loss` (their duplicates never made)
  std::uint64_t lost_by_partition = 0;  // copies, duplicates included, a partition cut
  std::uint64_t duplicated = 0;         // extra copies made
  std::uint64_t reordered = 0;          // scheduled copies held back by `reorder`
  std::uint64_t delayed = 0;            // scheduled copies later than the base latency
  std::uint64_t scheduled = 0;          // copies handed to the network to deliver
  bool operator==(const FaultCounters&) const = default;
};

// A delivery policy and the counters it keeps. The counters are shared by every copy of the
// policy, so they stay readable after the policy moves into a network.
struct FaultPolicy {
  DeliveryPolicy policy;
  std::shared_ptr<const FaultCounters> counters;
};

// The plan as a policy for NetworkOptions::policy. Each copy's fate is drawn from a splitmix64
// stream keyed by (seed, send number, receiver), so the same seed and the same sends reproduce
// a run exactly, whatever order the policy is asked in. Throws like validate_fault_plan.
FaultPolicy make_delivery_policy(const FaultPlan& plan, std::uint64_t seed);

// A plan's offline windows, applied to a network as virtual time passes.
class FaultSchedule {
 public:
  // Throws like validate_fault_plan for a bad plan (all of it is checked, not only windows).
  explicit FaultSchedule(const FaultPlan& plan);

  // Takes each scheduled client offline while `now` is inside one of its windows and back
  // online once none holds it; between those changes the host's own set_online calls stand.
  // Call it each tick before send() and collect() at `now`: an edge takes effect at the first
  // call at or after it, and a window lying wholly between two calls does nothing. Names
  // resolve through the network: an unknown name or a non-finite `now` throws
  // std::invalid_argument, an unknown id std::out_of_range.
  void apply(AddonNetwork& network, double now);

 private:
  std::vector<OfflineWindow> windows_;
  std::set<std::uint32_t> held_offline_;  // clients this schedule took offline
};

}  // namespace tally
