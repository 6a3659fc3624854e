// tally bench's pieces on known inputs: run summaries, the JSON document, --preset/--knobs, the
// sweep grid parser, the knob advice and the sweep's heat-map page.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "batching/knob_advisor.hpp"
#include "batching/knob_sweep.hpp"
#include "cli/bench_harness.hpp"
#include "cli/knob_options.hpp"
#include "cli/sweep_report.hpp"

using namespace tally;
using namespace tally::cli;

namespace {

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

Arguments args(std::vector<std::string> words) { return Arguments(words, {}); }

}  // namespace

TEST_CASE("summarize: median (odd and even counts), min, max and the number of runs") {
  Summary odd = summarize({5, 1, 9, 3, 7});
  CHECK(odd.runs == 5);
  CHECK(odd.median == 5);
  CHECK(odd.min == 1);
  CHECK(odd.max == 9);
  Summary even = summarize({10, 2, 4, 8});
  CHECK(even.median == 6);  // (4 + 8) / 2
  CHECK(even.min == 2);
  CHECK(even.max == 10);
  Summary one = summarize({3.5});
  CHECK(one.median == 3.5);
  CHECK(one.min == 3.5);
  CHECK(one.max == 3.5);
  Summary none = summarize({});
  CHECK(none.runs == 0);
  CHECK(none.median == 0);
}

TEST_CASE("BenchResult: figures keep their order and samples; the JSON has the documented keys") {
  BenchResult r{"demo", {{"entries", 10}}, {.runs = 3, .warmup = 1, .seed = 7}};
  r.add("speed", "events/s", 30);
  r.add("size", "bytes", 5);
  r.add("speed", "events/s", 10);
  r.add("speed", "events/s", 20);
  CHECK(r.summary("speed").median == 20);
  CHECK(r.summary("size").runs == 1);
  CHECK_THROWS_AS(r.summary("nothing"), std::out_of_range);

  nlohmann::json j = r.to_json();
  CHECK(j["schema"] == "tally-bench/1");
  CHECK(j["bench"] == "demo");
  CHECK(j["parameters"]["entries"] == 10);
  CHECK(j["seed"] == 7);
  CHECK(j["runs"] == 3);
  CHECK(j["warmup_runs"] == 1);
  CHECK_FALSE(j.contains("details"));
  REQUIRE(j["figures"].size() == 2);
  const auto& speed = j["figures"][0];
  CHECK(speed["name"] == "speed");
  CHECK(speed["unit"] == "events/s");
  CHECK(speed["median"] == 20.0);
  CHECK(speed["min"] == 10.0);
  CHECK(speed["max"] == 30.0);
  CHECK(speed["runs"] == 3);
  CHECK(speed["samples"] == nlohmann::json({30.0, 10.0, 20.0}));
}

TEST_CASE("repeat_runs: warm-up runs are not counted") {
  BenchResult r{"demo", {}, {}};
  Progress progress(5);
  int calls = 0;
  repeat_runs(r, progress, 2, 3, [&](Run& run) {
    run.step("work");
    run.record("call", "n", ++calls);
    CHECK(run.index() == (calls <= 2 ? calls - 1 : calls - 3));
  });
  CHECK(calls == 5);
  CHECK(r.figures.at(0).samples == std::vector<double>{3, 4, 5});
}

TEST_CASE("parse_bench_settings: defaults, overrides and clear errors") {
  BenchSettings d = parse_bench_settings(args({}), {.runs = 15, .warmup = 0, .seed = 9});
  CHECK(d.runs == 15);
  CHECK(d.warmup == 0);
  CHECK(d.seed == 9);
  BenchSettings s = parse_bench_settings(args({"--runs", "2", "--warmup", "3", "--seed", "11"}), {});
  CHECK(s.runs == 2);
  CHECK(s.warmup == 3);
  CHECK(s.seed == 11);
  CHECK(error_of([] { parse_bench_settings(args({"--runs", "0"}), {}); }) == "--runs must be between 1 and 100, got 0");
}

