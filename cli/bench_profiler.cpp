// `tally bench profiler`: what per-addon profiling costs per handler call. Three clients of one
// host run the same empty OnUpdate handlers every frame with profiling off, on, and on with
// tracing (as tally profile runs); a run is a round of frames.
#include "bindings/host.hpp"
#include "bindings/profiler.hpp"
#include "cli/bench_suite.hpp"

namespace tally::cli {

namespace {

// The enter/leave pair alone, its two clock reads included, in ns.
double enter_leave_ns() {
  AddonProfiler profiler;
  auto owner = profiler.add_addon("Bench");
  profiler.end_loading();
  constexpr int kCalls = 1'000'000;
  auto start = AddonProfiler::Clock::now();
  for (int i = 0; i < kCalls; ++i) {
    auto depth = profiler.enter(owner, AddonWork::OnUpdate, "", AddonProfiler::Clock::now());
    profiler.leave(depth, AddonProfiler::Clock::now());
  }
  return std::chrono::duration<double, std::nano>(AddonProfiler::Clock::now() - start).count() / kCalls;
}

BenchResult run(const Arguments& a, const BenchSettings& settings) {
  const int handlers = static_cast<int>(a.integer("handlers", 1000, 1, 100000));
  const int frames = static_cast<int>(a.integer("frames", 200, 1, 100000));
  BenchResult report{"profiler", {{"handlers", handlers}, {"frames_per_run", frames}}, settings};

  Host host;
  const char* names[] = {"Off", "On", "Traced"};
  for (int i = 0; i < 3; ++i) host.add_client({.name = names[i], .profile_addons = i > 0});
  host.start();
  host.clients()[2]->profiler().set_tracing(true);
  const std::string code = "for i = 1, " + std::to_string(handlers) +
                           " do CreateFrame('Frame'):SetScript('OnUpdate', function(self, elapsed) end) end";
  for (const auto& c : host.clients()) c->run_script(code, "@Interface\\AddOns\\Bench\\Bench.lua");

  Progress progress(2 * (settings.warmup + settings.runs));
  repeat_runs(report, progress, settings.warmup, settings.runs, [&](Run& run) {
    run.step("handlers");
    double before[3];
    for (std::size_t i = 0; i < 3; ++i) before[i] = host.clients()[i]->frame_stats().total_ms;
    for (int f = 0; f < frames; ++f) host.tick(1.0 / 60);
    double ns[3];
    for (std::size_t i = 0; i < 3; ++i)
      ns[i] = (host.clients()[i]->frame_stats().total_ms - before[i]) * 1e6 / (double(frames) * handlers);
    run.record("handler call, profiling off", "ns", ns[0]);
    run.record("handler call, profiling on", "ns", ns[1]);
    run.record("handler call, profiling and tracing", "ns", ns[2]);
    run.record("profiling's cost per call", "ns", ns[1] - ns[0]);
    run.record("profiling and tracing's cost per call", "ns", ns[2] - ns[0]);
    run.step("enter + leave");
    run.record("AddonProfiler enter + leave alone (C++)", "ns", enter_leave_ns());
  });
  return report;
}

}  // namespace

BenchDef profiler_bench() {
  return {.name = "profiler",
          .usage = "[--handlers N (1000)] [--frames F (200)]",
          .summary = "ns per empty OnUpdate handler call with profiling off, on, and on with tracing",
          .defaults = {.runs = 15, .warmup = 1},
          .options = {"handlers", "frames"},
          .small = {"--runs", "5"},
          .run = run,
          .print = {}};
}

}  // namespace tally::cli
