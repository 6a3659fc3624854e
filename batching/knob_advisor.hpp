// Which replay knobs to use, from the measured cost of one event and what a frame may spend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "batching/replay_knobs.hpp"

namespace tally {

// The share of the target frame budget the advice leaves unplanned.
inline constexpr double kBudgetHeadroom = 0.05;

struct KnobTargets {
  double fps = 60;              // frames per second the game must hold
  double frame_budget_ms = 2;   // of each frame, the most replay may take
};

struct KnobAdvice {
  ReplayKnobs knobs;
  double frame_ms = 0;            // 1000 / fps
  double events_per_frame = 0;    // events that fit the knobs' budget at the measured cost (at least 1)
  double events_per_second = 0;   // events_per_frame * fps
  double catch_up_seconds = 0;    // the backlog in whole frames at fps
  double reference_catch_up_seconds = 0;  // the same backlog with ReplayKnobs::reference()
};

// The knobs that catch up with `backlog` events fastest while replay stays within the frame
// budget, given that one event costs `ns_per_event` (measured in frames, loop overhead
// included):
//   budget   = targets.frame_budget_ms less kBudgetHeadroom of it: the planner keeps a frame's
//              replay within its budget plus the last event, and the frame has work of its own;
//   interval = 0: with a budget, waiting between steps only delays catch-up;
//   batch    = what half the budget holds (the planner's own first batch at that cost),
//              rounded down to two significant digits: a cap that bounds a batch of events
//              costlier than measured to about the budget.
// At least one event fits a frame: the planner always applies one per due frame.
// Throws std::invalid_argument for a cost that is not a positive finite number, fps outside
// (0, 1000], or a budget outside (0, min(1000 / fps, kMaxFrameBudgetMs)].
KnobAdvice advise_knobs(double ns_per_event, std::uint64_t backlog, const KnobTargets& targets);

// Game seconds the knobs need for `backlog` events at `fps` by their own arithmetic, for knobs
// without a budget (batch_size per step, a step every max(interval, one frame)).
double unbudgeted_catch_up_seconds(const ReplayKnobs& knobs, std::uint64_t backlog, double fps);

// One measured setting of a sweep.
struct KnobTrial {
  ReplayKnobs knobs;
  double catch_up_seconds = 0;
  double worst_frame_ms = 0;  // the most replay took in one frame
};

// The trial with the fastest catch-up whose worst frame stayed within `frame_budget_ms`
// (ties: the cheaper worst frame, then the earlier trial); nothing when none did.
std::optional<std::size_t> fastest_within_budget(std::span<const KnobTrial> trials,
                                                 double frame_budget_ms);

}  // namespace tally
