// Heat maps of a knob sweep: one panel per budget, batch size across, interval down, a cell's
// colour from green (fast, cheap) to red on a log scale shared by the panels.
#include "cli/sweep_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "cli/report_html.hpp"

namespace tally::cli {

namespace {

using html::escape;
using html::num;

constexpr double kCellWidth = 96, kCellHeight = 34, kLabelWidth = 70, kPanelGap = 28, kTop = 48,
                 kBottom = 40;

// A knob's value as the user writes it: 0.5, 2, 0.25.
std::string knob_value(double v) {
  char out[32];
  std::snprintf(out, sizeof out, "%g", v);
  return out;
}

std::string budget_name(double budget) { return budget > 0 ? "budget " + knob_value(budget) + " ms" : "no budget"; }

// Green, yellow, red from t = 0 to 1.
std::string color(double t) {
  const double stops[3][3] = {{26, 152, 80}, {254, 224, 139}, {215, 48, 39}};
  t = std::clamp(t, 0.0, 1.0) * 2;
  const int i = t >= 1 ? 1 : 0;
  const double f = t - i;
  char out[8];
  std::snprintf(out, sizeof out, "#%02x%02x%02x", static_cast<int>(stops[i][0] + f * (stops[i + 1][0] - stops[i][0])),
                static_cast<int>(stops[i][1] + f * (stops[i + 1][1] - stops[i][1])),
                static_cast<int>(stops[i][2] + f * (stops[i + 1][2] - stops[i][2])));
  return out;
}

// Where a value sits between lo and hi on a log scale (linear when lo is not positive).
double position(double v, double lo, double hi) {
  if (hi <= lo) return 0;
  if (lo > 0) return std::log(v / lo) / std::log(hi / lo);
  return (v - lo) / (hi - lo);
}

const nlohmann::json* find_row(const nlohmann::json& sweep, double batch, double interval, double budget) {
  for (const auto& r : sweep["rows"]) {
    if (r["role"] == "grid" && r["batch"].get<double>() == batch && r["interval"].get<double>() == interval &&
        r["budget"].get<double>() == budget)
      return &r;
  }
  return nullptr;
}

// One heat map of `key` (a field of the rows): a panel per budget.
std::string heat_map(const nlohmann::json& sweep, const std::string& id, const std::string& title,
                     const std::string& key, const std::string& unit) {
  const auto& axes = sweep["axes"];
  const auto& batches = axes["batch"];
  const auto& intervals = axes["interval"];
  const auto& budgets = axes["budget"];
  double lo = INFINITY, hi = 0;
  for (const auto& r : sweep["rows"]) {
    if (r["role"] != "grid") continue;
    lo = std::min(lo, r[key].get<double>());
    hi = std::max(hi, r[key].get<double>());
  }
  const double panel = kLabelWidth + kCellWidth * static_cast<double>(batches.size());
  const double width = std::max(520.0, (panel + kPanelGap) * static_cast<double>(budgets.size()));
  const double height = kTop + kCellHeight * static_cast<double>(intervals.size()) + kBottom;
  std::string out = "<svg id=\"" + id + "\" viewBox=\"0 0 " + num(width, 0) + " " + num(height, 0) + "\" style=\"max-width:" +
                    num(width, 0) + "px\" width=\"100%\" role=\"img\" aria-label=\"" + escape(title) + "\">\n<text class=\"title\" x=\"0\" y=\"14\">" +
                    escape(title) + " (" + escape(unit) + "; green " + num(lo, 3) + ", red " + num(hi, 3) + ")</text>\n";
  const std::string best = sweep["fastest_within_budget"].is_string() ? sweep["fastest_within_budget"].get<std::string>() : "";
  for (std::size_t p = 0; p < budgets.size(); ++p) {
    const double x0 = static_cast<double>(p) * (panel + kPanelGap);
    const double budget = budgets[p].get<double>();
    out += "<text class=\"title\" x=\"" + num(x0 + kLabelWidth, 1) + "\" y=\"36\">" + budget_name(budget) + "</text>\n";
    for (std::size_t yi = 0; yi < intervals.size(); ++yi) {
      const double y = kTop + kCellHeight * static_cast<double>(yi);
      out += "<text class=\"tick\" x=\"" + num(x0 + kLabelWidth - 6, 1) + "\" y=\"" + num(y + kCellHeight / 2 + 4, 1) +
             "\" text-anchor=\"end\">" + knob_value(intervals[yi].get<double>()) + " s</text>\n";
      for (std::size_t xi = 0; xi < batches.size(); ++xi) {
        const nlohmann::json* r = find_row(sweep, batches[xi].get<double>(), intervals[yi].get<double>(), budget);
        if (r == nullptr) continue;
        const double v = (*r)[key].get<double>();
        const double x = x0 + kLabelWidth + kCellWidth * static_cast<double>(xi);
        const bool over = !(*r)["within_budget"].get<bool>();
        const bool is_best = (*r)["label"] == best;
        out += "<rect class=\"cell\" x=\"" + num(x + 1, 1) + "\" y=\"" + num(y + 1, 1) + "\" width=\"" +
               num(kCellWidth - 2, 1) + "\" height=\"" + num(kCellHeight - 2, 1) + "\" fill=\"" + color(position(v, lo, hi)) +
               "\" stroke=\"" + (is_best ? "#000" : over && key == "worst_frame_ms" ? "#b00" : "none") +
               "\" stroke-width=\"" + (is_best ? "3" : "2") + "\" data-knobs=\"" + escape((*r)["knobs"].get<std::string>()) +
               "\" data-value=\"" + num(v, 6) + "\"><title>" + escape((*r)["knobs"].get<std::string>()) + ": " + num(v, 4) +
               " " + escape(unit) + "</title></rect>\n";
        std::string text = ((*r)["caught_up"].get<bool>() || key != "catch_up_s" ? "" : "~") + num(v, v >= 100 ? 0 : v >= 1 ? 2 : 3);
        if (over && key == "worst_frame_ms") text += " !";
        out += "<text class=\"tick\" x=\"" + num(x + kCellWidth / 2, 1) + "\" y=\"" + num(y + kCellHeight / 2 + 4, 1) +
               "\" text-anchor=\"middle\">" + text + "</text>\n";
      }
    }
    for (std::size_t xi = 0; xi < batches.size(); ++xi) {
      out += "<text class=\"tick\" x=\"" + num(x0 + kLabelWidth + kCellWidth * (static_cast<double>(xi) + 0.5), 1) + "\" y=\"" +
             num(height - kBottom + 16, 1) + "\" text-anchor=\"middle\">" + std::to_string(batches[xi].get<unsigned>()) + "</text>\n";
    }
    out += "<text class=\"unit\" x=\"" + num(x0 + kLabelWidth, 1) + "\" y=\"" + num(height - 6, 1) +
           "\">batch size →   interval ↓</text>\n";
  }
  return out + "</svg>\n";
}

std::string rows_table(const nlohmann::json& sweep) {
  std::string out = "<table>\n<tr><th>setting</th><th>catch-up (game s)</th><th>worst frame, CPU (ms)</th>"
                    "<th>mean frame, CPU (ms)</th><th>worst replay, wall clock (ms)</th></tr>\n";
  for (const auto& r : sweep["rows"]) {
    out += std::string(r["role"] == "grid" ? "<tr>" : "<tr class=\"total\">") + "<td>" + escape(r["label"].get<std::string>()) +
           "</td><td>" + (r["caught_up"].get<bool>() ? "" : "~") + num(r["catch_up_s"].get<double>(), 3) + "</td><td>" +
           num(r["worst_frame_ms"].get<double>(), 3) + (r["within_budget"].get<bool>() ? "" : " !") + "</td><td>" +
           num(r["mean_frame_ms"].get<double>(), 4) + "</td><td>" + num(r["worst_replay_wall_ms"].get<double>(), 3) +
           "</td></tr>\n";
  }
  return out + "</table>\n";
}

}  // namespace

std::string render_sweep_html(const nlohmann::json& sweep) {
  const auto& rec = sweep["recommendation"];
  const double budget = sweep["frame_budget_ms"].get<double>();
  std::string out = html::page_start("Tally replay knob sweep", "svg .cell{shape-rendering:crispEdges}");
  out += "<table class=\"figures\">";
  auto figure = [&](const std::string& name, const std::string& value) {
    out += "<tr><td>" + name + "</td><td>" + value + "</td></tr>";
  };
  figure("workload", std::to_string(sweep["entries"].get<std::size_t>()) + " DKP awards caught up at " +
                         num(sweep["fps"].get<double>(), 0) + " FPS, replay budget " + num(budget, 2) + " ms per frame");
  figure("measured cost", num(rec["ns_per_event"].get<double>(), 1) + " ns of CPU per event in frames → " +
                              num(rec["events_per_frame"].get<double>(), 0) + " events per frame");
  figure("recommended", escape(rec["knobs"].get<std::string>()) + ": expected catch-up " +
                            num(rec["expected_catch_up_s"].get<double>(), 3) + " s (reference knobs " +
                            num(rec["reference_catch_up_s"].get<double>(), 0) + " s)");
  figure("fastest within budget", sweep["fastest_within_budget"].is_string()
                                      ? escape(sweep["fastest_within_budget"].get<std::string>()) + " (outlined in black)"
                                      : "none of the grid");
  out += "</table>\n<h2>Catch-up time</h2>\n";
  out += heat_map(sweep, "heatmap-catch-up", "Catch-up time in game seconds", "catch_up_s", "game s");
  out += "<h2>Worst frame</h2>\n";
  out += heat_map(sweep, "heatmap-worst-frame", "Worst frame in CPU time, red outline: over the " + num(budget, 2) + " ms budget",
                  "worst_frame_ms", "ms");
  out += "<h2>Every setting</h2>\n" + rows_table(sweep);
  out += "<p>Frames in the client's CPU time (thread clock), so other processes on the machine do not count; the "
         "wall-clock column shows what they added. ~ extrapolated from the rate over the first " + num(sweep["max_game_seconds"].get<double>(), 0) +
         " game seconds; ! worst frame over the budget.</p>\n";
  return out + html::page_end("sweep", sweep);
}

}  // namespace tally::cli
