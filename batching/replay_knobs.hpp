// The replay scheduler's knobs (batch size, interval, frame budget), their presets and parsing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tally {

// Accepted ranges; validate() and parse_knobs() enforce them.
inline constexpr std::uint32_t kMaxBatchSize = 1'000'000;
inline constexpr double kMaxIntervalSeconds = 3600;
inline constexpr double kMaxFrameBudgetMs = 1000;

struct ReplayKnobs {
  // Events per batch. With a budget it caps each batch (a frame may run many); without one it
  // is the whole step.
  std::uint32_t batch_size = 500;
  // Seconds between steps (frames that apply something); 0 = every frame.
  double interval_seconds = 0;
  // Most replay time per frame, in ms; 0 = no budget: one batch of batch_size per due step.
  double frame_budget_ms = 2.0;

  bool has_budget() const { return frame_budget_ms > 0; }

  // The reference Lua library's knobs: 50 events every 0.5 s, no budget.
  static ReplayKnobs reference();
  // Tally's default (the member initialisers above): every frame, within 2 ms.
  static ReplayKnobs responsive();

  friend bool operator==(const ReplayKnobs&, const ReplayKnobs&) = default;
};

// Throws std::invalid_argument naming the knob and the bad value, e.g.
// "batch_size must be in 1..1000000, got 0".
void validate(const ReplayKnobs& knobs);

// Parses a CLI string of comma-separated key=value items on top of `base`:
//   batch (or batch_size)       events per batch, 1..1000000
//   interval (interval_seconds) seconds between steps, 0..3600
//   budget (frame_budget_ms)    ms per frame, 0..1000 (0 = no budget)
//   preset                      reference | responsive: replaces `base`, whatever its position
// e.g. "batch=100,interval=0.25,budget=2" or "preset=reference,batch=100". An empty string
// returns `base`. The result is validated; every error is a std::invalid_argument that quotes
// the offending item.
ReplayKnobs parse_knobs(std::string_view text, ReplayKnobs base = {});

// The knobs in parse_knobs() syntax ("batch=500,interval=0,budget=2"); parses back exactly.
std::string to_string(const ReplayKnobs& knobs);

}  // namespace tally
