// Which replay checkpoints to take and keep: bounded, dense near the applied end, sparse far back.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace tally {

struct CheckpointConfig {
  std::size_t every_events = 50'000;  // take one after this many applied events; 0 = never
  double every_ms = 20;               // ... or after this much replay time in ms; 0 = never
  std::size_t max_checkpoints = 32;   // kept at most, >= 1
};

// Throws std::invalid_argument naming the field and the bad value.
void validate(const CheckpointConfig& config);

// Positions. A checkpoint at position c is the derived state after applying entries [0, c).
// An insert (or a replaced entry, or a newly ignored one) at position p changes entries p
// onward, so exactly the checkpoints with c > p become invalid; c <= p stay valid, c == p
// included, and replay after that change resumes from nearest_at_or_before(p). Position 0,
// the empty state, is always available without a checkpoint: nothing kept = replay from zero.
//
// Spacing. When an add() exceeds max_checkpoints, the policy drops the checkpoint whose
// removal leaves the smallest gap relative to its distance from the newest checkpoint
// (greedily, one at a time; the newest is never dropped). The result is near-geometric
// spacing: gaps of every_events near the applied end, doubling going back. With 32
// checkpoints over 1,000 regular intervals the widest gap is about half its distance from the
// newest, so a rewind replays at most ~1.5x the events after the insert, plus one interval.
//
// Every call that removes checkpoints returns their positions, ascending, so the caller can
// free the stored states.
class CheckpointPolicy {
 public:
  explicit CheckpointPolicy(CheckpointConfig config = {});  // validated

  const CheckpointConfig& config() const { return config_; }
  // Validated; takes effect at once. Returns the checkpoints a smaller maximum drops.
  std::vector<std::size_t> set_config(CheckpointConfig config);

  // Whether to take a checkpoint now that replay has applied entries [0, applied), with
  // `replay_ms_since_last` of replay time spent since the last one was taken. Never at or
  // below the newest kept checkpoint, nor at position 0.
  bool should_checkpoint(std::size_t applied, double replay_ms_since_last) const;

  // Records a checkpoint just taken at `position`, which must be above the newest kept one
  // (std::invalid_argument otherwise). Returns the positions dropped to stay within
  // max_checkpoints.
  std::vector<std::size_t> add(std::size_t position);

  // The newest kept checkpoint at or before `position`; nothing = replay from zero.
  std::optional<std::size_t> nearest_at_or_before(std::size_t position) const;

  // Drops every checkpoint after `position` (c > position) and returns them.
  std::vector<std::size_t> invalidate_after(std::size_t position);

  // Kept positions, ascending.
  const std::vector<std::size_t>& positions() const { return kept_; }
  std::size_t size() const { return kept_.size(); }

 private:
  std::vector<std::size_t> thin();

  CheckpointConfig config_;
  std::vector<std::size_t> kept_;
};

}  // namespace tally
