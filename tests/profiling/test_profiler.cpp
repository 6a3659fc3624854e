// Per-addon accounting: who is charged for which call, the figures C_AddOnProfiler reports, and
// the accounts' own arithmetic. Timing checks compare addons with each other (ratios), never
// with fixed times, except where a time is a lower bound no machine can beat: a handler that
// burns 2 ms of wall time is measured at 2 ms or more.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "../bindings/client_fixture.hpp"
#include "bindings/host.hpp"
#include "bindings/profiler.hpp"

using namespace tally;

namespace {

const std::filesystem::path kAddons = std::filesystem::path(TALLY_TEST_DATA_DIR) / "addons_profile";

using Metric = ProfilerMetric;

// One client with the profile test addons, logged in.
struct Profiled {
  Host host;
  Client& client;
  explicit Profiled(bool profile = true)
      : client(host.add_client({.name = "Dagna",
                                .guild = "Tally Guild",
                                .guild_rank = 0,
                                .profile_addons = profile})) {
    host.load_addons(scan_addons(kAddons));
    host.start();
  }
  void frames(int n) {
    for (int i = 0; i < n; ++i) host.tick(1.0 / 60);
  }
  AddonProfiler::Owner owner(const std::string& addon) const {
    return client.profiler().find(addon).value();
  }
  double metric(const std::string& addon, Metric m) const {
    return client.profiler().metric(owner(addon), m);
  }
  AddonFigures figures(const std::string& addon) const {
    return client.profiler().figures()[owner(addon)];
  }
  // Runs Lua text as if it were a file of `addon` (its functions belong to that addon).
  void run_as(const std::string& addon, const std::string& code) {
    REQUIRE(client.run_script(code, "@Interface\\AddOns\\" + addon + "\\Test.lua"));
  }
};

}  // namespace

TEST_CASE(
    "a handler that burns 2 ms per frame shows up in its addon's figures; an idle one does not") {
  Profiled p;
  p.frames(120);
  const AddonProfiler& profiler = p.client.profiler();
  CHECK(profiler.frames() == 120);
  double burner = p.metric("ProfileBurner", Metric::SessionAverageTime);
  double idle = p.metric("ProfileIdle", Metric::SessionAverageTime);
  CHECK(burner >= 1.99);  // it burns 2 ms of wall time, measured from outside
  CHECK(burner > 10 * idle);
  CHECK(p.figures("ProfileBurner").p50_ms > 100 * p.figures("ProfileIdle").p50_ms);
  // Every frame it burned 2 ms is a frame over 1 ms.
  CHECK(p.metric("ProfileBurner", Metric::CountTimeOver1Ms) == 120);
  CHECK(p.metric("ProfileIdle", Metric::CountTimeOver1Ms) <= 12);
  CHECK(p.metric("ProfileBurner", Metric::PeakTime) >=
        p.metric("ProfileBurner", Metric::RecentAverageTime));
  CHECK(p.metric("ProfileBurner", Metric::LastTime) >= 1.99);
  // All addon code together is at least the burner, in every frame.
  CHECK(profiler.metric(std::nullopt, Metric::CountTimeOver1Ms) == 120);
  CHECK(profiler.metric(std::nullopt, Metric::SessionAverageTime) >= burner);
  AddonFigures f = p.figures("ProfileBurner");
  CHECK(f.calls == 120);
  CHECK(f.work_ms[static_cast<std::size_t>(AddonWork::OnUpdate)] == doctest::Approx(f.total_ms));
  // Loading is not a frame: the files' time is load time.
  CHECK(p.figures("ProfileGuild").load_ms > 0);

  // Stopping the burn: the recent average (last 60 frames) falls, the session average stays.
  CHECK(p.client.run_slash_command("/burn 0"));
  p.frames(60);
  CHECK(p.metric("ProfileBurner", Metric::RecentAverageTime) <
        p.metric("ProfileBurner", Metric::SessionAverageTime) / 4);
  CHECK(p.metric("ProfileBurner", Metric::CountTimeOver1Ms) == 120);
  CHECK(p.figures("ProfileBurner").work_ms[static_cast<std::size_t>(AddonWork::Slash)] > 0);
}

