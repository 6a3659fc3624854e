// Histogram buckets and quantiles, the events/s window, and the metrics' JSON form.
#include "batching/replay_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace tally {

namespace {

constexpr std::size_t kOctaves = Histogram::kMaxExponent - Histogram::kMinExponent;
constexpr std::size_t kBucketCount = kOctaves * Histogram::kSubBuckets + 2;
constexpr std::size_t kOverflow = kBucketCount - 1;
const double kLowest = std::ldexp(0.5, Histogram::kMinExponent);   // first octave's start
const double kHighest = std::ldexp(0.5, Histogram::kMaxExponent);  // past the last octave

std::size_t bucket_of(double ms) {
  if (ms < kLowest) return 0;
  if (ms >= kHighest) return kOverflow;
  int exponent = 0;
  const double mantissa = std::frexp(ms, &exponent);  // in [0.5, 1)
  const auto sub = static_cast<std::size_t>((mantissa - 0.5) * 2 * Histogram::kSubBuckets);
  return 1 + std::size_t(exponent - Histogram::kMinExponent) * Histogram::kSubBuckets + sub;
}

// The middle of a bucket below the overflow one.
double bucket_middle(std::size_t bucket) {
  if (bucket == 0) return kLowest / 2;
  const std::size_t octave = (bucket - 1) / Histogram::kSubBuckets;
  const std::size_t sub = (bucket - 1) % Histogram::kSubBuckets;
  const double mantissa = 0.5 + (double(sub) + 0.5) / (2 * Histogram::kSubBuckets);
  return std::ldexp(mantissa, static_cast<int>(octave) + Histogram::kMinExponent);
}

void check_ms(const char* what, double ms) {
  if (!std::isfinite(ms) || ms < 0) {
    throw std::invalid_argument(std::string(what) + ": ms must be finite and >= 0, got " +
                                std::to_string(ms));
  }
}

}  // namespace

Histogram::Histogram() : counts_(kBucketCount) {}

void Histogram::record(double ms) {
  check_ms("Histogram::record", ms);
  ++counts_[bucket_of(ms)];
  min_ = count_ ? std::min(min_, ms) : ms;
  max_ = count_ ? std::max(max_, ms) : ms;
  ++count_;
  sum_ += ms;
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = count_ ? std::max(max_, other.max_) : other.max_;
  count_ += other.count_;
  sum_ += other.sum_;
}

void Histogram::reset() {
  *this = Histogram();
}

double Histogram::quantile(double q) const {
  if (!(q >= 0 && q <= 1)) {
    throw std::invalid_argument("Histogram::quantile: q must be in [0, 1], got " +
                                std::to_string(q));
  }
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * double(count_)));
  if (rank <= 1) return min_;  // the ends are known exactly
  if (rank >= count_) return max_;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kOverflow; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(bucket_middle(i), min_, max_);
  }
  return max_;  // in the overflow bucket
}

nlohmann::json Histogram::to_json() const {
  return {{"count", count_},       {"mean", mean()},        {"p50", quantile(0.5)},
          {"p95", quantile(0.95)}, {"p99", quantile(0.99)}, {"max", max()}};
}

RateWindow::RateWindow(double window_seconds) : window_(window_seconds) {
  if (!std::isfinite(window_seconds) || window_seconds <= 0) {
    throw std::invalid_argument("RateWindow: window_seconds must be finite and > 0, got " +
                                std::to_string(window_seconds));
  }
}

void RateWindow::record(std::uint64_t events, double now_seconds, double duration_seconds) {
  if (!std::isfinite(now_seconds) || (!samples_.empty() && now_seconds < samples_.back().first)) {
    throw std::invalid_argument("RateWindow::record: time is not finite or went backwards");
  }
  if (!started_) started_ = now_seconds - std::max(0.0, duration_seconds);
  // Batches of one frame share its time: one sample each, so memory follows the frame rate.
  if (!samples_.empty() && samples_.back().first == now_seconds) {
    samples_.back().second += events;
  } else {
    samples_.emplace_back(now_seconds, events);
  }
  while (samples_.front().first <= now_seconds - window_) samples_.pop_front();
}

double RateWindow::per_second(double now_seconds) const {
  if (!started_) return 0;
  const double span = std::min(window_, now_seconds - *started_);
  if (!(span > 0)) return 0;
  std::uint64_t events = 0;
  for (const auto& [time, n] : samples_) {
    if (time > now_seconds - window_ && time <= now_seconds) events += n;
  }
  return double(events) / span;
}

void ReplayMetrics::record_step(std::uint32_t events, double ms, double now_seconds) {
  check_ms("ReplayMetrics::record_step", ms);
  step_ms_.record(ms);
  events_applied_ += events;
  rate_.record(events, now_seconds, ms / 1000);
}

void ReplayMetrics::record_frame(double ms) {
  frame_ms_.record(ms);
}

void ReplayMetrics::record_rewind(std::uint64_t distance) {
  ++rewinds_;
  rewound_events_total_ += distance;
  rewind_max_distance_ = std::max(rewind_max_distance_, distance);
}

void ReplayMetrics::record_checkpoint(double ms) {
  checkpoint_ms_.record(ms);
}

void ReplayMetrics::record_checkpoints_dropped(std::size_t count) {
  checkpoints_dropped_ += count;
}

void ReplayMetrics::set_lag(std::uint64_t pending_events) {
  lag_events_ = pending_events;
  lag_max_events_ = std::max(lag_max_events_, pending_events);
}

double ReplayMetrics::events_per_replay_second() const {
  const double seconds = step_ms_.sum() / 1000;
  return seconds > 0 ? double(events_applied_) / seconds : 0;
}

nlohmann::json ReplayMetrics::to_json(double now_seconds) const {
  return {
      {"events_applied", events_applied_},
      {"events_per_second", events_per_second(now_seconds)},
      {"events_per_replay_second", events_per_replay_second()},
      {"steps", steps()},
      {"frames_with_replay", frames_with_replay()},
      {"step_ms", step_ms_.to_json()},
      {"frame_ms", frame_ms_.to_json()},
      {"rewinds",
       {{"count", rewinds_},
        {"events_total", rewound_events_total_},
        {"max_distance", rewind_max_distance_}}},
      {"checkpoints",
       {{"taken", checkpoints_taken()},
        {"dropped", checkpoints_dropped_},
        {"ms_total", checkpoint_ms_total()},
        {"ms", checkpoint_ms_.to_json()}}},
      {"lag_events", lag_events_},
      {"lag_max_events", lag_max_events_},
  };
}

}  // namespace tally
