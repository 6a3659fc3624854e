// report.html: a summary, four SVG plots and the per-addon cost table, from report.json's figures.
#include "cli/profile_report.hpp"

#include "cli/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

namespace tally::cli {

namespace {

using html::escape;
using html::kPalette;
using html::num;

// ---------------------------------------------------------------------------------------------
// Plot helpers

// A round tick step (1, 2 or 5 times a power of ten) giving about `ticks` ticks over `range`.
double tick_step(double range, int ticks) {
  double raw = range / ticks;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (raw <= m * power) return m * power;
  }
  return 10 * power;
}

std::string tick_label(double v, double step) {
  int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
  return num(v, decimals);
}

// ---------------------------------------------------------------------------------------------
// Plots

constexpr double kWidth = 1000, kHeight = 260, kLeft = 64, kRight = 16, kTop = 28, kBottom = 36;

struct Line {
  std::string label;
  std::string color;
  std::vector<std::pair<double, double>> points;
};

struct Marker {  // a labelled rule across the plot at a value of its value axis
  std::string label;
  double value;
  std::string color;
};

// Maps data to the plot area.
struct PlotArea {
  double x0, x1, y0, y1;
  bool log_x = false;
  double x(double v) const {
    double a = log_x ? std::log2(v / x0) / std::log2(x1 / x0) : (v - x0) / (x1 - x0);
    return kLeft + a * (kWidth - kLeft - kRight);
  }
  double y(double v) const {
    return kHeight - kBottom - (v - y0) / (y1 - y0) * (kHeight - kTop - kBottom);
  }
};

std::string svg_open(const std::string& title, const std::string& id) {
  return "<svg id=\"" + id + "\" viewBox=\"0 0 " + num(kWidth, 0) + " " + num(kHeight, 0) +
         "\" width=\"100%\" role=\"img\" aria-label=\"" + escape(title) +
         "\">\n<text class=\"title\" x=\"" + num(kLeft, 0) + "\" y=\"18\">" + escape(title) +
         "</text>\n";
}

// Value axis on the left with grid lines, and the frame of the plot.
std::string y_axis(const PlotArea& f, const std::string& unit) {
  std::string out;
  double step = tick_step(f.y1 - f.y0, 5);
  for (double v = f.y0; v <= f.y1 + step * 1e-9; v += step) {
    out += "<line class=\"grid\" x1=\"" + num(kLeft, 1) + "\" x2=\"" + num(kWidth - kRight, 1) +
           "\" y1=\"" + num(f.y(v), 1) + "\" y2=\"" + num(f.y(v), 1) +
           "\"/><text class=\"tick\" x=\"" + num(kLeft - 6, 1) + "\" y=\"" + num(f.y(v) + 4, 1) +
           "\" text-anchor=\"end\">" + tick_label(v, step) + "</text>\n";
  }
  out += "<text class=\"unit\" x=\"12\" y=\"" + num(kTop + (kHeight - kTop - kBottom) / 2, 1) +
         "\" transform=\"rotate(-90 12 " + num(kTop + (kHeight - kTop - kBottom) / 2, 1) +
         ")\" text-anchor=\"middle\">" + escape(unit) + "</text>\n";
  out += "<rect class=\"box\" x=\"" + num(kLeft, 1) + "\" y=\"" + num(kTop, 1) + "\" width=\"" +
         num(kWidth - kLeft - kRight, 1) + "\" height=\"" + num(kHeight - kTop - kBottom, 1) +
         "\"/>\n";
  return out;
}

std::string x_ticks(const PlotArea& f, const std::string& unit) {
  std::string out;
  auto tick = [&](double v, const std::string& text) {
    out += "<text class=\"tick\" x=\"" + num(f.x(v), 1) + "\" y=\"" +
           num(kHeight - kBottom + 16, 1) + "\" text-anchor=\"middle\">" + text + "</text>\n";
  };
  if (f.log_x) {
    for (double v = std::exp2(std::ceil(std::log2(f.x0))); v <= f.x1; v *= 2)
      tick(v, v < 1 ? num(v, v < 0.1 ? 3 : 2) : num(v, 0));
  } else {
    double step = tick_step(f.x1 - f.x0, 8);
    for (double v = f.x0; v <= f.x1 + step * 1e-9; v += step) tick(v, tick_label(v, step));
  }
  out += "<text class=\"unit\" x=\"" + num(kWidth - kRight, 1) + "\" y=\"" + num(kHeight - 4, 1) +
         "\" text-anchor=\"end\">" + escape(unit) + "</text>\n";
  return out;
}

std::string legend(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out;
  double x = kWidth - kRight;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    x -= 14 + 7.0 * static_cast<double>(it->first.size()) + 18;
    out += "<rect x=\"" + num(x, 1) + "\" y=\"9\" width=\"10\" height=\"10\" fill=\"" + it->second +
           "\"/><text class=\"tick\" x=\"" + num(x + 14, 1) + "\" y=\"18\">" + escape(it->first) +
           "</text>\n";
  }
  return out;
}