TEST_CASE("addons read their figures through C_AddOnProfiler and GetAddOnCPUUsage") {
  Profiled p;
  p.frames(30);
  CHECK(p.client.evaluate("return C_AddOnProfiler.IsEnabled()").values.at(0).as_boolean());
  auto number = [&](const std::string& code) {
    Client::Evaluation e = p.client.evaluate("return " + code);
    REQUIRE_MESSAGE(e.ok, e.error);
    return e.values.at(0).as_number();
  };
  const std::string metric =
      "C_AddOnProfiler.GetAddOnMetric('ProfileBurner', Enum.AddOnProfilerMetric.";
  CHECK(number(metric + "CountTimeOver1Ms)") == 30);
  CHECK(number(metric + "SessionAverageTime)") >= 1.99);
  CHECK(number(metric + "SessionAverageTime)") ==
        doctest::Approx(p.metric("ProfileBurner", Metric::SessionAverageTime)));
  CHECK(number("C_AddOnProfiler.GetOverallMetric(Enum.AddOnProfilerMetric.CountTimeOver1Ms)") ==
        30);
  CHECK(number("C_AddOnProfiler.GetAddOnMetric('NoSuchAddon', 0)") == 0);
  CHECK(number("Enum.AddOnProfilerMetric.CountTimeOver1000Ms") == 11);
  CHECK_FALSE(p.client.evaluate("return C_AddOnProfiler.GetAddOnMetric('ProfileBurner', 12)").ok);
  CHECK_FALSE(p.client.evaluate("return C_AddOnProfiler.GetOverallMetric('x')").ok);

  // GetAddOnCPUUsage changes only at UpdateAddOnCPUUsage, and counts from ResetCPUUsage.
  CHECK(number("GetAddOnCPUUsage('ProfileBurner')") == 0);
  p.client.run_script("UpdateAddOnCPUUsage()");
  double usage = number("GetAddOnCPUUsage('ProfileBurner')");
  CHECK(usage >= 30 * 1.99);
  p.frames(5);
  CHECK(number("GetAddOnCPUUsage('ProfileBurner')") == usage);
  p.client.run_script("UpdateAddOnCPUUsage()");
  CHECK(number("GetAddOnCPUUsage('ProfileBurner')") >= usage + 5 * 1.99);
  p.client.run_script("ResetCPUUsage()");
  CHECK(number("GetAddOnCPUUsage('ProfileBurner')") == 0);
  p.frames(1);
  p.client.run_script("UpdateAddOnCPUUsage()");
  double after_reset = number("GetAddOnCPUUsage('ProfileBurner')");
  CHECK(after_reset >= 1.99);
  CHECK(after_reset < usage);
  // ResetCPUUsage leaves the C_AddOnProfiler figures alone.
  CHECK(number(metric + "CountTimeOver1Ms)") == 36);
  CHECK_FALSE(p.client.evaluate("return GetAddOnCPUUsage()").ok);

  // debugprofilestop() is a wall clock in ms.
  CHECK(number("(function() debugprofilestart() local t = debugprofilestop() "
               "while debugprofilestop() - t < 1 do end return debugprofilestop() end)()") >= 1);
}

TEST_CASE("time counts for the addon whose file defined the function that runs, exclusively") {
  Profiled p;
  // ProfileIdle's receiver burns 20 ms; ProfileBurner's OnUpdate sends it a message each frame.
  p.run_as("ProfileIdle",
           "Tally.RegisterMessage('BURN', function() local t = debugprofilestop() "
           "while debugprofilestop() - t < 20 do end end)");
  p.run_as("ProfileBurner",
           "CreateFrame('Frame'):SetScript('OnUpdate', function() Tally.SendMessage('BURN') end)");
  p.frames(10);
  AddonFigures idle = p.figures("ProfileIdle"), burner = p.figures("ProfileBurner");
  CHECK(idle.p50_ms >= 19.99);
  CHECK(idle.work_ms[static_cast<std::size_t>(AddonWork::Callback)] >= 10 * 19.99);
  // The sender waited 20 ms for the receiver each frame, but that time is the receiver's: the
  // sender's own is its 2 ms burn (a loaded machine may stretch it, never to 20 ms a frame).
  CHECK(burner.p50_ms >= 1.99);
  CHECK(burner.p50_ms < idle.p50_ms / 2);
  CHECK(burner.calls == 1 + 20);  // its chunk run above, then two handlers a frame

  // Code from no addon file (here /run text) is unattributed.
  p.client.run_script("CreateFrame('Frame'):SetScript('OnUpdate', function() end)");
  p.frames(1);
  CHECK(p.client.profiler().figures()[AddonProfiler::kUnattributed].calls > 0);
}

