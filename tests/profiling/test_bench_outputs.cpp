// What `tally bench replay` wrote (run by ctest just before, into TALLY_BENCH_REPLAY_OUT and
// TALLY_BENCH_SWEEP_OUT): the JSON document with its documented keys, and a sweep's JSON and
// heat-map page.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "runtime/atomic_file.hpp"

namespace {

const std::filesystem::path kReplayOut = TALLY_BENCH_REPLAY_OUT;
const std::filesystem::path kSweepOut = TALLY_BENCH_SWEEP_OUT;

std::set<std::string> figure_names(const nlohmann::json& bench) {
  std::set<std::string> names;
  for (const auto& f : bench["figures"]) names.insert(f["name"].get<std::string>());
  return names;
}

void check_document(const nlohmann::json& bench) {
  CHECK(bench["schema"] == "tally-bench/1");
  CHECK(bench["bench"] == "replay");
  CHECK(bench["parameters"].is_object());
  CHECK(bench["seed"] == 42);
  CHECK(bench["runs"] == 1);
  CHECK(bench["warmup_runs"] == 0);
  REQUIRE(bench["figures"].is_array());
  REQUIRE_FALSE(bench["figures"].empty());
  for (const auto& f : bench["figures"]) {
    for (const char* key : {"name", "unit", "median", "min", "max", "runs", "samples"}) {
      INFO(f.dump());
      CHECK(f.contains(key));
    }
    CHECK(f["runs"] == 1);
    CHECK(f["samples"].size() == 1);
    CHECK(f["min"].get<double>() <= f["median"].get<double>());
    CHECK(f["median"].get<double>() <= f["max"].get<double>());
  }
}

double median_of(const nlohmann::json& bench, const std::string& name) {
  for (const auto& f : bench["figures"]) {
    if (f["name"] == name) return f["median"].get<double>();
  }
  FAIL("no figure " << name);
  return 0;
}

}  // namespace

TEST_CASE("bench replay --json: the documented keys and the replay figures") {
  nlohmann::json bench = nlohmann::json::parse(tally::read_file(kReplayOut / "replay.json"));
  check_document(bench);
  CHECK(bench["parameters"]["entries"] == 2000);
  CHECK(bench["parameters"]["knobs"] == "batch=500,interval=0,budget=2");
  std::set<std::string> names = figure_names(bench);
  for (const char* name : {"raw replay (CatchUp)", "late insert 1000 from the end: rewind + replay", "catch-up",
                           "worst frame (CPU)", "mean frame (CPU)", "cost per event in frames (CPU)",
                           "worst frame's replay (wall clock)", "reference: catch-up", "reference: worst frame (CPU)"}) {
    CHECK(names.count(name) == 1);
  }
  CHECK(median_of(bench, "raw replay (CatchUp)") > 0);
  // 2000 entries at the reference's 50 per 0.5 s: 40 steps, the first at once, 19.5 s; a step
  // that stops at a checkpoint falls short of 50 and adds a step or two.
  const double reference = median_of(bench, "reference: catch-up");
  CHECK(reference >= 19.5);
  CHECK(reference <= 20.6);
  CHECK(median_of(bench, "reference: caught up within the cap (else extrapolated)") == 1);
  CHECK(median_of(bench, "catch-up") < median_of(bench, "reference: catch-up"));
}

TEST_CASE("bench replay --sweep: every setting, the reference and the recommendation, in JSON and HTML") {
  nlohmann::json bench = nlohmann::json::parse(tally::read_file(kSweepOut / "sweep.json"));
  check_document(bench);
  const nlohmann::json& sweep = bench["details"];
  CHECK(sweep["axes"]["batch"] == nlohmann::json({50, 500}));
  CHECK(sweep["axes"]["interval"] == nlohmann::json({0.0, 0.5}));
  CHECK(sweep["axes"]["budget"] == nlohmann::json({1.0, 2.0}));
  REQUIRE(sweep["rows"].size() == 8 + 2);
  CHECK(sweep["rows"][8]["role"] == "reference");
  CHECK(sweep["rows"][9]["role"] == "recommended");
  for (const auto& row : sweep["rows"]) {
    INFO(row.dump());
    CHECK(row["catch_up_s"].get<double>() > 0);
    CHECK(row["worst_frame_ms"].get<double>() > 0);
    CHECK(row["worst_replay_wall_ms"].get<double>() > 0);
  }
  const nlohmann::json& rec = sweep["recommendation"];
  CHECK(rec["ns_per_event"].get<double>() > 0);
  CHECK(rec["knobs"].get<std::string>().ends_with(",interval=0,budget=1.9"));
  CHECK(rec["events_per_frame"].get<double>() == doctest::Approx(std::max(1.0, std::floor(1.9e6 / rec["ns_per_event"].get<double>()))));
  CHECK(rec["reference_catch_up_s"] == 50.0);

  std::string page = tally::read_file(kSweepOut / "sweep.html");
  CHECK(page.find("id=\"heatmap-catch-up\"") != std::string::npos);
  CHECK(page.find("id=\"heatmap-worst-frame\"") != std::string::npos);
  for (const auto& row : sweep["rows"]) {
    if (row["role"] == "grid") CHECK(page.find("data-knobs=\"" + row["knobs"].get<std::string>() + "\"") != std::string::npos);
  }
  const std::string open = "<script type=\"application/json\" id=\"sweep\">";
  auto at = page.find(open);
  REQUIRE(at != std::string::npos);
  CHECK(nlohmann::json::parse(page.substr(at + open.size(), page.find("</script>", at) - at - open.size())) == sweep);
}
