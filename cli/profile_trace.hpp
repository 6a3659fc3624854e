// tally profile's trace: Chrome trace-event JSON (Perfetto, chrome://tracing) of the frames, the
// addon calls inside them, replay and sync, kept to a bounded number of events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bindings/profiler.hpp"

namespace tally::cli {

// The trace keeps whole frames (a frame's event with its calls and counters), chosen two ways:
//  - a regular sample: every `stride`-th frame of each client. The stride starts at 1 and
//    doubles whenever the sampled frames' events pass `max_events` (frames off the new stride
//    are dropped), so any run length fits and the sample stays evenly spread;
//  - the `slow_frames` slowest frames of the run, whatever the stride.
// A frame shows at most AddonProfiler::kMaxCallsPerFrame calls; the rest are counted.
class TraceLog {
 public:
  using Clock = AddonProfiler::Clock;
  struct Options {
    std::size_t max_events = 100'000;
    std::size_t slow_frames = 64;
  };
  // A counter track value at the end of a frame ("C" events): a ledger's lag, say.
  struct Counter {
    std::string name;
    nlohmann::json values;  // {"series": number, ...}
  };

  TraceLog(Options options, Clock::time_point origin);

  // Names client `pid`'s process in the trace.
  void name_client(int pid, const std::string& name);
  // The frame `profiler` just ended on client `pid`, with its counters.
  void add_frame(int pid, const AddonProfiler& profiler, std::vector<Counter> counters);

  // The trace-event JSON: {"traceEvents": [...], "displayTimeUnit": "ms", "otherData": {...}}.
  nlohmann::json to_json() const;

  struct Stats {
    std::uint64_t frames_seen = 0;
    std::uint64_t frames_kept = 0;
    std::uint64_t events = 0;
    std::uint64_t stride = 1;
    std::uint64_t dropped_calls = 0;  // beyond the per-frame cap, in kept frames
  };
  Stats stats() const;

 private:
  struct Event {
    char phase;  // 'X' complete, 'C' counter
    double ts_us;
    double dur_us;
    std::string name;
    std::string category;
    nlohmann::json args;
  };
  struct FrameGroup {
    int pid;
    std::uint64_t frame;
    double ms;
    std::size_t dropped_calls;
    std::vector<Event> events;
  };
  double micros(Clock::time_point t) const;
  void resample();

  Options options_;
  Clock::time_point origin_;
  std::vector<std::pair<int, std::string>> clients_;
  std::vector<FrameGroup> sampled_;
  std::size_t sampled_events_ = 0;
  std::uint64_t stride_ = 1;
  std::vector<FrameGroup> slowest_;  // a min-heap on ms
  std::uint64_t frames_seen_ = 0;
};

}  // namespace tally::cli
