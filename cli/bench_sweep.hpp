// `tally bench replay --sweep GRID`: the catch-up of the award journal under every combination
// of the listed knobs, the reference design's and the recommended knobs; a table, the
// recommendation with its reasoning, and a heat map page (--html).
#pragma once

#include <cstddef>
#include <cstdio>

#include "batching/replay_knobs.hpp"
#include "cli/arguments.hpp"
#include "cli/bench_harness.hpp"

namespace tally::cli {

struct SweepWorkload {
  std::size_t entries;
  double fps;
  double max_game_seconds;  // per catch-up; beyond it the catch-up time is extrapolated
  ReplayKnobs base;         // the value of a knob the grid leaves out
  bool decode_thread = true;  // --decode-thread
};

// Reads --sweep, --frame-budget-ms and --html from `a`. The result's `details` hold the rows,
// the recommendation and the grid (docs/profiling.md, "Picking knobs with a sweep").
BenchResult run_knob_sweep(const Arguments& a, const BenchSettings& settings, const SweepWorkload& w);

// The table and the recommendation, from a result of run_knob_sweep().
void print_knob_sweep(const BenchResult& result, std::FILE* out);

}  // namespace tally::cli
