// The process crash_loop kills: appends crash::journal_entry(n) to a journal, or rewrites a
// SavedVariables file generation after generation, and reports on stdout after each step what
// is durable. Runs until killed.
//
//   crash_writer journal <path> every-entry|interval|on-close <seed>
//   crash_writer savedvars <path>
//
// Lines: "open N" (entries, or the generation, found at start), then for a journal
// "submit N" (entries below N are being handed over) and "durable N" (entries below N are
// acknowledged durable), for SavedVariables "write G" and "wrote G" (generation G is complete).
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "crash_workload.hpp"
#include "runtime/atomic_file.hpp"
#include "runtime/persistent_ledger.hpp"

namespace {

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "crash_writer: %s\n", message.c_str());
  std::exit(2);
}

// One write(2) per line: a pipe write of at most PIPE_BUF bytes is atomic, so the driver never
// sees half a line, and nothing waits in a stdio buffer when the kill comes.
void report(std::string_view word, std::uint64_t value) {
  const std::string line = std::string(word) + " " + std::to_string(value) + "\n";
  if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    fail("cannot report to the driver");
  }
}

[[noreturn]] void run_journal(const std::filesystem::path& path, tally::FsyncPolicy policy,
                              std::uint64_t seed) {
  // A short interval, so that Interval runs acknowledge entries within the few ms they live.
  const tally::JournalOptions options{policy, std::chrono::milliseconds(2)};
  std::vector<std::string> warnings;
  auto store = tally::PersistentLedger::open(path, crash::kLedgerId, options, &warnings);
  // The driver repairs the journal after every kill, so nothing may be left to repair here.
  if (!warnings.empty()) fail("unexpected repair on open: " + warnings.front());
  const std::uint64_t start = store.ledger().size();
  report("open", start);

  std::mt19937_64 rng(seed);
  std::vector<tally::Entry> batch;
  std::uint64_t next = start;
  for (std::uint64_t step = 1;; ++step) {
    // Half the steps insert one entry, the others a batch of 2 to 64.
    const std::uint64_t count = rng() % 2 == 0 ? 1 : 2 + rng() % 63;
    report("submit", next + count);
    std::size_t inserted = 0;
    if (count == 1) {
      auto result = store.insert(crash::journal_entry(next));
      inserted = result.status == tally::InsertStatus::Inserted ? 1 : 0;
    } else {
      batch.clear();
      for (std::uint64_t n = next; n < next + count; ++n) batch.push_back(crash::journal_entry(n));
      inserted = store.insert_batch(batch).inserted;
    }
    if (inserted != count) fail("entries from " + std::to_string(next) + " were not all new");
    next += count;
    // OnClose syncs only when asked to: ask every fourth step, as its callers would.
    if (policy == tally::FsyncPolicy::OnClose && step % 4 == 0) store.journal().sync();
    report("durable", start + store.journal().durable());
  }
}

[[noreturn]] void run_saved_variables(const std::filesystem::path& path) {
  std::uint64_t generation = 0;
  if (std::filesystem::exists(path)) {
    generation = crash::saved_generation(tally::read_file(path), path.string());
  }
  report("open", generation);
  for (;;) {
    ++generation;
    const std::string text = crash::saved_variables_text(generation);
    report("write", generation);
    tally::write_file_atomically(path, text);
    report("wrote", generation);
  }
}

tally::FsyncPolicy policy_named(std::string_view name) {
  if (name == "every-entry") return tally::FsyncPolicy::EveryEntry;
  if (name == "interval") return tally::FsyncPolicy::Interval;
  if (name == "on-close") return tally::FsyncPolicy::OnClose;
  fail("unknown fsync policy '" + std::string(name) + "'");
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  try {
    if (args.size() == 4 && args[0] == "journal") {
      run_journal(args[1], policy_named(args[2]), std::stoull(std::string(args[3])));
    }
    if (args.size() == 2 && args[0] == "savedvars") run_saved_variables(args[1]);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  fail(
      "usage: crash_writer journal <path> every-entry|interval|on-close <seed> | "
      "crash_writer savedvars <path>");
}
