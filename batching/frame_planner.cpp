// FramePlanner: interval gating, budget-bounded batch sizes and the cost-per-event estimate.
#include "batching/frame_planner.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <stdexcept>
#include <string>

namespace tally {

namespace {

// A batch may plan to use at most this share of the remaining budget: the headroom that keeps
// an event costing up to 1 / kShareOfRemaining times the prediction from overrunning.
constexpr double kShareOfRemaining = 0.5;

}  // namespace

FramePlanner::FramePlanner(ReplayKnobs knobs) : knobs_(knobs) {
  validate(knobs_);
}

void FramePlanner::set_knobs(ReplayKnobs knobs) {
  validate(knobs);
  pending_knobs_ = knobs;
}

bool FramePlanner::begin_frame(double now_seconds) {
  if (!std::isfinite(now_seconds)) {
    throw std::invalid_argument("FramePlanner::begin_frame: time is not finite");
  }
  if (now_ && now_seconds < *now_) {
    throw std::invalid_argument("FramePlanner::begin_frame: time went backwards (" +
                                std::to_string(*now_) + " -> " + std::to_string(now_seconds) + ")");
  }
  if (pending_knobs_) {
    knobs_ = *pending_knobs_;
    pending_knobs_.reset();
  }
  // A due frame that applied nothing means replay went idle: the next step starts a new phase.
  if (due_ && !stepped_this_frame_) last_step_due_.reset();
  now_ = now_seconds;
  due_ = !last_step_due_ || now_seconds >= *last_step_due_ + knobs_.interval_seconds;
  stepped_this_frame_ = false;
  frame_batches_ = 0;
  frame_events_ = 0;
  return due_;
}

std::uint32_t FramePlanner::next_batch(double spent_ms) const {
  if (!due_) return 0;
  const bool first = frame_batches_ == 0;
  if (!knobs_.has_budget()) return first ? knobs_.batch_size : 0;
  if (sample_count_ == 0) return first ? 1 : 0;  // probe: measure before committing to more

  const double remaining = knobs_.frame_budget_ms - spent_ms;
  // Also stops on a NaN spent_ms.
  if (!(remaining >= overhead_ + per_event_)) return first ? 1 : 0;
  if (per_event_ <= 0) return knobs_.batch_size;  // too fast for the caller's clock
  const double fits = std::floor((remaining * kShareOfRemaining - overhead_) / per_event_);
  return static_cast<std::uint32_t>(std::clamp(fits, 1.0, double(knobs_.batch_size)));
}

std::uint64_t FramePlanner::frame_events(double spent_ms) const {
  if (!due_) return 0;
  if (!knobs_.has_budget()) return frame_batches_ == 0 ? knobs_.batch_size : 0;
  if (sample_count_ == 0 || per_event_ <= 0) return next_batch(spent_ms);
  const double remaining = knobs_.frame_budget_ms - spent_ms;
  if (!(remaining > 0)) return next_batch(spent_ms);
  return std::max<std::uint64_t>(next_batch(spent_ms), static_cast<std::uint64_t>(remaining / per_event_));
}

void FramePlanner::record_batch(std::uint32_t events, double elapsed_ms) {
  if (!std::isfinite(elapsed_ms) || elapsed_ms < 0) {
    throw std::invalid_argument(
        "FramePlanner::record_batch: elapsed_ms must be finite and >= 0, got " +
        std::to_string(elapsed_ms));
  }
  ++frame_batches_;
  if (events == 0) return;
  frame_events_ += events;

  // Batches applied outside a due frame (a forced catch-up, say) do not move the schedule.
  if (due_ && !stepped_this_frame_) {
    stepped_this_frame_ = true;
    // Keep the phase of the schedule unless a whole interval was missed.
    const double interval = knobs_.interval_seconds;
    double due = last_step_due_ ? *last_step_due_ + interval : *now_;
    if (*now_ - due >= interval) due = *now_;
    last_step_due_ = due;
  }

  samples_[sample_next_] = {double(events), elapsed_ms};
  sample_next_ = (sample_next_ + 1) % kCostWindow;
  sample_count_ = std::min(sample_count_ + 1, kCostWindow);
  fit_cost_model();
}

void FramePlanner::fit_cost_model() {
  // Weighted least squares with weights 1/events: a batch's time varies about as much as its
  // event count, so big batches, which say little about the overhead, count less.
  const std::span<const Sample> window(samples_.data(), sample_count_);
  double weight = 0, mean_events = 0, mean_ms = 0, fewest = window[0].events, most = fewest;
  double cheapest = window[0].ms;
  for (const Sample& s : window) {
    weight += 1 / s.events;
    mean_events += 1;  // (1 / events) * events
    mean_ms += s.ms / s.events;
    fewest = std::min(fewest, s.events);
    most = std::max(most, s.events);
    cheapest = std::min(cheapest, s.ms);
  }
  mean_events /= weight;
  mean_ms /= weight;
  // The overhead is only identifiable from batches of clearly different sizes; otherwise the
  // last fit stands. Noise can push the fit outside [0, cheapest batch]: clamp it there.
  if (most >= 2 * fewest) {
    double covariance = 0, variance = 0;
    for (const Sample& s : window) {
      covariance += (s.events - mean_events) * (s.ms - mean_ms) / s.events;
      variance += (s.events - mean_events) * (s.events - mean_events) / s.events;
    }
    overhead_ = mean_ms - covariance / variance * mean_events;
  }
  overhead_ = std::clamp(overhead_, 0.0, cheapest);
  per_event_ = 0;
  for (const Sample& s : window) per_event_ = std::max(per_event_, (s.ms - overhead_) / s.events);
}

std::optional<double> FramePlanner::predicted_ms_per_event() const {
  if (sample_count_ == 0) return std::nullopt;
  return per_event_;
}

std::optional<double> FramePlanner::predicted_batch_ms(std::uint32_t events) const {
  if (sample_count_ == 0) return std::nullopt;
  return overhead_ + events * per_event_;
}

}  // namespace tally
