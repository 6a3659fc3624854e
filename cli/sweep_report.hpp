// The knob sweep's page: heat maps of catch-up time and worst frame over the grid, the table
// and the recommendation, as one self-contained HTML file (inline SVG, no script).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace tally::cli {

// The page for the `details` of a sweep (cli/bench_sweep.cpp), embedded in it as JSON
// (<script type="application/json" id="sweep">).
std::string render_sweep_html(const nlohmann::json& sweep);

}  // namespace tally::cli
