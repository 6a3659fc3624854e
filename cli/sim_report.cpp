// ConvergenceWatch and the text/JSON report of a simulation.
#include "cli/sim_report.hpp"

#include <cinttypes>

namespace tally::cli {

namespace {

// What must match between clients: entry count and content fingerprint.
std::pair<std::size_t, std::uint64_t> identity(const LedgerBinding& b) {
  return {b.ledger().size(), b.ledger().fingerprint().sum};
}

std::string hex(std::uint64_t v) {
  char buffer[20];
  std::snprintf(buffer, sizeof buffer, "%016" PRIx64, v);
  return buffer;
}

}  // namespace

void ConvergenceWatch::observe(Host& host) {
  if (host.now() < next_sample_) return;
  next_sample_ = host.now() + 1;
  std::map<std::string, std::optional<std::pair<std::size_t, std::uint64_t>>> first;
  std::map<std::string, bool> equal;
  for (const auto& client : host.clients()) {
    if (!client->logged_in()) continue;
    for (LedgerBinding* ledger : client->ledgers().all()) {
      auto& seen = first[ledger->name()];
      auto id = identity(*ledger);
      if (!seen) {
        seen = id;
        equal.emplace(ledger->name(), true);
      } else if (*seen != id) {
        equal[ledger->name()] = false;
      }
    }
  }
  for (const auto& [name, same] : equal) {
    auto& since = agreed_since_[name];
    if (!same) since.reset();
    else if (!since) since = host.now();
  }
}

nlohmann::json sim_report(Host& host, const ConvergenceWatch& watch) {
  nlohmann::json report;
  report["game_seconds"] = host.now();
  nlohmann::json clients = nlohmann::json::array();
  for (const auto& c : host.clients()) {
    const TrafficStats& t = host.network().stats(c->id());
    const Client::FrameStats& f = c->frame_stats();
    nlohmann::json ledgers = nlohmann::json::object();
    for (LedgerBinding* b : c->ledgers().all()) {
      ledgers[b->name()] = {{"entries", b->ledger().size()},
                            {"applied", b->applied()},
                            {"fingerprint", hex(b->ledger().fingerprint().sum)},
                            {"state_hash", b->state_hash()}};
    }
    clients.push_back({{"name", c->name()},
                       {"logged_in", c->logged_in()},
                       {"messages_sent", t.sent},
                       {"bytes_sent", t.bytes_sent},
                       {"messages_received", t.delivered},
                       {"bytes_received", t.bytes_delivered},
                       {"refused_sends", t.refused_total()},
                       {"frames", f.frames},
                       {"frame_ms_mean", f.frames > 0 ? f.total_ms / static_cast<double>(f.frames) : 0.0},
                       {"frame_ms_max", f.max_ms},
                       {"frame_cpu_ms_max", f.max_cpu_ms},
                       {"ledgers", ledgers}});
  }
  report["clients"] = clients;
  nlohmann::json agreement = nlohmann::json::object();
  for (const auto& [name, since] : watch.agreed_since()) {
    agreement[name] = since ? nlohmann::json(*since) : nlohmann::json(nullptr);
  }
  report["ledgers_agree_since"] = agreement;
  const FaultCounters& faults = host.fault_counters();
  report["faults"] = {{"lost_by_loss", faults.lost_by_loss}, {"lost_by_partition", faults.lost_by_partition},
                      {"duplicated", faults.duplicated},     {"reordered", faults.reordered}};
  return report;
}

void print_sim_report(const nlohmann::json& r, std::FILE* out) {
  std::fprintf(out, "simulated %.1f s of game time\n", r["game_seconds"].get<double>());
  std::fprintf(out, "%-12s %9s %11s %9s %11s %8s %9s %9s\n", "client", "msgs out", "bytes out", "msgs in", "bytes in",
               "refused", "frame ms", "max ms");
  for (const auto& c : r["clients"]) {
    std::fprintf(out, "%-12s %9llu %11llu %9llu %11llu %8llu %9.3f %9.3f\n", c["name"].get<std::string>().c_str(),
                 c["messages_sent"].get<unsigned long long>(), c["bytes_sent"].get<unsigned long long>(),
                 c["messages_received"].get<unsigned long long>(), c["bytes_received"].get<unsigned long long>(),
                 c["refused_sends"].get<unsigned long long>(), c["frame_ms_mean"].get<double>(),
                 c["frame_ms_max"].get<double>());
  }
  for (const auto& [name, since] : r["ledgers_agree_since"].items()) {
    // The state hash of each client's ledger: equal ledgers replayed to the end give equal hashes.
    std::map<std::string, int> hashes;
    for (const auto& c : r["clients"]) {
      if (!c["logged_in"].get<bool>() || !c["ledgers"].contains(name)) continue;
      const auto& l = c["ledgers"][name];
      ++hashes[l["fingerprint"].get<std::string>() + "/" + std::to_string(l["state_hash"].get<std::uint32_t>()) + " (" +
               std::to_string(l["entries"].get<std::size_t>()) + " entries, " + std::to_string(l["applied"].get<std::size_t>()) +
               " applied)"];
    }
    if (since.is_null()) std::fprintf(out, "ledger %s: clients DIFFER at the end\n", name.c_str());
    else std::fprintf(out, "ledger %s: every client holds the same entries since %.0f s\n", name.c_str(), since.get<double>());
    for (const auto& [hash, count] : hashes) std::fprintf(out, "    %d client(s): %s\n", count, hash.c_str());
  }
  const auto& f = r["faults"];
  std::fprintf(out, "faults: %llu lost, %llu cut by partitions, %llu duplicated, %llu reordered\n",
               f["lost_by_loss"].get<unsigned long long>(), f["lost_by_partition"].get<unsigned long long>(),
               f["duplicated"].get<unsigned long long>(), f["reordered"].get<unsigned long long>());
}

}  // namespace tally::cli
