// The bench harness: settings, figures, the table, the JSON and the progress bar.
#include "cli/bench_harness.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include <unistd.h>

namespace tally::cli {

namespace {

std::string format_value(double v) {
  char buf[64];
  double a = v < 0 ? -v : v;
  if (a >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.3f M", v / 1e6);
  } else if (a >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.2f k", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.3f", v);
  }
  return buf;
}

}  // namespace

const std::vector<std::string>& bench_common_options() {
  static const std::vector<std::string> options = {"runs", "warmup", "seed", "json"};
  return options;
}

BenchSettings parse_bench_settings(const Arguments& a, BenchSettings defaults) {
  BenchSettings s;
  s.runs = static_cast<int>(a.integer("runs", defaults.runs, 1, 100));
  s.warmup = static_cast<int>(a.integer("warmup", defaults.warmup, 0, 10));
  s.seed = static_cast<std::uint32_t>(a.integer("seed", defaults.seed, 0, 0xffffffffLL));
  return s;
}

void BenchResult::add(const std::string& name, const std::string& unit, double value) {
  for (auto& f : figures) {
    if (f.name == name) {
      f.samples.push_back(value);
      return;
    }
  }
  figures.push_back({name, unit, {value}});
}

Summary BenchResult::summary(const std::string& name) const {
  for (const auto& f : figures) {
    if (f.name == name) return summarize(f.samples);
  }
  throw std::out_of_range("bench " + bench + ": no figure '" + name + "'");
}

nlohmann::json BenchResult::to_json() const {
  nlohmann::json j = {{"schema", kBenchSchema},       {"bench", bench},
                      {"parameters", parameters},     {"seed", settings.seed},
                      {"runs", settings.runs},        {"warmup_runs", settings.warmup},
                      {"figures", nlohmann::json::array()}};
  for (const auto& f : figures) {
    Summary s = summarize(f.samples);
    j["figures"].push_back({{"name", f.name}, {"unit", f.unit}, {"median", s.median}, {"min", s.min},
                            {"max", s.max}, {"runs", s.runs}, {"samples", f.samples}});
  }
  if (!details.is_null()) j["details"] = details;
  return j;
}

void print_bench_table(const BenchResult& r, std::FILE* out) {
  std::fprintf(out, "tally bench %s  seed=%u  runs=%d (+%d warm-up)", r.bench.c_str(), r.settings.seed,
               r.settings.runs, r.settings.warmup);
  for (const auto& [k, v] : r.parameters.items()) std::fprintf(out, "  %s=%s", k.c_str(), v.dump().c_str());
  std::fprintf(out, "\n%-58s %13s %13s %13s  %s\n", "figure", "median", "min", "max", "unit");
  for (const auto& f : r.figures) {
    Summary s = summarize(f.samples);
    std::fprintf(out, "%-58s %13s %13s %13s  %s\n", f.name.c_str(), format_value(s.median).c_str(),
                 format_value(s.min).c_str(), format_value(s.max).c_str(), f.unit.c_str());
  }
}

void write_bench_json(const std::string& path, const nlohmann::json& json) {
  std::ofstream out(path);
  out << json.dump(2) << "\n";
  if (!out) throw std::runtime_error("cannot write " + path);
}

Progress::Progress(int total_steps) : tty_(isatty(STDERR_FILENO) == 1), total_(total_steps) {}

Progress::~Progress() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
}

void Progress::step(const std::string& what) {
  ++started_;
  if (!tty_) return;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (elapsed < 1) return;
  constexpr int kWidth = 24;
  int done = std::min(started_ - 1, total_);
  int filled = total_ > 0 ? kWidth * done / total_ : 0;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(kWidth - filled), '.');
  std::fprintf(stderr, "\r\033[K[%s] %d/%d %5.1f s  %.60s", bar.c_str(), done, total_, elapsed, what.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void repeat_runs(BenchResult& result, Progress& progress, int warmup, int runs,
                 const std::function<void(Run&)>& one_run) {
  for (int i = 0; i < warmup; ++i) {
    Run run(nullptr, progress, i, "warm-up " + std::to_string(i + 1) + "/" + std::to_string(warmup));
    one_run(run);
  }
  for (int i = 0; i < runs; ++i) {
    Run run(&result, progress, i, "run " + std::to_string(i + 1) + "/" + std::to_string(runs));
    one_run(run);
  }
}

}  // namespace tally::cli
