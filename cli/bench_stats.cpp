// Median, min and max of a figure's samples.
#include "cli/bench_stats.hpp"

#include <algorithm>

namespace tally::cli {

Summary summarize(std::vector<double> samples) {
  Summary s;
  s.runs = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  s.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  s.min = samples.front();
  s.max = samples.back();
  return s;
}

}  // namespace tally::cli
