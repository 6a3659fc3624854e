// What per-addon profiling costs per handler call: three clients of one host run the same 1,000
// empty OnUpdate handlers per frame, with profiling off, on, and on with tracing (tally profile).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bindings/host.hpp"
#include "bindings/profiler.hpp"

using namespace tally;

namespace {

constexpr int kHandlers = 1000;
constexpr int kFramesPerRound = 200;
constexpr int kRounds = 15;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The enter/leave pair alone, clock reads included.
double enter_leave_ns() {
  AddonProfiler profiler;
  auto owner = profiler.add_addon("Bench");
  profiler.end_loading();
  constexpr int kCalls = 2'000'000;
  auto start = AddonProfiler::Clock::now();
  for (int i = 0; i < kCalls; ++i) {
    auto depth = profiler.enter(owner, AddonWork::OnUpdate, "", AddonProfiler::Clock::now());
    profiler.leave(depth, AddonProfiler::Clock::now());
  }
  return std::chrono::duration<double, std::nano>(AddonProfiler::Clock::now() - start).count() /
         kCalls;
}

}  // namespace

int main() {
  Host host;
  const char* names[] = {"Off", "On", "Traced"};
  for (int i = 0; i < 3; ++i) host.add_client({.name = names[i], .profile_addons = i > 0});
  host.start();
  host.clients()[2]->profiler().set_tracing(true);
  const std::string code =
      "for i = 1, " + std::to_string(kHandlers) +
      " do CreateFrame('Frame'):SetScript('OnUpdate', function(self, elapsed) end) end";
  for (const auto& c : host.clients()) c->run_script(code, "@Interface\\AddOns\\Bench\\Bench.lua");
  for (int f = 0; f < kFramesPerRound; ++f) host.tick(1.0 / 60);  // warm up: traces compiled

  std::vector<double> per_call[3];
  for (int round = 0; round < kRounds; ++round) {
    double before[3];
    for (int i = 0; i < 3; ++i)
      before[i] = host.clients()[static_cast<std::size_t>(i)]->frame_stats().total_ms;
    for (int f = 0; f < kFramesPerRound; ++f) host.tick(1.0 / 60);
    for (int i = 0; i < 3; ++i) {
      double ms = host.clients()[static_cast<std::size_t>(i)]->frame_stats().total_ms - before[i];
      per_call[i].push_back(ms * 1e6 / (kFramesPerRound * kHandlers));
    }
  }
  double off = median(per_call[0]), on = median(per_call[1]), traced = median(per_call[2]);
  std::printf("per OnUpdate handler call (median of %d rounds of %d frames x %d handlers):\n",
              kRounds, kFramesPerRound, kHandlers);
  std::printf("  profiling off          %7.1f ns\n", off);
  std::printf("  profiling on           %7.1f ns  (+%.1f ns)\n", on, on - off);
  std::printf("  profiling and tracing  %7.1f ns  (+%.1f ns)\n", traced, traced - off);
  std::printf("AddonProfiler enter + leave alone, with two clock reads: %.1f ns\n",
              enter_leave_ns());
  return 0;
}