TEST_CASE("--preset and --knobs: the preset first, the knobs over it") {
  CHECK_FALSE(knob_options(args({})).has_value());
  CHECK(knob_options(args({"--preset", "reference"})) == ReplayKnobs::reference());
  CHECK(knob_options(args({"--preset", "reference", "--knobs", "batch=100"})) == ReplayKnobs{100, 0.5, 0});
  CHECK(knob_options(args({"--knobs", "preset=reference"})) == ReplayKnobs::reference());
  CHECK(knob_options(args({"--knobs", "budget=4"})) == ReplayKnobs{500, 0, 4});
  std::string bad = error_of([] { knob_options(args({"--preset", "fast"})); });
  CHECK(bad.find("\"preset=fast\": unknown preset") != std::string::npos);
  CHECK_THROWS_AS(knob_options(args({"--knobs", "batch=0"})), UsageError);
}

TEST_CASE("parse_knob_sweep: lists by semicolons or commas, sorted; knobs left out from the base") {
  const ReplayKnobs base{500, 0, 2};
  KnobSweep a = parse_knob_sweep("batch=200,25,50;interval=0,0.5;budget=1,2,4", base);
  CHECK(a.batch_sizes == std::vector<std::uint32_t>{25, 50, 200});
  CHECK(a.intervals == std::vector<double>{0, 0.5});
  CHECK(a.budgets == std::vector<double>{1, 2, 4});
  KnobSweep b = parse_knob_sweep("batch=25,50,200,interval=0.0,0.5,budget=1,2,4", base);
  CHECK(b.batch_sizes == a.batch_sizes);
  CHECK(b.intervals == a.intervals);
  CHECK(b.budgets == a.budgets);
  std::vector<ReplayKnobs> settings = a.settings();
  REQUIRE(settings.size() == 18);
  CHECK(settings.front() == ReplayKnobs{25, 0, 1});
  CHECK(settings[1] == ReplayKnobs{50, 0, 1});
  CHECK(settings[3] == ReplayKnobs{25, 0.5, 1});
  CHECK(settings.back() == ReplayKnobs{200, 0.5, 4});

  KnobSweep only = parse_knob_sweep(" frame_budget_ms = 3 ; 1 ", base);
  CHECK(only.batch_sizes == std::vector<std::uint32_t>{500});
  CHECK(only.intervals == std::vector<double>{0});
  CHECK(only.budgets == std::vector<double>{1, 3});
  CHECK(parse_knob_sweep("batch=5,5,5", base).batch_sizes == std::vector<std::uint32_t>{5});
}

TEST_CASE("parse_knob_sweep: errors name the item at fault") {
  const ReplayKnobs base;
  auto error = [&](const char* text) { return error_of([&] { parse_knob_sweep(text, base); }); };
  CHECK(error("batch=abc") == "knob sweep: \"batch=abc\": expected a whole number, got \"abc\"");
  CHECK(error("batch=25,x") == "knob sweep: \"batch=x\": expected a whole number, got \"x\"");
  CHECK(error("interval=0,-1") == "knob sweep: \"interval=-1\": interval_seconds must be a finite number in 0..3600, got -1");
  CHECK(error("batch=0") == "knob sweep: \"batch=0\": batch_size must be in 1..1000000, got 0");
  CHECK(error("speed=1") == "knob sweep: \"speed=1\": unknown knob (expected batch, interval or budget)");
  CHECK(error("25,50") == "knob sweep: \"25\" comes before any knob (write batch=..., interval=... or budget=...)");
  CHECK(error("batch=1;batch=2") == "knob sweep: \"batch\" is listed twice");
  CHECK(error("batch=1,,2") == "knob sweep: empty item (stray comma or semicolon?)");
  CHECK(error("batch=") == "knob sweep: \"batch=\" has no value");
  CHECK(error("preset=reference").find("a preset is one setting") != std::string::npos);
  CHECK(error("") == "knob sweep: nothing to sweep (expected e.g. \"batch=25,50;interval=0,0.5;budget=1,2\")");
  std::string many = "batch=";
  for (int i = 1; i <= 300; ++i) many += (i > 1 ? "," : "") + std::to_string(i);
  CHECK(error(many.c_str()) == "knob sweep: 300 settings; at most 256");
}

