// The HTML reports' shared text helpers, style and page frame.
#include "cli/report_html.hpp"

#include <cstdio>

namespace tally::cli::html {

namespace {

constexpr const char* kStyle =
    R"(body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
svg .title{font-weight:bold;font-size:13px}svg .tick,svg .unit{font-size:11px;fill:#444}
svg .grid{stroke:#e4e4e4}svg .box{fill:none;stroke:#999}
table{border-collapse:collapse;font-size:13px}
td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}
tr.total td{font-weight:bold;border-top:2px solid #999}
.keys span{margin-right:14px;font-size:12px}.figures td{text-align:left})";

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string num(double v, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
  return buffer;
}

std::string page_start(const std::string& title, std::string_view extra_style) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title) +
         "</title><style>" + kStyle + std::string(extra_style) + "</style></head><body>\n<h1>" +
         escape(title) + "</h1>\n";
}

std::string page_end(const std::string& id, const nlohmann::json& data) {
  std::string text = data.dump();
  for (std::size_t at = text.find("</"); at != std::string::npos; at = text.find("</", at + 3))
    text.replace(at, 2, "<\\/");
  return "<script type=\"application/json\" id=\"" + id + "\">" + text + "</script>\n</body></html>\n";
}

}  // namespace tally::cli::html
