// `tally bench ledger`: insert, merge, journal and memory figures for a DKP-style ledger.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "cli/arguments.hpp"
#include "cli/bench_harness.hpp"
#include "cli/commands.hpp"
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

}  // namespace

int bench_ledger(const std::vector<std::string>& args) {
  Arguments a(args, {});
  a.reject_unknown({"entries", "runs", "seed", "json", "dir"});
  auto n = static_cast<std::size_t>(a.integer("entries", 1000000, 1000, 50000000));
  int runs = static_cast<int>(a.integer("runs", 3, 1, 100));
  auto seed = static_cast<std::uint32_t>(a.integer("seed", 42, 0, 0xffffffffLL));
  std::string json_path = a.text("json", "");
  std::filesystem::path dir = a.text("dir", std::filesystem::temp_directory_path().string());

  BenchReport report("ledger", {{"entries", n}, {"runs", runs}, {"seed", seed}});
  Workload work = make_workload(n, seed);
  std::vector<EncodedEntry> shuffled = work.entries;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(seed + 1));
  // Every tenth entry is held back and merged later as one scattered batch.
  std::vector<EncodedEntry> base, scattered;
  for (std::size_t i = 0; i < n; ++i) (i % 10 == 3 ? scattered : base).push_back(work.entries[i]);
  std::shuffle(scattered.begin(), scattered.end(), std::mt19937(seed + 2));
  auto journal_path = dir / ("tally-bench-" + std::to_string(::getpid()) + ".journal");

  {  // Warm-up: page in the workload and the allocator.
    Ledger warm;
    for (std::size_t i = 0; i < n / 10; ++i) warm.insert(work.entries[i]);
  }
  const int steps = 6;
  for (int run = 0; run < runs; ++run) {
    auto label = [&](const char* what) { return "run " + std::to_string(run + 1) + ": " + what; };
    report.progress(label("in-order inserts"), 0, steps);
    Ledger in_order;
    double t = time_seconds([&] {
      for (const auto& e : work.entries) in_order.insert(e);
    });
    report.add("insert, in order", "entries/s", static_cast<double>(n) / t);
    report.add("memory per entry (in order)", "bytes",
               static_cast<double>(in_order.memory_bytes()) / static_cast<double>(n));
    report.add("payload per entry", "bytes",
               static_cast<double>(in_order.payload_bytes()) / static_cast<double>(n));

    report.progress(label("random-order inserts"), 1, steps);
    Ledger random;
    t = time_seconds([&] {
      for (const auto& e : shuffled) random.insert(e);
    });
    report.add("insert, random order", "entries/s", static_cast<double>(n) / t);
    report.add("memory per entry (random order)", "bytes",
               static_cast<double>(random.memory_bytes()) / static_cast<double>(n));

    report.progress(label("bulk merges"), 2, steps);
    Ledger unsorted_bulk;
    t = time_seconds([&] { unsorted_bulk.insert_batch(std::span<const EncodedEntry>(shuffled)); });
    report.add("bulk load, unsorted batch", "entries/s", static_cast<double>(n) / t);
    Ledger merged;
    merged.insert_batch(std::span<const EncodedEntry>(base));
    t = time_seconds([&] { merged.insert_batch(std::span<const EncodedEntry>(scattered)); });
    report.add("bulk merge, 10% scattered", "entries/s",
               static_cast<double>(scattered.size()) / t);

    report.progress(label("journal write"), 3, steps);
    std::filesystem::remove(journal_path);
    t = time_seconds([&] {
      auto store = PersistentLedger::open(journal_path, "bench", {FsyncPolicy::OnClose, {}}, nullptr);
      store.insert_batch(std::span<const EncodedEntry>(work.entries));
      store.close();
    });
    report.add("journal write (batch, one fsync)", "entries/s", static_cast<double>(n) / t);
    auto file_size = std::filesystem::file_size(journal_path);
    report.add("journal bytes per entry", "bytes",
               static_cast<double>(file_size) / static_cast<double>(n));

    report.progress(label("journal load"), 4, steps);
    std::size_t loaded = 0;
    t = time_seconds([&] {
      auto store = PersistentLedger::open(journal_path, "bench", {}, nullptr);
      loaded = store.ledger().size();
    });
    if (loaded != n) {
      std::fprintf(stderr, "tally bench ledger: journal reloaded %zu of %zu entries\n", loaded, n);
      return 1;
    }
    report.add("journal load", "seconds", t);
    report.add("journal load rate", "entries/s", static_cast<double>(n) / t);
    report.progress(label("done"), steps, steps);
  }
  std::filesystem::remove(journal_path);

  report.print();
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << report.to_json().dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "tally bench ledger: cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace tally::cli