TEST_CASE("a ledger's replay counts for the addon that created it") {
  Profiled p;
  // ProfileIdle creates the ledger; ProfileBurner registers the mutator: replay is ProfileIdle's.
  p.run_as("ProfileIdle", "IdleLedger = Tally.NewLedger{ name = 'IdleLedger' }");
  p.run_as("ProfileBurner",
           "IdleLedger:RegisterMutator('e', function(state, data) state.n = (state.n or 0) + "
           "data.v end) "
           "for i = 1, 200 do IdleLedger:Submit('e', { v = i }) end");
  p.frames(10);
  CHECK(p.client.evaluate("return IdleLedger:State().n").values.at(0).as_number() == 20100);
  auto replay = [&](const std::string& addon) {
    return p.figures(addon).work_ms[static_cast<std::size_t>(AddonWork::Replay)];
  };
  CHECK(replay("ProfileIdle") > 0);
  CHECK(replay("ProfileBurner") == 0);
  CHECK(replay("ProfileGuild") > 0);  // its own ledger, fed by this guild master's ticker
}

TEST_CASE("a replay killed for running too long is closed and charged to the ledger's addon") {
  Host host;
  Client& c = host.add_client({.name = "Dagna", .script_time_limit = 0.05});
  host.load_addons(scan_addons(kAddons));
  host.start();
  REQUIRE(
      c.run_script("L = Tally.NewLedger{ name = 'Stuck' } L:RegisterMutator('e', function() while "
                   "true do end end) "
                   "L:Submit('e', {})",
                   "@Interface\\AddOns\\ProfileIdle\\Stuck.lua"));
  host.tick(1.0 / 60);
  CHECK(logged(c, "script ran too long", true));
  CHECK(c.profiler().depth() == 0);
  auto idle = c.profiler().figures()[c.profiler().find("ProfileIdle").value()];
  CHECK(idle.work_ms[static_cast<std::size_t>(AddonWork::Replay)] >= 49);
  CHECK(idle.metrics[static_cast<std::size_t>(Metric::CountTimeOver10Ms)] == 1);
  host.tick(1.0 / 60);  // the next frame runs normally
  CHECK(c.profiler().frames() == 2);
  CHECK(c.profiler().depth() == 0);
}

TEST_CASE("the encounter average covers the frames from ENCOUNTER_START to ENCOUNTER_END") {
  Profiled p;
  CHECK(p.client.run_slash_command("/burn 0"));
  p.frames(60);
  p.client.run_slash_command("/burn 2");
  p.client.fire_event("ENCOUNTER_START", {663.0, std::string("Lucifron"), 9.0, 40.0});
  p.frames(20);
  p.client.fire_event("ENCOUNTER_END", {663.0, std::string("Lucifron"), 9.0, 40.0, 1.0});
  p.client.run_slash_command("/burn 0");
  p.frames(20);
  CHECK(p.metric("ProfileBurner", Metric::EncounterAverageTime) >= 1.99);
  CHECK(p.metric("ProfileBurner", Metric::SessionAverageTime) <
        p.metric("ProfileBurner", Metric::EncounterAverageTime) / 2);
}

TEST_CASE("profiling can be switched off per client") {
  Profiled p(false);
  p.frames(10);
  CHECK_FALSE(p.client.evaluate("return C_AddOnProfiler.IsEnabled()").values.at(0).as_boolean());
  CHECK(p.metric("ProfileBurner", Metric::SessionAverageTime) == 0);
  CHECK(p.client.profiler().frames() == 10);
  CHECK(texts(p.client, true).empty());
}

