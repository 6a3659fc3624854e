// advise_knobs(): knobs from a measured cost per event; fastest_within_budget() over a sweep.
#include "batching/knob_advisor.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace tally {

namespace {

// The planner plans a batch to take at most this share of the remaining budget.
constexpr double kFirstBatchShare = 0.5;

double two_significant_digits(double v) {
  if (v < 100) return std::floor(v);
  const double unit = std::pow(10.0, std::floor(std::log10(v)) - 1);
  return std::floor(v / unit) * unit;
}

}  // namespace

double unbudgeted_catch_up_seconds(const ReplayKnobs& knobs, std::uint64_t backlog, double fps) {
  const double steps = std::ceil(static_cast<double>(backlog) / knobs.batch_size);
  const double step_seconds = std::max(knobs.interval_seconds, 1 / fps);
  return steps * step_seconds;
}

KnobAdvice advise_knobs(double ns_per_event, std::uint64_t backlog, const KnobTargets& targets) {
  if (!std::isfinite(ns_per_event) || ns_per_event <= 0)
    throw std::invalid_argument("advise_knobs: the cost per event must be a positive number of ns, got " +
                                std::to_string(ns_per_event));
  if (!std::isfinite(targets.fps) || targets.fps <= 0 || targets.fps > 1000)
    throw std::invalid_argument("advise_knobs: fps must be in (0, 1000], got " + std::to_string(targets.fps));
  KnobAdvice a;
  a.frame_ms = 1000 / targets.fps;
  const double most = std::min(a.frame_ms, kMaxFrameBudgetMs);
  if (!std::isfinite(targets.frame_budget_ms) || targets.frame_budget_ms <= 0 ||
      targets.frame_budget_ms > most)
    throw std::invalid_argument("advise_knobs: the frame budget must be in (0, " + std::to_string(most) +
                                "] ms (a frame at " + std::to_string(targets.fps) + " FPS), got " +
                                std::to_string(targets.frame_budget_ms));
  const double budget = targets.frame_budget_ms * (1 - kBudgetHeadroom);
  a.events_per_frame = std::max(1.0, std::floor(budget * 1e6 / ns_per_event));
  a.events_per_second = a.events_per_frame * targets.fps;
  a.catch_up_seconds = std::ceil(static_cast<double>(backlog) / a.events_per_frame) / targets.fps;
  const double batch = two_significant_digits(a.events_per_frame * kFirstBatchShare);
  a.knobs = {static_cast<std::uint32_t>(std::clamp(batch, 1.0, double(kMaxBatchSize))), 0, budget};
  a.reference_catch_up_seconds = unbudgeted_catch_up_seconds(ReplayKnobs::reference(), backlog, targets.fps);
  return a;
}

std::optional<std::size_t> fastest_within_budget(std::span<const KnobTrial> trials,
                                                 double frame_budget_ms) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const KnobTrial& t = trials[i];
    if (!(t.worst_frame_ms <= frame_budget_ms)) continue;
    if (!best || t.catch_up_seconds < trials[*best].catch_up_seconds ||
        (t.catch_up_seconds == trials[*best].catch_up_seconds &&
         t.worst_frame_ms < trials[*best].worst_frame_ms))
      best = i;
  }
  return best;
}

}  // namespace tally
