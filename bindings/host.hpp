// The embedding API: a host runs many clients in one game-like frame loop on one clock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings/client.hpp"
#include "bindings/decode_ahead.hpp"
#include "runtime/addon_network.hpp"
#include "runtime/network_faults.hpp"

namespace tally {

struct HostOptions {
  std::uint32_t start_server_time = 1764000000;  // GetServerTime() at the first frame
  std::string build_version = "1.15.7";
  std::string build_number = "61582";
  std::string build_date = "Oct 30 2026";
  int interface_version = 11507;                  // GetBuildInfo()'s 4th value
  NetworkOptions network;                         // addon-message limits and latency
  FaultPlan faults;                               // loss, jitter, partitions, offline windows...
  std::uint64_t fault_seed = 1;                   // the same seed repeats a faulty run exactly
  std::optional<ReplayKnobs> forced_knobs;        // replay knobs for every ledger, whatever addons ask
  DecodeAheadOptions decode_ahead;                // long replay steps decode on a second thread
  std::vector<std::string> guild_ranks = {"Guild Master", "Officer", "Veteran", "Member", "Initiate"};
};

class Host {
 public:
  explicit Host(HostOptions options = {});
  ~Host();

  // Adds a client; its name must be unique. Throws std::invalid_argument otherwise.
  Client& add_client(ClientOptions options);
  const std::vector<std::unique_ptr<Client>>& clients() const { return clients_; }
  Client* find_client(std::string_view name) const;

  // Loads the catalog's addons into every client.
  void load_addons(const AddonCatalog& catalog);
  // Logs every client in (PLAYER_LOGIN, PLAYER_ENTERING_WORLD).
  void start();
  // Advances the clock by dt seconds, delivers the addon messages now due (CHAT_MSG_ADDON), and
  // runs one frame on every client.
  void tick(double dt);
  // Logs every client out and writes their SavedVariables.
  void shutdown();

  double now() const { return now_; }
  AddonNetwork& network() { return network_; }
  const AddonNetwork& network() const { return network_; }
  // Changes whenever anything a roster shows changes (membership, online state, ranks).
  std::uint64_t roster_version() const { return network_.membership_version() + ranks_changed_; }
  void note_rank_change() { ++ranks_changed_; }
  // Called after every tick (e.g. to watch convergence in a simulation).
  void set_tick_observer(std::function<void(Host&)> observer) { tick_observer_ = std::move(observer); }
  // Fires `event` (GUILD_ROSTER_UPDATE, GROUP_ROSTER_UPDATE, ...) in every logged-in client.
  void broadcast_event(std::string_view event, const std::vector<EventArg>& args = {});
  std::uint32_t server_time() const;
  // What the fault plan did so far (lost, duplicated, reordered... copies).
  const FaultCounters& fault_counters() const { return *faults_.counters; }
  const HostOptions& options() const { return options_; }

 private:
  HostOptions options_;
  FaultPolicy faults_;
  FaultSchedule fault_schedule_;
  AddonNetwork network_;
  std::vector<std::unique_ptr<Client>> clients_;
  double now_ = 0;
  bool started_ = false;
  std::uint64_t ranks_changed_ = 0;
  std::function<void(Host&)> tick_observer_;
};

}  // namespace tally