void check_knobs(const ReplayKnobs& k, std::uint32_t batch, double interval, double budget) {
  CHECK(k.batch_size == batch);
  CHECK(k.interval_seconds == interval);
  CHECK(k.frame_budget_ms == doctest::Approx(budget));
}

TEST_CASE("advise_knobs: the budget less 5 %, its events at the measured cost, every frame") {
  // 100 ns per event, 2 ms of a 60 FPS frame: a 1.9 ms budget, 19,000 events a frame.
  KnobAdvice a = advise_knobs(100, 200000, {60, 2});
  check_knobs(a.knobs, 9500, 0, 1.9);
  CHECK(a.frame_ms == doctest::Approx(16.6667).epsilon(1e-4));
  CHECK(a.events_per_frame == 19000);
  CHECK(a.events_per_second == 1140000);
  CHECK(a.catch_up_seconds == doctest::Approx(11.0 / 60));  // ceil(200000 / 19000) frames
  CHECK(a.reference_catch_up_seconds == 2000);               // 4000 steps of 50, 0.5 s apart

  // 123 ns: 15,447 a frame; half of it, two significant digits: 7,700.
  KnobAdvice b = advise_knobs(123, 1000000, {60, 2});
  CHECK(b.events_per_frame == 15447);
  check_knobs(b.knobs, 7700, 0, 1.9);
  CHECK(b.catch_up_seconds == doctest::Approx(65.0 / 60));  // ceil(1e6 / 15447) = 65 frames

  // 144 FPS with 1 ms: 3,800 events of 250 ns a frame.
  KnobAdvice c = advise_knobs(250, 200000, {144, 1});
  check_knobs(c.knobs, 1900, 0, 0.95);
  CHECK(c.catch_up_seconds == doctest::Approx(53.0 / 144));

  // An event dearer than the budget: still one per frame, a batch of one.
  KnobAdvice d = advise_knobs(5e6, 300, {60, 2});
  CHECK(d.events_per_frame == 1);
  check_knobs(d.knobs, 1, 0, 1.9);
  CHECK(d.catch_up_seconds == doctest::Approx(5.0));

  // Small batches are not rounded: 57 events a frame, a batch of 28.
  check_knobs(advise_knobs(50000, 600, {60, 3}).knobs, 28, 0, 2.85);
}

TEST_CASE("advise_knobs: targets it cannot meet are errors") {
  CHECK(error_of([] { advise_knobs(0, 10, {}); }).find("cost per event") != std::string::npos);
  CHECK(error_of([] { advise_knobs(NAN, 10, {}); }).find("cost per event") != std::string::npos);
  CHECK(error_of([] { advise_knobs(100, 10, {0, 2}); }).find("fps") != std::string::npos);
  CHECK(error_of([] { advise_knobs(100, 10, {60, 20}); }).find("frame budget") != std::string::npos);
  CHECK(error_of([] { advise_knobs(100, 10, {60, 0}); }).find("frame budget") != std::string::npos);
  CHECK_NOTHROW(advise_knobs(100, 10, {60, 1000.0 / 60}));
}

TEST_CASE("unbudgeted_catch_up_seconds: batch per step, a step per interval or frame") {
  CHECK(unbudgeted_catch_up_seconds({50, 0.5, 0}, 1000, 60) == 10);
  CHECK(unbudgeted_catch_up_seconds({100, 0, 0}, 1000, 60) == doctest::Approx(10.0 / 60));
  CHECK(unbudgeted_catch_up_seconds({300, 0, 0}, 1000, 60) == doctest::Approx(4.0 / 60));
}

