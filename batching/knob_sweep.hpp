// A grid of replay knobs to measure: the values tried for each knob, and every combination.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "batching/replay_knobs.hpp"

namespace tally {

inline constexpr std::size_t kMaxSweepSettings = 256;

struct KnobSweep {
  // Each sorted ascending, without repeats; a knob the text left out holds the base's value.
  std::vector<std::uint32_t> batch_sizes;
  std::vector<double> intervals;
  std::vector<double> budgets;

  // Every combination: budget outermost, then interval, then batch size.
  std::vector<ReplayKnobs> settings() const;
};

// Parses knob lists such as "batch=25,50,200;interval=0,0.5;budget=1,2,4". A knob name
// (batch, interval, budget, or their long names of parse_knobs()) starts a list; the values
// after it, separated by commas or semicolons, belong to it, so
// "batch=25,50,interval=0,0.5" works too. Knobs left out take `base`'s value. Every value is
// range-checked as parse_knobs() does. Throws std::invalid_argument naming the item at fault
// (a bad number, an unknown or repeated knob, a value before any knob, an empty list, or more
// than kMaxSweepSettings combinations).
KnobSweep parse_knob_sweep(std::string_view text, const ReplayKnobs& base);

}  // namespace tally
