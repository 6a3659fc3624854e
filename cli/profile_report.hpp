// report.html of tally profile: the figures of report.json as one self-contained page, with its
// plots drawn as inline SVG (no script, no stylesheet or font from anywhere else).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace tally::cli {

// The page for a report made by ProfileRecorder::report; the report itself is embedded in it
// as JSON (<script type="application/json" id="report">), so tools can read the figures back.
std::string render_profile_html(const nlohmann::json& report);

}  // namespace tally::cli
