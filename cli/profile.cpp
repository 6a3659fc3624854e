// `tally profile`: runs addons as `tally run` (or `tally sim`) does and writes where their time
// goes: trace.json (Chrome trace events), report.json and report.html.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.hpp"
#include "cli/profile_recorder.hpp"
#include "cli/profile_report.hpp"
#include "cli/profile_session.hpp"
#include "runtime/atomic_file.hpp"

namespace tally::cli {

namespace {

void print_summary(const nlohmann::json& report, const std::filesystem::path& out) {
  const auto& f = report["frames"];
  std::printf(
      "profiled %llu frames: p50 %.3f ms, p95 %.3f ms, p99 %.3f ms, max %.3f ms; %llu over the "
      "%.1f ms budget\n",
      f["count"].get<unsigned long long>(), f["p50_ms"].get<double>(), f["p95_ms"].get<double>(),
      f["p99_ms"].get<double>(), f["max_ms"].get<double>(),
      f["over_budget"].get<unsigned long long>(), f["budget_ms"].get<double>());
  std::printf("%-24s %12s %12s %10s %10s %8s\n", "addon", "ms/frame", "p95 ms", "peak ms", ">1ms",
              "share");
  for (const auto& a : report["addons"]) {
    std::printf("%-24s %12.4f %12.4f %10.3f %10llu %7.1f%%\n", a["name"].get<std::string>().c_str(),
                a["mean_ms_per_frame"].get<double>(), a["p95_ms"].get<double>(),
                a["peak_ms"].get<double>(), a["frames_over"]["1ms"].get<unsigned long long>(),
                100 * a["share_of_frame_time"].get<double>());
  }
  for (const auto& l : report["replay"]) {
    std::printf("ledger %s (%s): %llu events applied, lag at most %llu\n",
                l["ledger"].get<std::string>().c_str(), l["owner"].get<std::string>().c_str(),
                l["events_applied"].get<unsigned long long>(),
                l["lag_max"].get<unsigned long long>());
  }
  std::printf("wrote %s, %s and %s\n", (out / "trace.json").c_str(), (out / "report.json").c_str(),
              (out / "report.html").c_str());
}

}  // namespace

int profile(const std::vector<std::string>& args) {
  // --sim is a flag of this command alone; the session parses it with the others.
  bool sim = std::find(args.begin(), args.end(), "--sim") != args.end();
  std::unique_ptr<ProfileRecorder> recorder;
  std::filesystem::path out;
  SessionHooks hooks;
  hooks.flags = {"sim"};
  hooks.options = {"out", "trace-events", "slow-frames"};
  hooks.on_start = [&](const Arguments& a, Host& host) {
    out = a.text("out", "profile");
    ProfileRecorder::Options options;
    options.fps = static_cast<double>(a.integer("fps", 60, 1, 1000));
    // One frame can hold 4,096 calls and its counters: the cap must leave room for a few.
    options.trace.max_events =
        static_cast<std::size_t>(a.integer("trace-events", 100'000, 10'000, 100'000'000));
    options.trace.slow_frames = static_cast<std::size_t>(a.integer("slow-frames", 64, 0, 100'000));
    recorder = std::make_unique<ProfileRecorder>(options);
    recorder->start(host);
  };
  hooks.on_tick = [&](Host& host) { recorder->observe(host); };
  hooks.on_end = [&](Host& host) {
    nlohmann::json report = recorder->report(host);
    std::filesystem::create_directories(out);
    write_file_atomically(out / "trace.json", recorder->trace().to_json().dump() + "\n");
    write_file_atomically(out / "report.json", report.dump(2) + "\n");
    write_file_atomically(out / "report.html", render_profile_html(report));
    print_summary(report, out);
  };
  return run_session(args, "profile", sim, hooks);
}

}  // namespace tally::cli
