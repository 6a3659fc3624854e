// `tally sim`'s report: per client the addon-message traffic and frame times, per synced ledger
// whether every client ends with the same ledger and state hash, and since when.
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "bindings/host.hpp"

namespace tally::cli {

// Samples the host once per second of game time: for each ledger name, whether every logged-in
// client that opened it holds the same entries, and since when without a break.
class ConvergenceWatch {
 public:
  void observe(Host& host);
  // Per ledger name: the game time since which all clients agree; nothing when they differ now.
  const std::map<std::string, std::optional<double>>& agreed_since() const { return agreed_since_; }

 private:
  double next_sample_ = 0;
  std::map<std::string, std::optional<double>> agreed_since_;
};

nlohmann::json sim_report(Host& host, const ConvergenceWatch& watch);
void print_sim_report(const nlohmann::json& report, std::FILE* out);

}  // namespace tally::cli
