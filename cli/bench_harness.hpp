// Benchmark harness: warm-up, repeated runs, medians and min-max, a terminal progress line, and
// JSON output for every `tally bench` command.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

namespace tally::cli {

// One measured figure over several runs.
struct Figure {
  std::string name;
  std::string unit;
  std::vector<double> samples;

  double median() const {
    std::vector<double> s = samples;
    std::sort(s.begin(), s.end());
    std::size_t n = s.size();
    return n == 0 ? 0 : (n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2);
  }
  double min() const { return samples.empty() ? 0 : *std::min_element(samples.begin(), samples.end()); }
  double max() const { return samples.empty() ? 0 : *std::max_element(samples.begin(), samples.end()); }
};

class BenchReport {
 public:
  BenchReport(std::string suite, nlohmann::json parameters)
      : suite_(std::move(suite)), parameters_(std::move(parameters)), tty_(isatty(STDERR_FILENO)) {}

  void add(const std::string& name, const std::string& unit, double value) {
    for (auto& f : figures_) {
      if (f.name == name) {
        f.samples.push_back(value);
        return;
      }
    }
    figures_.push_back({name, unit, {value}});
  }

  // A progress line on a terminal only; quiet when stderr is a pipe or a file.
  void progress(const std::string& what, int done, int total) const {
    if (!tty_) return;
    std::fprintf(stderr, "\r\033[K[%d/%d] %s", done, total, what.c_str());
    if (done == total) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }

  void print() const {
    std::printf("tally bench %s", suite_.c_str());
    for (auto& [k, v] : parameters_.items()) std::printf("  %s=%s", k.c_str(), v.dump().c_str());
    std::printf("\n%-34s %16s %16s %16s  %s\n", "figure", "median", "min", "max", "unit");
    for (const auto& f : figures_) {
      std::printf("%-34s %16s %16s %16s  %s\n", f.name.c_str(), fmt(f.median()).c_str(),
                  fmt(f.min()).c_str(), fmt(f.max()).c_str(), f.unit.c_str());
    }
  }

  nlohmann::json to_json() const {
    nlohmann::json j = {{"suite", suite_}, {"parameters", parameters_}, {"figures", nlohmann::json::array()}};
    for (const auto& f : figures_) {
      j["figures"].push_back({{"name", f.name}, {"unit", f.unit}, {"median", f.median()},
                              {"min", f.min()}, {"max", f.max()}, {"samples", f.samples}});
    }
    return j;
  }

 private:
  static std::string fmt(double v) {
    char buf[64];
    if (v >= 1e6) {
      std::snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
    } else if (v >= 1e4) {
      std::snprintf(buf, sizeof buf, "%.1f k", v / 1e3);
    } else {
      std::snprintf(buf, sizeof buf, "%.3f", v);
    }
    return buf;
  }

  std::string suite_;
  nlohmann::json parameters_;
  bool tty_;
  std::vector<Figure> figures_;
};

// Seconds taken by fn.
inline double time_seconds(const std::function<void()>& fn) {
  auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace tally::cli
