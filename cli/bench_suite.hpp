// The benchmarks of `tally bench`: what each one is called, its options and small defaults for
// `tally bench all`, and how it runs; cli/bench.cpp lists, picks and runs them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli/arguments.hpp"
#include "cli/bench_harness.hpp"

namespace tally::cli {

struct BenchDef {
  std::string name;
  std::string usage;    // its own options, for the listing
  std::string summary;  // one line
  BenchSettings defaults;
  std::vector<std::string> options;  // beyond bench_common_options()
  std::vector<std::string> small;    // the arguments `tally bench all` gives it
  // Measures; `a` holds the command line, `s` the parsed common settings.
  std::function<BenchResult(const Arguments& a, const BenchSettings& s)> run;
  // Prints the summary; print_bench_table() when empty.
  std::function<void(const BenchResult&)> print;
};

BenchDef ledger_bench();
BenchDef replay_bench();
BenchDef sync_bench();
BenchDef profiler_bench();

}  // namespace tally::cli
