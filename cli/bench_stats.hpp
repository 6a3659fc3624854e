// Summaries of a benchmark figure's runs: median, min and max.
#pragma once

#include <cstddef>
#include <vector>

namespace tally::cli {

struct Summary {
  std::size_t runs = 0;
  double median = 0;  // the mean of the two middle values for an even count
  double min = 0;
  double max = 0;
};

// All zero for no samples.
Summary summarize(std::vector<double> samples);

}  // namespace tally::cli
