// Replay metrics per ledger: latency histograms, an events/s window, counters and their JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

namespace tally {

// Latency histogram in ms, HDR-style: each power of two split into kSubBuckets linear buckets,
// so a reported quantile is within 1/64 (1.6%) of the true value from 61 ns (2^-14 ms) to
// 131 s (2^17 ms). Below that range the error is at most 61 ns; above it, quantiles report
// the exact maximum. Quantiles are nearest-rank (the smallest recorded value with at least
// q * count values at or below it) and are clamped to the exact min and max, which are also
// what q = 0 and q = 1 report.
class Histogram {
 public:
  static constexpr int kSubBuckets = 32;
  // frexp() exponents: octaves run from [2^-14, 2^-13) ms (exponent -13) to [2^16, 2^17) ms.
  static constexpr int kMinExponent = -13;
  static constexpr int kMaxExponent = 18;  // one past the last octave's

  Histogram();

  // Throws std::invalid_argument for a negative or non-finite value.
  void record(double ms);
  void merge(const Histogram& other);
  void reset();

  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double mean() const { return count_ ? sum_ / double(count_) : 0; }
  double min() const { return count_ ? min_ : 0; }
  double max() const { return count_ ? max_ : 0; }
  // q in [0, 1] (std::invalid_argument otherwise); 0 when empty.
  double quantile(double q) const;

  // {"count", "mean", "p50", "p95", "p99", "max"}
  nlohmann::json to_json() const;

 private:
  std::vector<std::uint64_t> counts_;  // [underflow, octave buckets..., overflow]
  std::uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
};

// Events per second over a sliding window of the frame clock. Until a full window has passed
// since the first recorded step began, the rate is over the time since then.
class RateWindow {
 public:
  explicit RateWindow(double window_seconds = 1.0);  // > 0 and finite

  // `events` applied by a step that ended at `now_seconds` and took `duration_seconds`. Times
  // must not go backwards (std::invalid_argument).
  void record(std::uint64_t events, double now_seconds, double duration_seconds);
  double per_second(double now_seconds) const;

 private:
  double window_;
  std::deque<std::pair<double, std::uint64_t>> samples_;  // (time, events), one per time
  std::optional<double> started_;
};

// What a replaying ledger reports. The replay loop feeds it; nothing here reads a clock.
class ReplayMetrics {
 public:
  // A batch of `events` that took `ms`, ending at frame time `now_seconds`.
  void record_step(std::uint32_t events, double ms, double now_seconds);
  // A frame's total replay time, for frames that ran replay.
  void record_frame(double ms);
  // A rewind that sent replay `distance` events back (applied before minus resume position).
  void record_rewind(std::uint64_t distance);
  // A checkpoint taken, and what taking it cost.
  void record_checkpoint(double ms);
  void record_checkpoints_dropped(std::size_t count);
  // Entries in the ledger not yet applied.
  void set_lag(std::uint64_t pending_events);

  std::uint64_t events_applied() const { return events_applied_; }
  std::uint64_t steps() const { return step_ms_.count(); }
  std::uint64_t frames_with_replay() const { return frame_ms_.count(); }
  double events_per_second(double now_seconds) const { return rate_.per_second(now_seconds); }
  // Events per second of replay work (step time), the replay loop's raw speed.
  double events_per_replay_second() const;
  std::uint64_t rewinds() const { return rewinds_; }
  std::uint64_t rewound_events_total() const { return rewound_events_total_; }
  std::uint64_t rewind_max_distance() const { return rewind_max_distance_; }
  std::uint64_t checkpoints_taken() const { return checkpoint_ms_.count(); }
  std::uint64_t checkpoints_dropped() const { return checkpoints_dropped_; }
  double checkpoint_ms_total() const { return checkpoint_ms_.sum(); }
  std::uint64_t lag_events() const { return lag_events_; }
  std::uint64_t lag_max_events() const { return lag_max_events_; }
  const Histogram& step_ms() const { return step_ms_; }
  const Histogram& frame_ms() const { return frame_ms_; }
  const Histogram& checkpoint_ms() const { return checkpoint_ms_; }

  nlohmann::json to_json(double now_seconds) const;

 private:
  std::uint64_t events_applied_ = 0;
  std::uint64_t rewinds_ = 0;
  std::uint64_t rewound_events_total_ = 0;
  std::uint64_t rewind_max_distance_ = 0;
  std::uint64_t checkpoints_dropped_ = 0;
  std::uint64_t lag_events_ = 0;
  std::uint64_t lag_max_events_ = 0;
  Histogram step_ms_, frame_ms_, checkpoint_ms_;
  RateWindow rate_;
};

}  // namespace tally