TEST_CASE("the profiler's API is in the sandbox and debug stays out") {
  Bare bare;
  CHECK(bare.one("print(type(C_AddOnProfiler.GetAddOnMetric), type(GetAddOnCPUUsage), "
                 "type(UpdateAddOnCPUUsage), "
                 "type(ResetCPUUsage), type(debugprofilestop), type(debugprofilestart))") ==
        "function function function function function function");
  CHECK(bare.one("print(type(debug), type(getfenv))") == "nil nil");
}

// ---------------------------------------------------------------------------------------------
// The accounts' arithmetic, on a synthetic clock.

namespace {

using Clock = AddonProfiler::Clock;
Clock::time_point at_ms(double ms) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(ms)));
}

}  // namespace

TEST_CASE("nested calls are charged exclusively and a skipped leave is closed by an outer one") {
  AddonProfiler profiler;
  auto a = profiler.add_addon("A"), b = profiler.add_addon("B");
  CHECK(profiler.add_addon("A") == a);
  CHECK(profiler.owner_of_chunk("@Interface\\AddOns\\B\\Core.lua") == b);
  CHECK(profiler.owner_of_chunk("@Interface\\AddOns\\Missing\\Core.lua") ==
        AddonProfiler::kUnattributed);
  CHECK(profiler.owner_of_chunk("=(run_script)") == AddonProfiler::kUnattributed);
  profiler.end_loading();
  profiler.set_tracing(true);
  // A runs 0-10 ms; B runs inside it from 2 to 5 ms; a C call inside B never leaves (an error).
  auto outer = profiler.enter(a, AddonWork::OnUpdate, "", at_ms(0));
  auto inner = profiler.enter(b, AddonWork::Callback, "MSG", at_ms(2));
  profiler.enter(b, AddonWork::Callback, "", at_ms(3));
  profiler.leave(inner, at_ms(5));
  profiler.leave(outer, at_ms(10));
  profiler.end_frame(at_ms(0), at_ms(12), 12);
  auto figures = profiler.figures();
  CHECK(figures[a].total_ms == doctest::Approx(7));
  CHECK(figures[b].total_ms == doctest::Approx(3));
  CHECK(profiler.metric(std::nullopt, ProfilerMetric::LastTime) == doctest::Approx(10));
  REQUIRE(profiler.last_frame_calls().size() == 3);
  CHECK(profiler.last_frame_calls()[2].owner == a);  // calls are listed as they end
  CHECK(profiler.label(profiler.last_frame_calls()[1].label) == "MSG");
  CHECK(profiler.last_frame().index == 1);
  CHECK(profiler.last_frame().ms == 12);
}

TEST_CASE("per-frame figures and percentiles on known inputs") {
  FrameTimes t;
  for (int ms = 1; ms <= 100; ++ms) t.add(ms, ms > 90);
  CHECK(t.metric(ProfilerMetric::SessionAverageTime) == doctest::Approx(50.5));
  CHECK(t.metric(ProfilerMetric::RecentAverageTime) == doctest::Approx(70.5));     // 41..100
  CHECK(t.metric(ProfilerMetric::EncounterAverageTime) == doctest::Approx(95.5));  // 91..100
  CHECK(t.metric(ProfilerMetric::LastTime) == 100);
  CHECK(t.metric(ProfilerMetric::PeakTime) == 100);
  CHECK(t.metric(ProfilerMetric::CountTimeOver1Ms) == 99);
  CHECK(t.metric(ProfilerMetric::CountTimeOver5Ms) == 95);
  CHECK(t.metric(ProfilerMetric::CountTimeOver10Ms) == 90);
  CHECK(t.metric(ProfilerMetric::CountTimeOver50Ms) == 50);
  CHECK(t.metric(ProfilerMetric::CountTimeOver100Ms) == 0);
  // Nearest-rank percentiles within the histogram's 1/64 relative error.
  CHECK(t.histogram().quantile(0.50) == doctest::Approx(50).epsilon(1.0 / 64));
  CHECK(t.histogram().quantile(0.95) == doctest::Approx(95).epsilon(1.0 / 64));
  CHECK(t.histogram().quantile(0.99) == doctest::Approx(99).epsilon(1.0 / 64));
  CHECK(t.histogram().max() == 100);
  CHECK_THROWS_AS(t.metric(static_cast<ProfilerMetric>(12)), std::invalid_argument);
}
