// What `tally profile` wrote (run by ctest just before, into TALLY_PROFILE_OUT_DIR): a trace that
// parses with the expected events, report.json, and a report.html that needs no network.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "runtime/atomic_file.hpp"

namespace {

const std::filesystem::path kOut = TALLY_PROFILE_OUT_DIR;

}  // namespace

TEST_CASE(
    "trace.json is trace-event JSON with frames, addon calls, replay and counters per client") {
  nlohmann::json trace = nlohmann::json::parse(tally::read_file(kOut / "trace.json"));
  REQUIRE(trace["traceEvents"].is_array());
  std::set<std::string> processes;
  std::map<std::string, int> by_kind;  // "<ph> <cat>"
  std::set<std::string> names;
  for (const auto& e : trace["traceEvents"]) {
    std::string ph = e["ph"];
    CHECK(e["pid"].is_number_integer());
    if (ph == "M") {
      if (e["name"] == "process_name") processes.insert(e["args"]["name"].get<std::string>());
      continue;
    }
    CHECK(e["ts"].is_number());
    if (ph == "X") CHECK(e["dur"].get<double>() >= 0);
    by_kind[ph + " " + e["cat"].get<std::string>()] += 1;
    names.insert(e["name"].get<std::string>());
  }
  CHECK(processes == std::set<std::string>{"client Aelric", "client Brannoc"});
  CHECK(by_kind["X frame"] == 2 * 120);         // 2 s at 60 FPS, two clients
  CHECK(by_kind["X OnUpdate"] >= 2 * 2 * 120);  // ProfileBurner's and ProfileIdle's
  CHECK(by_kind["X Replay"] == 2 * 120);
  CHECK(by_kind["X Timer"] > 0);
  CHECK(by_kind["C counter"] > 0);
  for (const char* name : {"frame", "ProfileBurner OnUpdate", "ProfileIdle OnUpdate",
                           "ProfileGuild Replay ProfileGuild", "ProfileGuild Timer",
                           "replay ProfileGuild", "addon messages"}) {
    CHECK_MESSAGE(names.count(name) == 1, name);
  }
}

TEST_CASE("report.json and report.html hold the same figures, and the page loads nothing") {
  nlohmann::json report = nlohmann::json::parse(tally::read_file(kOut / "report.json"));
  for (const char* key :
       {"version", "session", "frames", "replay", "addons", "overall", "clients", "trace"}) {
    CHECK_MESSAGE(report.contains(key), key);
  }
  CHECK(report["addons"][0]["name"] == "ProfileBurner");
  std::string html = tally::read_file(kOut / "report.html");
  CHECK(html.find("http:") == std::string::npos);
  CHECK(html.find("https:") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("href=") == std::string::npos);
  CHECK(html.find("url(") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  // The plots' data: the report, embedded, and the numbers shown.
  CHECK(html.find(report.dump().substr(0, 200)) != std::string::npos);
  char p95[32];
  std::snprintf(p95, sizeof p95, "p95 %.2f", report["frames"]["p95_ms"].get<double>());
  CHECK(html.find(p95) != std::string::npos);
  CHECK(std::regex_search(html, std::regex("<polyline [^>]*points=\"[0-9., ]+\"")));
}
