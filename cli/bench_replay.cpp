// `tally bench replay`: replay speed and frame cost of a DKP-style ledger in a real client.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "bindings/host.hpp"
#include "cli/arguments.hpp"
#include "cli/bench_harness.hpp"
#include "cli/commands.hpp"
#include "runtime/persistent_ledger.hpp"

namespace tally::cli {

namespace {

// Writes `n` award entries (1000 player names, four per second) to the bench ledger's journal.
void write_journal(const std::filesystem::path& path, std::size_t n, std::uint32_t seed) {
  std::filesystem::create_directories(path.parent_path());
  std::filesystem::remove(path);
  auto store = PersistentLedger::open(path, "Bench", {FsyncPolicy::OnClose, {}}, nullptr);
  std::mt19937 rng(seed);
  std::vector<Entry> batch;
  for (std::size_t i = 0; i < n; ++i) {
    Entry e{{static_cast<std::uint32_t>(1600000000 + i / 4), static_cast<std::uint8_t>(i % 4), 0,
             static_cast<std::uint32_t>(1000 + rng() % 50)},
            "award", 1, {}};
    e.payload.set("player", "Player" + std::to_string(rng() % 1000)).set("amount", static_cast<std::int64_t>(rng() % 50 + 1));
    batch.push_back(std::move(e));
    if (batch.size() == 100000 || i + 1 == n) {
      store.insert_batch(std::span<const Entry>(batch));
      batch.clear();
    }
  }
  store.close();
}

std::string ledger_setup(const std::string& knobs) {
  return "bench = Tally.NewLedger{ name = 'Bench', persist = true" + knobs + " }\n"
         "points = {}\n"
         "bench:RegisterMutator('award', function(state, data) points[data.player] = (points[data.player] or 0) + data.amount end)\n";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct CatchUp {
  double game_seconds = 0;
  double worst_frame_ms = 0;
  long long frames = 0;
};

// Ticks a fresh client at 60 FPS until its bench ledger has no lag.
CatchUp catch_up(const std::filesystem::path& saved, const std::string& knobs, long long max_frames) {
  Host host;
  Client& c = host.add_client({.name = "Bench", .script_time_limit = 60, .saved_variables_dir = saved});
  host.start();
  c.run_script(ledger_setup(knobs));
  CatchUp result;
  for (; result.frames < max_frames; ++result.frames) {
    auto start = std::chrono::steady_clock::now();
    host.tick(1.0 / 60);
    result.worst_frame_ms = std::max(result.worst_frame_ms, seconds_since(start) * 1000);
    if (result.frames % 60 == 0 && c.evaluate("return (bench:Lag())").values.at(0).as_number() == 0) break;
  }
  result.game_seconds = host.now();
  return result;
}

}  // namespace

int bench_replay(const std::vector<std::string>& args) {
  Arguments a(args, {});
  a.reject_unknown({"entries", "runs", "seed", "json"});
  auto n = static_cast<std::size_t>(a.integer("entries", 1000000, 1000, 20000000));
  int runs = static_cast<int>(a.integer("runs", 3, 1, 50));
  auto seed = static_cast<std::uint32_t>(a.integer("seed", 42, 0, 0xffffffffLL));
  std::string json_path = a.text("json", "");

  auto saved = std::filesystem::temp_directory_path() / ("tally-bench-replay-" + std::to_string(::getpid()));
  write_journal(saved / "Bench" / "Ledgers" / "Bench.journal", n, seed);
  BenchReport report("replay", {{"entries", n}, {"runs", runs}, {"seed", seed}, {"names", 1000}});

  for (int run = 0; run < runs; ++run) {
    report.progress("run " + std::to_string(run + 1) + ": raw replay", 0, 3);
    {
      Host host;
      Client& c = host.add_client({.name = "Bench", .script_time_limit = 600, .saved_variables_dir = saved});
      host.start();
      c.run_script(ledger_setup(""));
      auto start = std::chrono::steady_clock::now();
      c.run_script("bench:CatchUp()");
      double t = seconds_since(start);
      report.add("raw replay (CatchUp)", "events/s", static_cast<double>(n) / t);
      // A late entry 1000 positions before the end of the caught-up ledger: its submit (a
      // journal append, which fsyncs when the journal's sync interval has passed, as it has
      // here), then the catch-up (rewind to the nearest checkpoint, replay to the end).
      start = std::chrono::steady_clock::now();
      c.run_script("bench:TravelTo(" + std::to_string(1600000000 + (n - 1000) / 4) + ") bench:Submit('award', {player='Late', amount=1}) bench:StopTravel()");
      double submit = seconds_since(start);
      start = std::chrono::steady_clock::now();
      c.run_script("bench:CatchUp()");
      double rewind = seconds_since(start);
      report.add("late insert 1000 from the end: submit", "ms", submit * 1000);
      report.add("late insert 1000 from the end: rewind + replay", "ms", rewind * 1000);
      report.add("late insert: rewind + replay / full replay", "ratio", rewind / t);
      report.add("late insert: submit + rewind + replay / full replay", "ratio", (submit + rewind) / t);
    }
    report.progress("run " + std::to_string(run + 1) + ": 60 FPS, 2 ms budget", 1, 3);
    CatchUp budget = catch_up(saved, ", frameBudgetMs = 2, batchSize = 5000", 60LL * 3600);
    report.add("catch-up at 60 FPS, budget 2 ms", "game seconds", budget.game_seconds);
    report.add("worst frame, budget 2 ms", "ms", budget.worst_frame_ms);
    report.progress("run " + std::to_string(run + 1) + ": reference preset", 2, 3);
    if (n <= 100000) {
      CatchUp reference = catch_up(saved, ", batchSize = 50, interval = 0.5, frameBudgetMs = 0", 60LL * 86400);
      report.add("catch-up, reference preset (50 per 0.5 s)", "game seconds", reference.game_seconds);
      report.add("worst frame, reference preset", "ms", reference.worst_frame_ms);
    } else {
      // 100 entries per second of game time: the reference knobs' own arithmetic.
      report.add("catch-up, reference preset (50 per 0.5 s, computed)", "game seconds", static_cast<double>(n) / 100.0);
    }
    report.progress("done", 3, 3);
  }
  std::filesystem::remove_all(saved);
  report.print();
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << report.to_json().dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "tally bench replay: cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace tally::cli
