// Text and JSON reports of replay metrics for `tally run`.
#include "cli/ledger_report.hpp"

#include <chrono>

namespace tally::cli {

nlohmann::json ledger_metrics(Host& host) {
  nlohmann::json all = nlohmann::json::object();
  for (const auto& client : host.clients()) {
    for (LedgerBinding* ledger : client->ledgers().all()) {
      all[client->name()][ledger->name()] = ledger->metrics_json(host.now());
    }
  }
  return all;
}

namespace {

void print_histogram(std::FILE* out, const char* what, const nlohmann::json& h) {
  std::fprintf(out, "    %-6s ms: n %llu  p50 %.3f  p95 %.3f  p99 %.3f  max %.3f\n", what,
               h["count"].get<unsigned long long>(), h["p50"].get<double>(), h["p95"].get<double>(),
               h["p99"].get<double>(), h["max"].get<double>());
}

}  // namespace

void print_ledger_metrics(const nlohmann::json& metrics, std::FILE* out) {
  for (const auto& [client, ledgers] : metrics.items()) {
    for (const auto& [name, m] : ledgers.items()) {
      std::fprintf(out, "[%s] ledger %s: %llu entries, %llu applied, lag %llu (max %llu); knobs %s%s\n",
                   client.c_str(), name.c_str(), m["size"].get<unsigned long long>(),
                   m["applied"].get<unsigned long long>(), m["lag_events"].get<unsigned long long>(),
                   m["lag_max_events"].get<unsigned long long>(), m["knobs"].get<std::string>().c_str(),
                   m["knobs_forced"].get<bool>() ? " (forced)" : "");
      std::fprintf(out, "    replay: %llu events in %llu steps, %.0f events/s of replay time\n",
                   m["events_applied"].get<unsigned long long>(), m["steps"].get<unsigned long long>(),
                   m["events_per_replay_second"].get<double>());
      print_histogram(out, "step", m["step_ms"]);
      print_histogram(out, "frame", m["frame_ms"]);
      const auto& r = m["rewinds"];
      const auto& c = m["checkpoints"];
      std::fprintf(out, "    rewinds %llu (%llu events, at most %llu back); checkpoints %llu taken, %llu dropped, %.2f ms\n",
                   r["count"].get<unsigned long long>(), r["events_total"].get<unsigned long long>(),
                   r["max_distance"].get<unsigned long long>(), c["taken"].get<unsigned long long>(),
                   c["dropped"].get<unsigned long long>(), c["ms_total"].get<double>());
      const auto& q = m["remote"];
      std::fprintf(out, "    received %llu: committed %llu, duplicates %llu, refused %llu, invalid %llu, overflow %llu, pending %llu\n",
                   q["received"].get<unsigned long long>(), q["committed"].get<unsigned long long>(),
                   q["duplicates"].get<unsigned long long>(), q["refused"].get<unsigned long long>(),
                   q["invalid"].get<unsigned long long>(), q["overflow"].get<unsigned long long>(),
                   q["pending"].get<unsigned long long>());
    }
  }
}

}  // namespace tally::cli