std::string horizontal_marker(const PlotArea& f, const Marker& m) {
  return "<line x1=\"" + num(kLeft, 1) + "\" x2=\"" + num(kWidth - kRight, 1) + "\" y1=\"" +
         num(f.y(m.value), 1) + "\" y2=\"" + num(f.y(m.value), 1) + "\" stroke=\"" + m.color +
         "\" stroke-dasharray=\"6 4\"/><text class=\"tick\" x=\"" + num(kWidth - kRight - 4, 1) +
         "\" y=\"" + num(f.y(m.value) - 4, 1) + "\" text-anchor=\"end\" fill=\"" + m.color + "\">" +
         escape(m.label) + "</text>\n";
}

std::string line_chart(const std::string& id, const std::string& title, const std::string& x_unit,
                       const std::string& y_unit, const std::vector<Line>& lines,
                       const std::vector<Marker>& markers) {
  double x_max = 1, y_max = 0;
  for (const Line& l : lines) {
    for (const auto& [x, y] : l.points) {
      x_max = std::max(x_max, x);
      y_max = std::max(y_max, y);
    }
  }
  for (const Marker& m : markers) y_max = std::max(y_max, m.value);
  if (y_max <= 0) y_max = 1;
  PlotArea f{0, x_max, 0, 0, false};
  f.y1 = tick_step(y_max * 1.1, 5) * std::ceil(y_max * 1.1 / tick_step(y_max * 1.1, 5));
  std::string out = svg_open(title, id) + y_axis(f, y_unit) + x_ticks(f, x_unit);
  std::vector<std::pair<std::string, std::string>> keys;
  for (const Line& l : lines) {
    std::string points;
    for (const auto& [x, y] : l.points) points += num(f.x(x), 1) + "," + num(f.y(y), 1) + " ";
    out += "<polyline fill=\"none\" stroke=\"" + l.color + "\" stroke-width=\"1.5\" points=\"" +
           points + "\"/>\n";
    keys.emplace_back(l.label, l.color);
  }
  for (const Marker& m : markers) out += horizontal_marker(f, m);
  return out + legend(keys) + "</svg>\n";
}

std::string histogram_chart(const nlohmann::json& frames) {
  const nlohmann::json& bins = frames["histogram"];
  std::string title = "Frame time distribution (frames per bin, log scale of ms)";
  if (bins.empty()) return svg_open(title, "frame-histogram") + "</svg>\n";
  double lowest = bins.front()["to_ms"].get<double>() / std::exp2(0.25);
  double highest =
      std::max(bins.back()["to_ms"].get<double>(), frames["budget_ms"].get<double>() * 1.2);
  std::uint64_t top = 1;
  for (const auto& b : bins) top = std::max(top, b["count"].get<std::uint64_t>());
  PlotArea f{lowest, highest, 0, 0, true};
  double step = tick_step(static_cast<double>(top) * 1.1, 5);
  f.y1 = step * std::ceil(static_cast<double>(top) * 1.1 / step);
  std::string out =
      svg_open(title, "frame-histogram") + y_axis(f, "frames") + x_ticks(f, "ms per frame");
  for (const auto& b : bins) {
    double from = std::max(b["from_ms"].get<double>(), lowest);
    double x0 = f.x(from), x1 = f.x(b["to_ms"].get<double>());
    auto count = b["count"].get<std::uint64_t>();
    double y = f.y(static_cast<double>(count));
    if (count > 0) y = std::min(y, kHeight - kBottom - 2);  // a lone slow frame stays visible
    out += "<rect fill=\"#3366cc\" x=\"" + num(x0 + 0.5, 1) + "\" y=\"" + num(y, 1) +
           "\" width=\"" + num(std::max(0.5, x1 - x0 - 1), 1) + "\" height=\"" +
           num(kHeight - kBottom - y, 1) + "\"><title>" + num(from, 3) + "-" +
           num(b["to_ms"].get<double>(), 3) + " ms: " + std::to_string(count) +
           " frames</title></rect>\n";
  }
  const std::pair<const char*, const char*> marks[] = {{"p50", "p50_ms"},
                                                       {"p95", "p95_ms"},
                                                       {"p99", "p99_ms"},
                                                       {"max", "max_ms"},
                                                       {"budget", "budget_ms"}};
  int row = 0;
  for (const auto& [label, key] : marks) {
    double v = frames[key].get<double>();
    if (v <= 0) continue;
    std::string color = std::string_view(label) == "budget" ? "#dc3912" : "#333";
    double x = f.x(std::clamp(v, lowest, highest));
    out += "<line x1=\"" + num(x, 1) + "\" x2=\"" + num(x, 1) + "\" y1=\"" + num(kTop, 1) +
           "\" y2=\"" + num(kHeight - kBottom, 1) + "\" stroke=\"" + color +
           "\" stroke-dasharray=\"4 3\"/><text class=\"tick\" x=\"" + num(x + 3, 1) + "\" y=\"" +
           num(kTop + 12 + 12 * (row++ % 4), 1) + "\" fill=\"" + color + "\">" + label + " " +
           num(v, 2) + "</text>\n";
  }
  return out + "</svg>\n";
}

