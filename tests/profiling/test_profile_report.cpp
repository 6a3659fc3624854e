// tally profile's pieces: bounded series and trace, and the report and page made from a real
// profiled host.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <string>

#include "bindings/host.hpp"
#include "cli/profile_recorder.hpp"
#include "cli/profile_report.hpp"
#include "cli/profile_trace.hpp"

using namespace tally;
using namespace tally::cli;

namespace {

const std::filesystem::path kAddons = std::filesystem::path(TALLY_TEST_DATA_DIR) / "addons_profile";

using Clock = AddonProfiler::Clock;
Clock::time_point at_ms(double ms) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(ms)));
}

// The JSON embedded in report.html.
nlohmann::json embedded_report(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"report\">";
  auto start = html.find(open);
  REQUIRE(start != std::string::npos);
  start += open.size();
  std::string data = html.substr(start, html.find("</script>", start) - start);
  for (auto at = data.find("<\\/"); at != std::string::npos; at = data.find("<\\/", at))
    data.replace(at, 3, "</");
  return nlohmann::json::parse(data);
}

}  // namespace

TEST_CASE("a binned series keeps its size by doubling the bin width, and keeps sums and maxima") {
  BinnedSeries s(1.0, 100);
  for (int t = 0; t < 1000; ++t) s.add(t, t % 8 == 0 ? 50 : 1);
  CHECK(s.width() == 16);
  CHECK(s.bins().size() == 63);
  std::uint64_t count = 0;
  double sum = 0;
  for (const auto& b : s.bins()) {
    count += b.count;
    sum += b.sum;
    CHECK(b.max == 50);
  }
  CHECK(count == 1000);
  CHECK(sum == 125 * 50 + 875);
}

TEST_CASE("frame-time bins are a quarter octave wide") {
  FrameTimeBins bins;
  for (double ms : {1.0, 1.0, 1.1, 16.7, 0.001}) bins.add(ms);
  nlohmann::json j = bins.to_json();
  REQUIRE(j.size() == 41);  // from the first bin (0.001 ms) to the 16.7 ms one
  CHECK(j.front()["from_ms"] == 0);
  CHECK(j.front()["count"] == 1);
  const auto& one = j[24];  // [1, 2^(1/4)) ms
  CHECK(one["from_ms"].get<double>() == doctest::Approx(1));
  CHECK(one["count"] == 3);
  CHECK(j.back()["from_ms"].get<double>() == doctest::Approx(16));
  CHECK(j.back()["count"] == 1);
}

TEST_CASE("the trace stays under its event cap with an even sample and keeps the slowest frames") {
  AddonProfiler profiler;
  auto addon = profiler.add_addon("Addon");
  profiler.end_loading();
  profiler.set_tracing(true);
  TraceLog trace({.max_events = 1000, .slow_frames = 4}, at_ms(0));
  trace.name_client(1, "Dagna");
  double t = 0;
  for (int frame = 1; frame <= 10'000; ++frame) {
    double ms = frame == 7777 ? 40 : 1;
    for (int call = 0; call < 9; ++call) {
      auto depth = profiler.enter(addon, AddonWork::OnUpdate, "", at_ms(t));
      profiler.leave(depth, at_ms(t + 0.01));
    }
    profiler.end_frame(at_ms(t), at_ms(t + ms), ms);
    trace.add_frame(1, profiler, {{"replay L", {{"lag", frame}}}});
    t += ms + 1;
  }
  TraceLog::Stats s = trace.stats();
  CHECK(s.frames_seen == 10'000);
  CHECK(s.stride == 128);  // 11 events a frame: 10000 / 128 frames fit under 1000 events
  CHECK(s.events <= 1000 + 4 * 11);
  nlohmann::json j = nlohmann::json::parse(trace.to_json().dump());
  std::set<std::uint64_t> frames;
  bool slowest = false;
  for (const auto& e : j["traceEvents"]) {
    if (e["name"] != "frame") continue;
    auto n = e["args"]["frame"].get<std::uint64_t>();
    frames.insert(n);
    slowest = slowest || n == 7777;
    CHECK((n % 128 == 0 || n <= 4 || n == 7777));
  }
  CHECK(slowest);
  CHECK(frames.size() == s.frames_kept);
  CHECK(frames.size() == 10'000 / 128 + 4);  // the 4 slowest: 7777 and 3 of the equal first ones
}

TEST_CASE(
    "the report of a profiled host: frame figures, addons by cost, replay by ledger, and its "
    "page") {
  Host host;
  for (const char* name : {"Aelric", "Brannoc"}) {
    host.add_client({.name = name,
                     .guild = "Tally Guild",
                     .guild_rank = std::string(name) == "Aelric" ? 0 : 3});
  }
  ProfileRecorder recorder({.fps = 60, .trace = {}});
  recorder.start(host);
  host.set_tick_observer([&](Host& h) { recorder.observe(h); });
  host.load_addons(scan_addons(kAddons));
  host.start();
  for (int f = 0; f < 60; ++f) host.tick(1.0 / 60);
  nlohmann::json r = recorder.report(host);

  CHECK(r["session"]["clients"] == 2);
  const auto& frames = r["frames"];
  CHECK(frames["count"] == 120);
  CHECK(frames["p50_ms"].get<double>() >= 1.99);  // every frame burns 2 ms in ProfileBurner
  CHECK(frames["p50_ms"] <= frames["p95_ms"]);
  CHECK(frames["p95_ms"] <= frames["p99_ms"]);
  CHECK(frames["p99_ms"] <= frames["max_ms"]);
  std::uint64_t binned = 0;
  for (const auto& b : frames["histogram"]) binned += b["count"].get<std::uint64_t>();
  CHECK(binned == 120);
  CHECK(!frames["series"].empty());

  const auto& addons = r["addons"];
  REQUIRE(addons.size() == 3);
  CHECK(addons[0]["name"] == "ProfileBurner");  // costliest first
  CHECK(addons[0]["frames_over"]["1ms"] == 120);
  CHECK(addons[0]["clients"] == 2);
  CHECK(addons[0]["share_of_frame_time"].get<double>() > 0.5);
  for (const auto& a : addons) {
    if (a["name"] == "ProfileIdle")
      CHECK(a["mean_ms_per_frame"].get<double>() * 10 <
            addons[0]["mean_ms_per_frame"].get<double>());
  }
  REQUIRE(r["replay"].size() == 1);
  CHECK(r["replay"][0]["ledger"] == "ProfileGuild");
  CHECK(r["replay"][0]["owner"] == "ProfileGuild");
  CHECK(r["replay"][0]["events_applied"].get<std::uint64_t>() > 0);
  CHECK(r["clients"].size() == 2);
  CHECK(r["trace"]["frames_kept"] == 120);

  std::string html = render_profile_html(r);
  CHECK(embedded_report(html) == r);
  for (const char* id : {"frame-time", "replay-rate", "replay-lag", "frame-histogram"}) {
    CHECK_MESSAGE(html.find("<svg id=\"" + std::string(id) + "\"") != std::string::npos, id);
  }
  CHECK(html.find("<polyline") != std::string::npos);
  CHECK(html.find("ProfileBurner") != std::string::npos);
  CHECK(html.find("p95 ") != std::string::npos);
}
