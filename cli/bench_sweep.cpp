// The knob sweep: measures every setting of the grid, then recommends knobs from the measured
// cost per event and checks them with a catch-up of their own.
#include "cli/bench_sweep.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "batching/knob_advisor.hpp"
#include "batching/knob_sweep.hpp"
#include "cli/bench_catchup.hpp"
#include "cli/sweep_report.hpp"
#include "runtime/atomic_file.hpp"

namespace tally::cli {

namespace {

constexpr const char* kCalibration = "calibration: replay cost in frames";

double parse_budget(const Arguments& a, double fps) {
  std::string text = a.text("frame-budget-ms", "2");
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const double frame_ms = 1000 / fps;
  if (text.empty() || used != text.size() || !std::isfinite(v))
    throw UsageError("--frame-budget-ms expects milliseconds, got '" + text + "'");
  if (v <= 0 || v > frame_ms || v > kMaxFrameBudgetMs) {
    char why[160];
    std::snprintf(why, sizeof why, "--frame-budget-ms must be above 0 and at most a frame (%.4g ms at %g FPS), got %s",
                  frame_ms, fps, text.c_str());
    throw UsageError(why);
  }
  return v;
}

KnobSweep parse_grid(const Arguments& a, const ReplayKnobs& base) {
  try {
    return parse_knob_sweep(a.text("sweep", ""), base);
  } catch (const std::invalid_argument& e) {
    const char* what = e.what();
    constexpr const char* prefix = "knob sweep: ";
    if (std::strncmp(what, prefix, std::strlen(prefix)) == 0) what += std::strlen(prefix);
    throw UsageError(std::string("--sweep: ") + what);
  }
}

void record(Run& run, const std::string& label, const CatchUp& c) {
  run.record(label + ": catch-up", "game seconds", c.game_seconds);
  run.record(label + ": caught up within the cap", "0/1", c.done ? 1 : 0);
  run.record(label + ": worst frame (CPU)", "ms", c.worst_frame_ms);
  run.record(label + ": mean frame (CPU)", "ms", c.mean_frame_ms());
  run.record(label + ": worst frame's replay (wall clock)", "ms", c.worst_replay_wall_ms);
}

nlohmann::json row(const BenchResult& r, const std::string& label, const std::string& role,
                   const ReplayKnobs& knobs, double budget) {
  double worst = r.summary(label + ": worst frame (CPU)").median;
  return {{"label", label},
          {"role", role},
          {"knobs", to_string(knobs)},
          {"batch", knobs.batch_size},
          {"interval", knobs.interval_seconds},
          {"budget", knobs.frame_budget_ms},
          {"catch_up_s", r.summary(label + ": catch-up").median},
          {"caught_up", r.summary(label + ": caught up within the cap").median >= 0.5},
          {"worst_frame_ms", worst},
          {"mean_frame_ms", r.summary(label + ": mean frame (CPU)").median},
          {"worst_replay_wall_ms", r.summary(label + ": worst frame's replay (wall clock)").median},
          {"within_budget", worst <= budget}};
}

}  // namespace

BenchResult run_knob_sweep(const Arguments& a, const BenchSettings& settings, const SweepWorkload& w) {
  const KnobSweep grid = parse_grid(a, w.base);
  const KnobTargets targets{w.fps, parse_budget(a, w.fps)};
  const std::string html_path = a.text("html", "");
  const std::vector<ReplayKnobs> grid_knobs = grid.settings();
  const ReplayKnobs calibration{kMaxBatchSize, 0, targets.frame_budget_ms};
  const std::string reference_label = "reference (" + to_string(ReplayKnobs::reference()) + ")";

  AwardJournal journal(w.entries, settings.seed);
  BenchResult result{"replay",
                     {{"entries", w.entries}, {"names", 1000}, {"fps", w.fps},
                      {"frame_budget_ms", targets.frame_budget_ms}, {"sweep", a.text("sweep", "")},
                      {"max_game_seconds", w.max_game_seconds}},
                     settings};
  const auto steps_per_run = static_cast<int>(grid_knobs.size()) + 2;
  Progress progress(steps_per_run * (settings.warmup + settings.runs) + settings.runs);
  repeat_runs(result, progress, settings.warmup, settings.runs, [&](Run& run) {
    run.step("calibration, " + to_string(calibration));
    run.record(kCalibration, "ns/event", catch_up(journal, calibration, w.fps, w.max_game_seconds, w.decode_thread).ns_per_event());
    for (const ReplayKnobs& k : grid_knobs) {
      run.step(to_string(k));
      record(run, to_string(k), catch_up(journal, k, w.fps, w.max_game_seconds, w.decode_thread));
    }
    run.step("reference preset");
    record(run, reference_label, catch_up(journal, ReplayKnobs::reference(), w.fps, w.max_game_seconds, w.decode_thread));
  });

  const double ns_per_event = result.summary(kCalibration).median;
  const KnobAdvice advice = advise_knobs(ns_per_event, w.entries, targets);
  const std::string recommended_label = "recommended (" + to_string(advice.knobs) + ")";
  repeat_runs(result, progress, 0, settings.runs, [&](Run& run) {
    run.step("recommended, " + to_string(advice.knobs));
    record(run, recommended_label, catch_up(journal, advice.knobs, w.fps, w.max_game_seconds, w.decode_thread));
  });

  nlohmann::json rows = nlohmann::json::array();
  std::vector<KnobTrial> trials;
  for (const ReplayKnobs& k : grid_knobs) {
    rows.push_back(row(result, to_string(k), "grid", k, targets.frame_budget_ms));
    trials.push_back({k, rows.back()["catch_up_s"].get<double>(), rows.back()["worst_frame_ms"].get<double>()});
  }
  rows.push_back(row(result, reference_label, "reference", ReplayKnobs::reference(), targets.frame_budget_ms));
  rows.push_back(row(result, recommended_label, "recommended", advice.knobs, targets.frame_budget_ms));
  std::optional<std::size_t> best = fastest_within_budget(trials, targets.frame_budget_ms);
  result.details = {
      {"fps", w.fps},
      {"frame_budget_ms", targets.frame_budget_ms},
      {"entries", w.entries},
      {"max_game_seconds", w.max_game_seconds},
      {"axes", {{"batch", grid.batch_sizes}, {"interval", grid.intervals}, {"budget", grid.budgets}}},
      {"rows", rows},
      {"fastest_within_budget", best ? nlohmann::json(to_string(grid_knobs[*best])) : nlohmann::json()},
      {"recommendation",
       {{"knobs", to_string(advice.knobs)},
        {"ns_per_event", ns_per_event},
        {"frame_ms", advice.frame_ms},
        {"events_per_frame", advice.events_per_frame},
        {"events_per_second", advice.events_per_second},
        {"expected_catch_up_s", advice.catch_up_seconds},
        {"reference_catch_up_s", advice.reference_catch_up_seconds}}}};
  if (!html_path.empty()) write_file_atomically(html_path, render_sweep_html(result.details));
  return result;
}

void print_knob_sweep(const BenchResult& r, std::FILE* out) {
  const nlohmann::json& d = r.details;
  const double budget = d["frame_budget_ms"].get<double>();
  const double fps = d["fps"].get<double>();
  std::fprintf(out, "tally bench replay --sweep: %zu entries, %.0f FPS, frame budget %g ms; seed %u, medians of %d run(s) (+%d warm-up)\n",
               d["entries"].get<std::size_t>(), fps, budget, r.settings.seed, r.settings.runs, r.settings.warmup);
  std::fprintf(out, "%-44s %12s %16s %15s %12s\n", "setting", "catch-up s", "worst frame ms", "mean ms/frame",
               "wall ms");
  for (const auto& row : d["rows"]) {
    const std::string label = row["label"];
    char catch_up[32];
    std::snprintf(catch_up, sizeof catch_up, "%s%.3f", row["caught_up"].get<bool>() ? "" : "~", row["catch_up_s"].get<double>());
    std::fprintf(out, "%-44s %12s %15.3f%s %15.4f %12.3f%s\n", label.c_str(), catch_up, row["worst_frame_ms"].get<double>(),
                 row["within_budget"].get<bool>() ? " " : "!", row["mean_frame_ms"].get<double>(),
                 row["worst_replay_wall_ms"].get<double>(),
                 d["fastest_within_budget"] == row["label"] ? "  <- fastest within budget" : "");
  }
  std::fprintf(out,
               "(frames in CPU time of the client; wall ms: the longest replay of a frame by the wall clock, other\n"
               " processes included; ~ extrapolated from the first %g game seconds; ! worst frame over the %g ms budget)\n\n",
               d["max_game_seconds"].get<double>(), budget);

  const nlohmann::json& rec = d["recommendation"];
  const nlohmann::json& measured = d["rows"].back();
  const double per_frame = rec["events_per_frame"].get<double>();
  std::fprintf(out, "recommendation for %.0f FPS (%.2f ms frames), replay at most %g ms per frame:\n", fps,
               rec["frame_ms"].get<double>(), budget);
  const double knob_budget = measured["budget"].get<double>();
  std::fprintf(out, "  measured cost: %.1f ns of CPU per event in frames (budget %g ms, no batch cap; loop overhead included)\n",
               rec["ns_per_event"].get<double>(), budget);
  std::fprintf(out, "  events per frame that fit: %g ms / %.1f ns = %.0f, so %.0f events per second\n", knob_budget,
               rec["ns_per_event"].get<double>(), per_frame, rec["events_per_second"].get<double>());
  std::fprintf(out, "  knobs: %s\n", rec["knobs"].get<std::string>().c_str());
  std::fprintf(out, "    budget %g: %g ms less %g %%; the planner keeps a frame's replay within its budget plus the last event,\n"
               "      and the frame has work of its own\n", knob_budget, budget, kBudgetHeadroom * 100);
  std::fprintf(out, "    interval 0: with a budget, waiting between steps only delays the catch-up\n");
  std::fprintf(out, "    batch %u: half the budget at that cost, the planner's own first batch; a cap for costlier events\n",
               measured["batch"].get<unsigned>());
  std::fprintf(out, "  expected catch-up of %zu entries: %.3f s of game time (reference knobs: %.0f s)\n",
               d["entries"].get<std::size_t>(), rec["expected_catch_up_s"].get<double>(),
               rec["reference_catch_up_s"].get<double>());
  std::fprintf(out, "  measured with these knobs: %.3f s, worst frame %.3f ms%s\n", measured["catch_up_s"].get<double>(),
               measured["worst_frame_ms"].get<double>(), measured["within_budget"].get<bool>() ? "" : " (over the budget)");
  if (d["fastest_within_budget"].is_null()) {
    std::fprintf(out, "  no setting of the grid kept its worst frame within %g ms\n", budget);
  } else {
    std::fprintf(out, "  fastest setting of the grid within the budget: %s\n",
                 d["fastest_within_budget"].get<std::string>().c_str());
  }
}

}  // namespace tally::cli