// A stacked bar of an addon's time by kind of work.
std::string work_bar(const nlohmann::json& work_ms, const std::vector<std::string>& kinds) {
  double total = 0;
  for (const auto& k : kinds) total += work_ms[k].get<double>();
  std::string out = "<svg viewBox=\"0 0 160 12\" width=\"160\" height=\"12\">";
  double x = 0;
  for (std::size_t i = 0; i < kinds.size() && total > 0; ++i) {
    double w = 160 * work_ms[kinds[i]].get<double>() / total;
    if (w <= 0) continue;
    out += "<rect x=\"" + num(x, 2) + "\" width=\"" + num(w, 2) + "\" height=\"12\" fill=\"" +
           kPalette[i % std::size(kPalette)] + "\"><title>" + kinds[i] + ": " +
           num(work_ms[kinds[i]].get<double>(), 3) + " ms</title></rect>";
    x += w;
  }
  return out + "</svg>";
}

std::string addon_table(const nlohmann::json& report) {
  std::vector<std::string> kinds;
  for (const auto& [kind, ms] : report["overall"]["work_ms"].items()) kinds.push_back(kind);
  std::string out =
      "<table>\n<tr><th>addon</th><th>mean ms/frame</th><th>recent ms/frame</th><th>p95 "
      "ms</th><th>peak ms</th>"
      "<th>frames &gt; 1 ms</th><th>&gt; 5 ms</th><th>&gt; 10 ms</th><th>calls/frame</th><th>load "
      "ms</th><th>share of frame time</th>"
      "<th>time by kind of work</th></tr>\n";
  auto row = [&](const nlohmann::json& a, bool total) {
    out += std::string(total ? "<tr class=\"total\">" : "<tr>") + "<td>" +
           escape(a["name"].get<std::string>()) + "</td><td>" +
           num(a["mean_ms_per_frame"].get<double>(), 3) + "</td><td>" +
           num(a["recent_ms_per_frame"].get<double>(), 3) + "</td><td>" +
           num(a["p95_ms"].get<double>(), 3) + "</td><td>" + num(a["peak_ms"].get<double>(), 3) +
           "</td><td>" + std::to_string(a["frames_over"]["1ms"].get<std::uint64_t>()) +
           "</td><td>" + std::to_string(a["frames_over"]["5ms"].get<std::uint64_t>()) +
           "</td><td>" + std::to_string(a["frames_over"]["10ms"].get<std::uint64_t>()) +
           "</td><td>" + num(a["calls_per_frame"].get<double>(), 1) + "</td><td>" +
           num(a["load_ms"].get<double>(), 2) + "</td><td>" +
           num(100 * a["share_of_frame_time"].get<double>(), 1) + " %</td><td>" +
           work_bar(a["work_ms"], kinds) + "</td></tr>\n";
  };
  for (const auto& a : report["addons"]) row(a, false);
  row(report["overall"], true);
  out += "</table>\n<p class=\"keys\">";
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    out += "<span><svg width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\" fill=\"" +
           std::string(kPalette[i % std::size(kPalette)]) + "\"/></svg> " + kinds[i] + "</span> ";
  }
  return out + "</p>\n";
}

}  // namespace

