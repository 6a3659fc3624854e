// The harness of every `tally bench`: common options, uncounted warm-up runs and counted runs,
// figures summarized as median and min-max, a progress bar on a terminal, the summary table
// and the JSON document (schema in docs/profiling.md, "Benchmarks").
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/arguments.hpp"
#include "cli/bench_stats.hpp"

namespace tally::cli {

inline constexpr const char* kBenchSchema = "tally-bench/1";

struct BenchSettings {
  int runs = 3;             // counted runs
  int warmup = 1;           // runs before them whose figures are dropped
  std::uint32_t seed = 42;  // every workload is drawn from it
};

// Options every bench takes: --runs, --warmup, --seed and --json.
const std::vector<std::string>& bench_common_options();
// --runs, --warmup and --seed over a bench's defaults.
BenchSettings parse_bench_settings(const Arguments& a, BenchSettings defaults);

struct BenchFigure {
  std::string name;
  std::string unit;
  std::vector<double> samples;  // one per counted run
};

struct BenchResult {
  std::string bench;
  nlohmann::json parameters = nlohmann::json::object();
  BenchSettings settings;
  std::vector<BenchFigure> figures;  // in the order first recorded
  nlohmann::json details;            // what a bench adds beyond figures (the sweep), or null

  void add(const std::string& name, const std::string& unit, double value);
  // Throws std::out_of_range for a figure never recorded.
  Summary summary(const std::string& name) const;
  nlohmann::json to_json() const;
};

// The summary table: one line per figure with its median, min and max.
void print_bench_table(const BenchResult& result, std::FILE* out);
// Writes `json` to `path` (2-space indent); throws std::runtime_error naming the file.
void write_bench_json(const std::string& path, const nlohmann::json& json);

// A progress bar on stderr, drawn once the bench has run for a second and only when stderr is
// a terminal; cleared when done.
class Progress {
 public:
  explicit Progress(int total_steps);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // A step starts: `what` is shown beside the bar.
  void step(const std::string& what);

 private:
  bool tty_;
  int total_;
  int started_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// One run of a bench: what it records is counted unless it is a warm-up.
class Run {
 public:
  Run(BenchResult* counted, Progress& progress, int index, std::string label)
      : counted_(counted), progress_(progress), index_(index), label_(std::move(label)) {}
  int index() const { return index_; }  // from 0, among the warm-up runs or the counted ones
  void record(const std::string& name, const std::string& unit, double value) {
    if (counted_) counted_->add(name, unit, value);
  }
  void step(const std::string& what) { progress_.step(label_ + ": " + what); }

 private:
  BenchResult* counted_;
  Progress& progress_;
  int index_;
  std::string label_;
};

// Runs `one_run` `warmup` times with its figures dropped, then `runs` times into `result`.
void repeat_runs(BenchResult& result, Progress& progress, int warmup, int runs,
                 const std::function<void(Run&)>& one_run);

// Seconds taken by fn.
inline double time_seconds(const std::function<void()>& fn) {
  auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace tally::cli
