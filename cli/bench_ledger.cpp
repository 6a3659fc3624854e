// `tally bench ledger`: insert, merge, journal and memory figures for a DKP-style ledger.
#include <algorithm>
#include <filesystem>
#include <random>
#include <stdexcept>

#include <unistd.h>

#include "cli/arguments.hpp"
#include "cli/bench_suite.hpp"
#include "runtime/persistent_ledger.hpp"

namespace tally::cli {

namespace {

// n DKP-style entries in key order: four per second, 1000 players, payloads pre-encoded.
struct Workload {
  std::vector<std::uint8_t> bytes;
  std::vector<EncodedEntry> entries;
};

Workload make_workload(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Workload w;
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  const char* reasons[] = {"boss kill", "on time", "attendance", "manual"};
  for (std::size_t i = 0; i < n; ++i) {
    Payload p;
    p.set("player", "Player" + std::to_string(rng() % 1000));
    p.set("amount", static_cast<std::int64_t>(rng() % 50) + 1);
    p.set("reason", std::string(reasons[rng() % 4]));
    std::size_t start = w.bytes.size();
    encode_payload_into(p, w.bytes);
    ranges.emplace_back(start, w.bytes.size() - start);
  }
  for (std::size_t i = 0; i < n; ++i) {
    EntryKey key{static_cast<std::uint32_t>(1600000000 + i / 4), static_cast<std::uint8_t>(i % 4),
                 0, static_cast<std::uint32_t>(1000 + (i * 7919) % 1000)};
    w.entries.push_back({key, i % 10 == 0 ? "spend" : "award", 1,
                         std::span(w.bytes).subspan(ranges[i].first, ranges[i].second)});
  }
  return w;
}

BenchResult run(const Arguments& a, const BenchSettings& settings) {
  auto n = static_cast<std::size_t>(a.integer("entries", 1000000, 1000, 50000000));
  std::filesystem::path dir = a.text("dir", std::filesystem::temp_directory_path().string());
  const std::uint32_t seed = settings.seed;

  BenchResult report{"ledger", {{"entries", n}}, settings};
  Workload work = make_workload(n, seed);
  std::vector<EncodedEntry> shuffled = work.entries;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(seed + 1));
  // Every tenth entry is held back and merged later as one scattered batch.
  std::vector<EncodedEntry> base, scattered;
  for (std::size_t i = 0; i < n; ++i) (i % 10 == 3 ? scattered : base).push_back(work.entries[i]);
  std::shuffle(scattered.begin(), scattered.end(), std::mt19937(seed + 2));
  auto journal_path = dir / ("tally-bench-" + std::to_string(::getpid()) + ".journal");

  Progress progress(5 * (settings.warmup + settings.runs));
  repeat_runs(report, progress, settings.warmup, settings.runs, [&](Run& run) {
    run.step("in-order inserts");
    Ledger in_order;
    double t = time_seconds([&] {
      for (const auto& e : work.entries) in_order.insert(e);
    });
    run.record("insert, in order", "entries/s", static_cast<double>(n) / t);
    run.record("memory per entry (in order)", "bytes",
               static_cast<double>(in_order.memory_bytes()) / static_cast<double>(n));
    run.record("payload per entry", "bytes",
               static_cast<double>(in_order.payload_bytes()) / static_cast<double>(n));

    run.step("random-order inserts");
    Ledger random;
    t = time_seconds([&] {
      for (const auto& e : shuffled) random.insert(e);
    });
    run.record("insert, random order", "entries/s", static_cast<double>(n) / t);
    run.record("memory per entry (random order)", "bytes",
               static_cast<double>(random.memory_bytes()) / static_cast<double>(n));

    run.step("bulk merges");
    Ledger unsorted_bulk;
    t = time_seconds([&] { unsorted_bulk.insert_batch(std::span<const EncodedEntry>(shuffled)); });
    run.record("bulk load, unsorted batch", "entries/s", static_cast<double>(n) / t);
    Ledger merged;
    merged.insert_batch(std::span<const EncodedEntry>(base));
    t = time_seconds([&] { merged.insert_batch(std::span<const EncodedEntry>(scattered)); });
    run.record("bulk merge, 10% scattered", "entries/s", static_cast<double>(scattered.size()) / t);

    run.step("journal write");
    std::filesystem::remove(journal_path);
    t = time_seconds([&] {
      auto store = PersistentLedger::open(journal_path, "bench", {FsyncPolicy::OnClose, {}}, nullptr);
      store.insert_batch(std::span<const EncodedEntry>(work.entries));
      store.close();
    });
    run.record("journal write (batch, one fsync)", "entries/s", static_cast<double>(n) / t);
    auto file_size = std::filesystem::file_size(journal_path);
    run.record("journal bytes per entry", "bytes", static_cast<double>(file_size) / static_cast<double>(n));

    run.step("journal load");
    std::size_t loaded = 0;
    t = time_seconds([&] {
      auto store = PersistentLedger::open(journal_path, "bench", {}, nullptr);
      loaded = store.ledger().size();
    });
    std::filesystem::remove(journal_path);
    if (loaded != n)
      throw std::runtime_error("bench ledger: journal reloaded " + std::to_string(loaded) + " of " + std::to_string(n) + " entries");
    run.record("journal load", "seconds", t);
    run.record("journal load rate", "entries/s", static_cast<double>(n) / t);
  });
  return report;
}

}  // namespace

BenchDef ledger_bench() {
  return {.name = "ledger",
          .usage = "[--entries N (1000000)] [--dir DIR]",
          .summary = "insert in and out of order, bulk merge, journal write and load, memory per entry",
          .defaults = {.runs = 3, .warmup = 1},
          .options = {"entries", "dir"},
          .small = {"--entries", "100000"},
          .run = run,
          .print = {}};
}

}  // namespace tally::cli
