// Writing the award journal, and a client catching up with it at a fixed frame rate.
#include "cli/bench_catchup.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>
#include <vector>

#include <time.h>
#include <unistd.h>

#include "runtime/persistent_ledger.hpp"

namespace tally::cli {

namespace {

// CPU time of this thread: what a frame cost, without the time other processes took the core.
double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

}  // namespace

const char* const kBenchLedgerScript =
    "bench = Tally.NewLedger{ name = 'Bench', persist = true }\n"
    "points = {}\n"
    "bench:RegisterMutator('award', function(state, data) points[data.player] = (points[data.player] or 0) + data.amount end)\n";

AwardJournal::AwardJournal(std::size_t n, std::uint32_t seed)
    : saved_(std::filesystem::temp_directory_path() / ("tally-bench-replay-" + std::to_string(::getpid()))),
      entries_(n) {
  auto path = saved_ / "Bench" / "Ledgers" / "Bench.journal";
  std::filesystem::create_directories(path.parent_path());
  std::filesystem::remove(path);
  auto store = PersistentLedger::open(path, "Bench", {FsyncPolicy::OnClose, {}}, nullptr);
  std::mt19937 rng(seed);
  std::vector<Entry> batch;
  for (std::size_t i = 0; i < n; ++i) {
    Entry e{{static_cast<std::uint32_t>(1600000000 + i / 4), static_cast<std::uint8_t>(i % 4), 0,
             static_cast<std::uint32_t>(1000 + rng() % 50)},
            "award", 1, {}};
    e.payload.set("player", "Player" + std::to_string(rng() % 1000))
        .set("amount", static_cast<std::int64_t>(rng() % 50 + 1));
    batch.push_back(std::move(e));
    if (batch.size() == 100000 || i + 1 == n) {
      store.insert_batch(std::span<const Entry>(batch));
      batch.clear();
    }
  }
  store.close();
}

AwardJournal::~AwardJournal() {
  std::error_code ignored;
  std::filesystem::remove_all(saved_, ignored);
}

BenchClient::BenchClient(const AwardJournal& journal, const HostOptions& options, double script_time_limit)
    : host(options),
      client(host.add_client(
          {.name = "Bench", .script_time_limit = script_time_limit, .saved_variables_dir = journal.saved()})) {
  host.start();
  client.run_script(kBenchLedgerScript);
}

CatchUp catch_up(const AwardJournal& journal, const ReplayKnobs& knobs, double fps, double max_game_seconds,
                 bool decode_thread) {
  HostOptions options;
  options.forced_knobs = knobs;
  options.decode_ahead.enabled = decode_thread;
  BenchClient bench(journal, options, 60);
  Host& host = bench.host;
  LedgerBinding* ledger = bench.client.ledgers().find("Bench");
  if (ledger == nullptr) throw std::runtime_error("bench: the ledger Bench did not open");
  const std::size_t target = ledger->target();
  const auto max_frames = static_cast<long long>(max_game_seconds * fps);
  CatchUp result;
  while (ledger->applied() < target && result.frames < max_frames) {
    const double before = thread_cpu_ms();
    host.tick(1.0 / fps);
    const double ms = thread_cpu_ms() - before;
    ++result.frames;
    result.worst_frame_ms = std::max(result.worst_frame_ms, ms);
    result.cpu_ms += ms;
  }
  result.done = ledger->applied() >= target;
  result.events = ledger->applied();
  result.worst_replay_wall_ms = ledger->metrics().frame_ms().max();
  result.game_seconds = static_cast<double>(result.frames) / fps;
  if (!result.done && result.events > 0)
    result.game_seconds *= static_cast<double>(target) / static_cast<double>(result.events);
  return result;
}

}  // namespace tally::cli
