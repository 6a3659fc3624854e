// Per-frame replay decisions: whether a step is due and how many events each batch may take.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "batching/replay_knobs.hpp"

namespace tally {

// One planner per replaying ledger, driven by the replay loop once per frame:
//
//   if (planner.begin_frame(now)) {
//     while (auto n = planner.next_batch(ms_since_frame_start)) {
//       applied = apply up to n events;
//       planner.record_batch(applied, batch_ms);  // monotonic, since the last batch ended
//       if (applied < n) break;                  // caught up
//     }
//   }
//
// The cost model. A batch of n events is predicted to take overhead + n * per_event: the
// overhead (the loop's own work per batch: calls, clock reads, fetching the batch) is fitted
// by weighted least squares over the last kCostWindow batches whenever their sizes differ enough,
// and per_event is the highest (elapsed - overhead) / events among those batches. Taking the
// highest, not the mean, makes the prediction pessimistic; that is cheap, see below.
//
// The budget guarantee. A batch is planned to take at most half of the budget that remains,
// and a frame stops when the remainder is below one predicted one-event batch. So as long as
// no batch costs more than twice its prediction (every event within 2x of per_event), a
// frame's replay time stays within budget + the cost of its last event, and the budget left
// unused is at most one predicted one-event batch: overestimating costs only extra, smaller
// batches. A cost that jumps by more than 2x between measurements can overrun the batch in
// flight; the next batch is planned with the new cost.
//
// Starvation. The first batch of a due frame always gets at least one event, even when that
// event is predicted to cost more than the whole budget (or the caller already spent the
// budget on something else), so replay progresses by at least one event per due frame.
//
// Without a budget: one batch of batch_size per due step, as in the reference design.
class FramePlanner {
 public:
  // How many recent batches the cost prediction looks at.
  static constexpr std::size_t kCostWindow = 16;

  explicit FramePlanner(ReplayKnobs knobs = {});  // validated: throws std::invalid_argument

  // Validated now; takes effect at the next begin_frame(). The cost estimate is kept.
  void set_knobs(ReplayKnobs knobs);
  // The knobs in force (not a pending set_knobs()).
  const ReplayKnobs& knobs() const { return knobs_; }
  // The knobs as last set: pending ones if set_knobs() was called since the last frame.
  const ReplayKnobs& requested_knobs() const { return pending_knobs_ ? *pending_knobs_ : knobs_; }

  // Starts a frame at `now_seconds` on the host's monotonic frame clock. Returns whether a step
  // is due: always with interval 0; otherwise when the interval has elapsed since the last
  // step that applied something. While replay is busy, steps keep their phase (due at t0,
  // t0 + interval, ... and run at the first frame at or after that) however the frames fall,
  // so replay runs at exactly batch_size per interval. The phase restarts at the next step
  // that applies something after a due frame that applied nothing (replay was idle), and
  // after a stall longer than an interval, instead of catching up with a burst. Throws
  // std::invalid_argument if the time is not finite or goes backwards.
  bool begin_frame(double now_seconds);

  // How many events the next batch may take, given `spent_ms` of replay time already used in
  // this frame (measured by the caller from the frame's start, so it includes the loop's own
  // overhead); 0 = stop for this frame. Always 0 when the frame is not due. With a budget and
  // no measurement yet, 1 (a probe).
  std::uint32_t next_batch(double spent_ms) const;

  // The most events the rest of this frame's replay may apply after `spent_ms`: what the
  // remaining budget holds at the predicted cost (the batch size without a budget; 1 before a
  // measurement; 0 when the frame is not due). For work prepared ahead of the batches.
  std::uint64_t frame_events(double spent_ms) const;

  // Reports a finished batch: `events` applied (fewer than planned when replay caught up) in
  // `elapsed_ms`, best measured from the end of the previous batch (or the frame's start) so
  // that the loop's overhead between batches is part of the model. A batch of 0 events
  // (nothing pending) leaves the estimate and schedule alone. Throws std::invalid_argument for
  // a negative or non-finite time.
  void record_batch(std::uint32_t events, double elapsed_ms);

  // The cost model, or nothing before the first measured batch.
  std::optional<double> predicted_ms_per_event() const;
  double predicted_batch_overhead_ms() const { return overhead_; }
  std::optional<double> predicted_batch_ms(std::uint32_t events) const;

  // This frame so far (since the last begin_frame()).
  std::uint32_t batches_this_frame() const { return frame_batches_; }
  std::uint64_t events_this_frame() const { return frame_events_; }

 private:
  void fit_cost_model();

  ReplayKnobs knobs_;
  std::optional<ReplayKnobs> pending_knobs_;

  // Schedule: the frame clock, and the due time of the last step that applied something.
  std::optional<double> now_;
  std::optional<double> last_step_due_;
  bool due_ = false;
  bool stepped_this_frame_ = false;

  std::uint32_t frame_batches_ = 0;
  std::uint64_t frame_events_ = 0;

  // The last kCostWindow batches that applied something (a ring), and the model fitted to them.
  struct Sample {
    double events;
    double ms;
  };
  std::array<Sample, kCostWindow> samples_{};
  std::size_t sample_count_ = 0;
  std::size_t sample_next_ = 0;
  double overhead_ = 0;   // ms per batch
  double per_event_ = 0;  // ms per event; both valid when sample_count_ > 0
};

}  // namespace tally