std::string render_profile_html(const nlohmann::json& report) {
  const nlohmann::json& session = report["session"];
  const nlohmann::json& frames = report["frames"];
  double budget = frames["budget_ms"].get<double>();
  std::string out = html::page_start("Tally profile") + "<table class=\"figures\">";
  auto figure = [&](const std::string& name, const std::string& value) {
    out += "<tr><td>" + name + "</td><td>" + value + "</td></tr>";
  };
  figure("session", std::to_string(session["clients"].get<std::size_t>()) + " client(s), " +
                        num(session["game_seconds"].get<double>(), 1) + " s of game time at " +
                        num(session["fps"].get<double>(), 0) + " FPS");
  figure("frames", std::to_string(frames["count"].get<std::uint64_t>()) + ", " +
                       std::to_string(frames["over_budget"].get<std::uint64_t>()) + " over the " +
                       num(budget, 2) + " ms budget");
  figure("frame time", "mean " + num(frames["mean_ms"].get<double>(), 3) + " ms, p50 " +
                           num(frames["p50_ms"].get<double>(), 3) + ", p95 " +
                           num(frames["p95_ms"].get<double>(), 3) + ", p99 " +
                           num(frames["p99_ms"].get<double>(), 3) + ", max " +
                           num(frames["max_ms"].get<double>(), 3) + " ms");
  figure("addon code", num(report["overall"]["mean_ms_per_frame"].get<double>(), 3) +
                           " ms per frame, " +
                           num(100 * report["overall"]["share_of_frame_time"].get<double>(), 1) +
                           " % of frame time");
  const nlohmann::json& trace = report["trace"];
  figure("trace.json", std::to_string(trace["frames_kept"].get<std::uint64_t>()) + " of " +
                           std::to_string(trace["frames_seen"].get<std::uint64_t>()) +
                           " frames (1 in " + std::to_string(trace["stride"].get<std::uint64_t>()) +
                           " and the slowest), " +
                           std::to_string(trace["events"].get<std::uint64_t>()) + " events");
  out += "</table>\n";

  out += "<h2>Frame time over time</h2>\n";
  Line mean{"mean", kPalette[0], {}}, worst{"worst frame", kPalette[1], {}};
  double bin = frames["series_bin_seconds"].get<double>();
  for (const auto& p : frames["series"]) {
    double t = p["t"].get<double>() + bin / 2;
    mean.points.emplace_back(t, p["mean_ms"].get<double>());
    worst.points.emplace_back(t, p["max_ms"].get<double>());
  }
  out += line_chart("frame-time", "Frame time per " + num(bin, 2) + " s of game time (all clients)",
                    "game seconds", "ms", {worst, mean},
                    {{"budget " + num(budget, 1) + " ms", budget, "#dc3912"}});

  out += "<h2>Replay</h2>\n";
  std::vector<Line> rates, lags;
  std::size_t color = 0;
  for (const auto& l : report["replay"]) {
    std::string name = l["ledger"].get<std::string>();
    std::string c = kPalette[color++ % std::size(kPalette)];
    Line rate{name, c, {}}, lag{name, c, {}};
    double w = l["series_bin_seconds"].get<double>();
    for (const auto& p : l["series"]) {
      rate.points.emplace_back(p["t"].get<double>() + w / 2, p["events_per_second"].get<double>());
      lag.points.emplace_back(p["t"].get<double>() + w / 2, p["lag"].get<double>());
    }
    rates.push_back(std::move(rate));
    lags.push_back(std::move(lag));
  }
  if (rates.empty()) {
    out += "<p>No ledger was opened.</p>\n";
  } else {
    out += line_chart("replay-rate", "Replay: events applied per second, per client",
                      "game seconds", "events/s", rates, {});
    out +=
        line_chart("replay-lag", "Replay lag: entries not yet applied or committed (worst client)",
                   "game seconds", "entries", lags, {});
  }

  out += "<h2>Frame time distribution</h2>\n" + histogram_chart(frames);
  out += "<h2>Cost per addon (all clients)</h2>\n" + addon_table(report);

  out += html::page_end("report", report);
  return out;
}

}  // namespace tally::cli
