// `tally bench replay`: replay speed, catch-up and frame cost of a DKP-style ledger in a real
// client, under the knobs given (Tally's defaults unless --knobs or --preset) and, beside them,
// the reference design's; with --sweep, a grid of knobs (cli/bench_sweep.cpp).
#include <chrono>

#include "cli/bench_catchup.hpp"
#include "cli/bench_suite.hpp"
#include "cli/bench_sweep.hpp"
#include "cli/knob_options.hpp"

namespace tally::cli {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

HostOptions with_decode_thread(bool on) {
  HostOptions o;
  o.decode_ahead.enabled = on;
  return o;
}

// Seconds to replay the whole ledger from nothing, with no frames (CatchUp).
double replay_from_nothing(Client& c) {
  auto start = std::chrono::steady_clock::now();
  c.run_script("bench:CatchUp()");
  return seconds_since(start);
}

// Replay with no frames at all (CatchUp), then a late entry 1000 positions before the end; and
// the same replay decoding on the replaying thread only, when the decode thread is on.
void raw_replay(const AwardJournal& journal, bool decode_thread, Run& run) {
  const auto n = static_cast<double>(journal.entries());
  BenchClient bench(journal, with_decode_thread(decode_thread), 600);
  Client& c = bench.client;
  double t = replay_from_nothing(c);
  run.record("raw replay (CatchUp)", "events/s", n / t);
  run.record("raw replay cost", "ns/event", t * 1e9 / n);
  // The late entry's submit (a journal append; the journal's thread syncs it), then the
  // catch-up (rewind to the nearest checkpoint, replay to the end).
  auto start = std::chrono::steady_clock::now();
  c.run_script("bench:TravelTo(" + std::to_string(1600000000 + (journal.entries() - 1000) / 4) +
               ") bench:Submit('award', {player='Late', amount=1}) bench:StopTravel()");
  double submit = seconds_since(start);
  start = std::chrono::steady_clock::now();
  c.run_script("bench:CatchUp()");
  double rewind = seconds_since(start);
  run.record("late insert 1000 from the end: submit", "ms", submit * 1000);
  run.record("late insert 1000 from the end: rewind + replay", "ms", rewind * 1000);
  run.record("late insert: rewind + replay / full replay", "ratio", rewind / t);
  run.record("late insert: submit + rewind + replay / full replay", "ratio", (submit + rewind) / t);
  if (!decode_thread) return;
  double decoded_ahead = c.evaluate("return bench:Metrics().decoded_ahead").values.at(0).as_number();
  run.record("raw replay: share decoded by the decode thread", "ratio", decoded_ahead / n);
  double one_thread = replay_from_nothing(BenchClient(journal, with_decode_thread(false), 600).client);
  run.record("raw replay, decode thread off", "events/s", n / one_thread);
  run.record("raw replay: decode thread on / off", "ratio", one_thread / t);
}

void record_catch_up(Run& run, const std::string& prefix, const CatchUp& c) {
  run.record(prefix + "catch-up", "game seconds", c.game_seconds);
  run.record(prefix + "caught up within the cap (else extrapolated)", "0/1", c.done ? 1 : 0);
  run.record(prefix + "worst frame (CPU)", "ms", c.worst_frame_ms);
  run.record(prefix + "mean frame (CPU)", "ms", c.mean_frame_ms());
  run.record(prefix + "cost per event in frames (CPU)", "ns/event", c.ns_per_event());
  run.record(prefix + "worst frame's replay (wall clock)", "ms", c.worst_replay_wall_ms);
}

BenchResult run(const Arguments& a, const BenchSettings& settings) {
  const bool sweep = a.flag("sweep");
  auto n = static_cast<std::size_t>(a.integer("entries", sweep ? 200000 : 1000000, 1000, 20000000));
  double fps = static_cast<double>(a.integer("fps", 60, 1, 1000));
  double cap = static_cast<double>(a.integer("max-game-seconds", 600, 1, 86400 * 7));
  ReplayKnobs knobs = knob_options(a).value_or(ReplayKnobs{});
  const bool decode_thread = decode_thread_option(a);
  if (sweep) return run_knob_sweep(a, settings, {n, fps, cap, knobs, decode_thread});
  for (const char* option : {"frame-budget-ms", "html"}) {
    if (a.flag(option)) throw UsageError(std::string("--") + option + " belongs to --sweep");
  }

  AwardJournal journal(n, settings.seed);
  const bool is_reference = knobs == ReplayKnobs::reference();
  BenchResult report{"replay",
                     {{"entries", n}, {"names", 1000}, {"fps", fps}, {"knobs", to_string(knobs)},
                      {"max_game_seconds", cap}, {"decode_thread", decode_thread}},
                     settings};
  Progress progress((is_reference ? 2 : 3) * (settings.warmup + settings.runs));
  repeat_runs(report, progress, settings.warmup, settings.runs, [&](Run& r) {
    r.step("raw replay");
    raw_replay(journal, decode_thread, r);
    r.step("catch-up, " + to_string(knobs));
    record_catch_up(r, "", catch_up(journal, knobs, fps, cap, decode_thread));
    if (is_reference) return;
    r.step("catch-up, reference preset");
    record_catch_up(r, "reference: ", catch_up(journal, ReplayKnobs::reference(), fps, cap, decode_thread));
  });
  return report;
}

void print(const BenchResult& r) {
  if (r.details.is_object()) {
    print_knob_sweep(r, stdout);
  } else {
    print_bench_table(r, stdout);
  }
}

}  // namespace

BenchDef replay_bench() {
  return {.name = "replay",
          .usage = "[--entries N (1000000; 200000 with --sweep)] [--fps F (60)] [--preset NAME] [--knobs K]\n"
                   "            [--decode-thread on|off (on)]\n"
                   "            [--max-game-seconds S (600)] [--sweep GRID [--frame-budget-ms MS (2)] [--html FILE]]",
          .summary = "raw replay, late inserts, catch-up at F FPS under the knobs and the reference's; "
                     "--sweep: a grid of knobs, a heat map and a recommendation",
          .defaults = {.runs = 3, .warmup = 1},
          .options = {"entries", "fps", "preset", "knobs", "decode-thread", "max-game-seconds", "sweep", "frame-budget-ms",
                      "html"},
          .small = {"--entries", "100000"},
          .run = run,
          .print = print};
}

}  // namespace tally::cli