TEST_CASE("fastest_within_budget: the fastest trial whose worst frame fits, ties to the cheaper") {
  std::vector<KnobTrial> trials = {{{25, 0, 1}, 2.0, 0.9},
                                   {{50, 0, 4}, 0.5, 4.2},   // fastest, but over 2 ms
                                   {{50, 0, 2}, 1.0, 2.0},   // at the budget: fits
                                   {{200, 0, 2}, 1.0, 1.5}}; // as fast, cheaper
  CHECK(fastest_within_budget(trials, 2) == std::optional<std::size_t>(3));
  CHECK(fastest_within_budget(trials, 5) == std::optional<std::size_t>(1));
  CHECK_FALSE(fastest_within_budget(trials, 0.5).has_value());
  CHECK_FALSE(fastest_within_budget({}, 2).has_value());
}

TEST_CASE("render_sweep_html: heat maps with a cell per setting, the data embedded, nothing remote") {
  nlohmann::json rows = nlohmann::json::array();
  double v = 1;
  for (double budget : {1.0, 2.0}) {
    for (double interval : {0.0, 0.5}) {
      for (unsigned batch : {25u, 50u, 200u}) {
        ReplayKnobs k{batch, interval, budget};
        rows.push_back({{"label", to_string(k)}, {"role", "grid"}, {"knobs", to_string(k)}, {"batch", batch},
                        {"interval", interval}, {"budget", budget}, {"catch_up_s", v}, {"caught_up", v < 10},
                        {"worst_frame_ms", v / 4}, {"mean_frame_ms", v / 8}, {"worst_replay_wall_ms", v / 3}, {"within_budget", v / 4 <= 2}});
        v *= 1.5;
      }
    }
  }
  rows.push_back({{"label", "reference (batch=50,interval=0.5,budget=0)"}, {"role", "reference"}, {"knobs", "batch=50,interval=0.5,budget=0"},
                  {"batch", 50}, {"interval", 0.5}, {"budget", 0}, {"catch_up_s", 2000}, {"caught_up", false},
                  {"worst_frame_ms", 0.01}, {"mean_frame_ms", 0.001}, {"worst_replay_wall_ms", 0.02}, {"within_budget", true}});
  nlohmann::json sweep = {{"fps", 60}, {"frame_budget_ms", 2}, {"entries", 200000}, {"max_game_seconds", 600},
                          {"axes", {{"batch", {25, 50, 200}}, {"interval", {0, 0.5}}, {"budget", {1, 2}}}},
                          {"rows", rows}, {"fastest_within_budget", "batch=50,interval=0,budget=1"},
                          {"recommendation", {{"knobs", "batch=10000,interval=0,budget=2"}, {"ns_per_event", 100},
                                              {"frame_ms", 16.67}, {"events_per_frame", 20000},
                                              {"events_per_second", 1.2e6}, {"expected_catch_up_s", 0.167},
                                              {"reference_catch_up_s", 2000}}}};
  std::string page = render_sweep_html(sweep);
  CHECK(page.find("id=\"heatmap-catch-up\"") != std::string::npos);
  CHECK(page.find("id=\"heatmap-worst-frame\"") != std::string::npos);
  int cells = 0;
  for (auto at = page.find("<rect class=\"cell\""); at != std::string::npos; at = page.find("<rect class=\"cell\"", at + 1)) ++cells;
  CHECK(cells == 24);  // 12 settings in each of the two maps
  CHECK(page.find("data-knobs=\"batch=200,interval=0.5,budget=2\"") != std::string::npos);
  CHECK(page.find("stroke=\"#000\" stroke-width=\"3\" data-knobs=\"batch=50,interval=0,budget=1\"") != std::string::npos);
  CHECK(page.find(">budget 1 ms<") != std::string::npos);
  CHECK(page.find(">0.5 s<") != std::string::npos);
  CHECK(page.find("batch=10000,interval=0,budget=2") != std::string::npos);
  CHECK(page.find("http") == std::string::npos);
  CHECK(page.find("<script src") == std::string::npos);
  const std::string open = "<script type=\"application/json\" id=\"sweep\">";
  auto at = page.find(open);
  REQUIRE(at != std::string::npos);
  auto end = page.find("</script>", at);
  CHECK(nlohmann::json::parse(page.substr(at + open.size(), end - at - open.size())) == sweep);
}
