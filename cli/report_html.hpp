// What tally's self-contained HTML reports share (report.html of tally profile, the knob
// sweep's page): escaping, number formatting, the palette, the page's head with its style,
// and the figures embedded as JSON at the end. No script, nothing loaded from elsewhere.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tally::cli::html {

inline constexpr const char* kPalette[] = {"#3366cc", "#dc3912", "#ff9900", "#109618",
                                           "#990099", "#0099c6", "#dd4477", "#8c564b"};

std::string escape(std::string_view text);
// `v` with `decimals` digits after the point.
std::string num(double v, int decimals = 2);

// <!DOCTYPE html> up to and including <h1>title</h1>, with the shared style plus `extra_style`.
std::string page_start(const std::string& title, std::string_view extra_style = {});
// `data` as <script type="application/json" id="`id`"> (with "</" escaped), then the end.
std::string page_end(const std::string& id, const nlohmann::json& data);

}  // namespace tally::cli::html
