// The crash-safety proof: starts crash_writer hundreds of times, SIGKILLs it at a random moment,
// and checks after each kill that everything it acknowledged survived intact, that nothing it
// did not write appeared, and that no file was left half written (docs/reliability.md).
//
//   crash_loop <path of crash_writer> <work directory, emptied first>
//   TALLY_CRASH_KILLS: rounds (default 300; 100 in sanitizer builds)   TALLY_CRASH_SEED: default 1
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "crash_workload.hpp"
#include "runtime/atomic_file.hpp"
#include "runtime/journal.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TALLY_CRASH_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(TALLY_CRASH_SANITIZED)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// Sanitized processes start and run several times slower: fewer rounds, each one longer (a
// SavedVariables write takes ~10 ms there), so that kills still land in the writing.
constexpr std::uint64_t kDefaultKills = kSanitized ? 100 : 300;
constexpr std::uint64_t kDelayStretch = kSanitized ? 4 : 1;

// Past this many entries the journal is retired and the next round starts a new one, so that
// verifying every entry after every kill stays cheap.
constexpr std::uint64_t kMaxJournalEntries = 20000;
// How long a writer may take to open its file before the round gives up waiting.
constexpr auto kOpenTimeout = std::chrono::seconds(30);
// Kill delays are drawn uniformly up to one of these, so that short and long runs both occur.
constexpr std::uint64_t kDelayScalesUs[] = {1000, 5000, 25000};

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  std::uint64_t value = 0;
  const char* end = text + std::char_traits<char>::length(text);
  auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end) {
    throw std::runtime_error(std::string(name) + " is not a number: '" + text + "'");
  }
  return value;
}

[[noreturn]] void throw_system(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// ---------------------------------------------------------------------------------------------
// The writer process

struct WriterProcess {
  pid_t pid = -1;
  int out = -1;  // read end of its stdout
};

WriterProcess spawn_writer(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_system("cannot create a pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);  // the writer holds the only write end, so its death ends the stream
  if (rc != 0) {
    ::close(fds[0]);
    throw std::system_error(rc, std::generic_category(), "cannot start " + args[0]);
  }
  return {pid, fds[0]};
}

// Appends what the writer prints to `out` until `deadline`, or, with `until_first_line`, until
// its first line has arrived. Returns false when the writer has closed its end.
bool read_output(int fd, std::string& out, Clock::time_point deadline, bool until_first_line) {
  char buffer[4096];
  for (;;) {
    if (until_first_line && out.find('\n') != std::string::npos) return true;
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now());
    if (left.count() <= 0) return true;
    // ppoll, not poll: delays are drawn in microseconds.
    const timespec timeout{static_cast<time_t>(left.count() / 1000000000),
                           static_cast<long>(left.count() % 1000000000)};
    pollfd p{fd, POLLIN, 0};
    int ready = ::ppoll(&p, 1, &timeout, nullptr);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw_system("cannot poll the writer's output");
    if (ready == 0) return true;
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_system("cannot read the writer's output");
    if (n == 0) return false;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

// What a writer reported before it died; see crash_writer.cpp for the lines.
struct WriterReport {
  std::optional<std::uint64_t> opened;
  std::uint64_t submitted = 0;
  std::uint64_t durable = 0;
  std::uint64_t started = 0;
  std::uint64_t written = 0;
};

// Throws std::runtime_error on a line the protocol does not have.
WriterReport parse_report(std::string_view text) {
  WriterReport report;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    if (newline == std::string_view::npos) {
      throw std::runtime_error("half a line from the writer: '" + std::string(text) + "'");
    }
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline + 1);
    const std::size_t space = line.find(' ');
    const std::string_view word = line.substr(0, space);
    std::uint64_t value = 0;
    const char* begin = line.data() + (space == std::string_view::npos ? line.size() : space + 1);
    auto [ptr, ec] = std::from_chars(begin, line.data() + line.size(), value);
    if (space == std::string_view::npos || ec != std::errc() || ptr != line.data() + line.size()) {
      throw std::runtime_error("unreadable line from the writer: '" + std::string(line) + "'");
    }
    if (word == "open") {
      report.opened = value;
    } else if (word == "submit") {
      report.submitted = value;
    } else if (word == "durable") {
      report.durable = value;
    } else if (word == "write") {
      report.started = value;
    } else if (word == "wrote") {
      report.written = value;
    } else {
      throw std::runtime_error("unknown line from the writer: '" + std::string(line) + "'");
    }
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// The loop and its checks

// A machine crash, unlike a kill, may also lose what was written but not fsynced. `position`
// (random) picks the cut among the bytes after the last entry that must survive; with `zeros`
// the lost bytes read as zeros (the new size reached the disk, the data did not).
struct PowerCut {
  std::uint64_t position = 0;
  bool zeros = false;
};

struct Totals {
  std::uint64_t journal_kills = 0;
  std::uint64_t saved_kills = 0;
  std::uint64_t before_open = 0;  // kills before the writer had its file open
  std::uint64_t lost = 0;         // acknowledged entries (or generations) missing after a kill
  std::uint64_t corrupt = 0;      // content that differs from what was written; salvages
  std::uint64_t partial = 0;      // SavedVariables files neither absent nor a whole generation
  std::uint64_t errors = 0;       // writers that died by themselves, protocol and temp-file errors
  std::uint64_t torn_tails = 0;   // cut off by the journal's repair on open
  std::uint64_t kill_torn_tails = 0;  // of those, torn by the kill alone (no simulated cut)
  std::uint64_t power_cuts = 0;       // simulated losses of the unsynced tail
  std::uint64_t entries = 0;          // entries in all journals, verified after every kill
  std::uint64_t journals = 1;
  std::uint64_t generations = 0;  // SavedVariables generations written
  std::uint64_t stale_temp_files = 0;

  std::uint64_t failures() const { return lost + corrupt + partial + errors; }
};

class CrashLoop {
 public:
  CrashLoop(fs::path writer, const fs::path& dir, std::uint64_t seed)
      : writer_(std::move(writer)),
        dir_(dir),
        journal_(dir / "crash.journal"),
        saved_(dir / "CrashProbe.lua"),
        rng_(seed) {}

  void round(std::uint64_t index);
  const Totals& totals() const { return totals_; }

 private:
  void check_journal(const WriterReport& report, const std::optional<PowerCut>& cut);
  void lose_unsynced_tail(std::uint64_t must_have, const PowerCut& cut);
  void check_saved_variables(const WriterReport& report);
  void check_temp_files();
  // Entry n of the journal holds exactly crash::journal_entry(n).
  bool is_entry(const tally::EncodedEntry& got, std::uint64_t n);
  void fail(std::uint64_t& counter, std::uint64_t amount, const std::string& what);
  void set_aside(const fs::path& file);

  fs::path writer_;
  fs::path dir_;
  fs::path journal_;
  fs::path saved_;
  std::mt19937_64 rng_;
  std::uint64_t round_ = 0;
  std::uint64_t journal_entries_ = 0;      // what the journal held after the last check
  std::uint64_t saved_generation_ = 0;     // generation of the file after the last check; 0: none
  std::map<pid_t, std::uint64_t> killed_;  // killed writers by pid (a pid may come back)
  // crash::journal_entry(n) and its payload encoded, built once: every check compares them all.
  struct ExpectedEntry {
    tally::Entry entry;
    std::vector<std::uint8_t> payload;
  };
  std::vector<ExpectedEntry> expected_;
  Totals totals_;
};

void CrashLoop::fail(std::uint64_t& counter, std::uint64_t amount, const std::string& what) {
  counter += amount;
  std::fprintf(stderr, "crash loop round %llu: %s\n", static_cast<unsigned long long>(round_),
               what.c_str());
}

// Keeps a damaged file for inspection and lets the next round start afresh.
void CrashLoop::set_aside(const fs::path& file) {
  fs::path kept =
      dir_ / ("failed-round-" + std::to_string(round_) + "-" + file.filename().string());
  fs::rename(file, kept);
  std::fprintf(stderr, "crash loop round %llu: kept as %s\n",
               static_cast<unsigned long long>(round_), kept.c_str());
}

void CrashLoop::round(std::uint64_t index) {
  round_ = index;
  // Every choice is drawn from the seed, so a seed replays the same rounds (kill timing aside).
  const bool saved = rng_() % 5 == 0;
  const bool early = rng_() % 8 == 0;
  const std::uint64_t scale = kDelayScalesUs[rng_() % std::size(kDelayScalesUs)] * kDelayStretch;
  const std::chrono::microseconds delay(rng_() % (scale + 1));
  static constexpr const char* kPolicies[] = {"every-entry", "interval", "on-close"};
  const char* policy = kPolicies[rng_() % std::size(kPolicies)];
  const std::uint64_t writer_seed = rng_();
  // A third of the journal rounds also lose the unsynced tail (braces order the two draws).
  const auto cut =
      rng_() % 3 == 0 ? std::optional(PowerCut{rng_(), rng_() % 2 == 0}) : std::nullopt;

  std::vector<std::string> args{writer_.string()};
  if (saved) {
    args.insert(args.end(), {"savedvars", saved_.string()});
  } else {
    args.insert(args.end(), {"journal", journal_.string(), policy, std::to_string(writer_seed)});
  }
  WriterProcess writer = spawn_writer(args);
  std::string output;
  // Most kills are timed from the moment the file is open, where the writing happens; the
  // early ones from the spawn, so opening (and creating the journal) gets hit too.
  if (!early) read_output(writer.out, output, Clock::now() + kOpenTimeout, true);
  read_output(writer.out, output, Clock::now() + delay, false);
  ::kill(writer.pid, SIGKILL);
  int status = 0;
  while (::waitpid(writer.pid, &status, 0) < 0) {
    if (errno != EINTR) throw_system("cannot wait for the writer");
  }
  if (read_output(writer.out, output, Clock::now() + std::chrono::seconds(10), false)) {
    throw std::runtime_error("the killed writer's output did not end");
  }
  ::close(writer.out);

  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
    ++killed_[writer.pid];
  } else {
    fail(totals_.errors, 1,
         "the writer ended by itself (status " + std::to_string(status) + ") before the kill");
  }
  WriterReport report;
  try {
    report = parse_report(output);
  } catch (const std::exception& e) {
    fail(totals_.errors, 1, e.what());
  }
  totals_.before_open += report.opened ? 0 : 1;
  if (saved) {
    check_saved_variables(report);
  } else {
    check_journal(report, cut);
  }
  check_temp_files();
}

bool CrashLoop::is_entry(const tally::EncodedEntry& got, std::uint64_t n) {
  while (expected_.size() <= n) {
    tally::Entry entry = crash::journal_entry(expected_.size());
    std::vector<std::uint8_t> payload = tally::encode_payload(entry.payload);
    expected_.push_back({std::move(entry), std::move(payload)});
  }
  const ExpectedEntry& want = expected_[n];
  return got.key == want.entry.key && got.type == want.entry.type &&
         got.revision == want.entry.revision && std::ranges::equal(got.payload, want.payload);
}

void CrashLoop::lose_unsynced_tail(std::uint64_t must_have, const PowerCut& cut) {
  std::size_t keep = 0;
  std::size_t size = 0;
  {
    tally::JournalContents contents;
    const tally::MappedFile file = tally::MappedFile::open(journal_);
    const std::span<const std::uint8_t> bytes = file.bytes();
    const tally::JournalScan scan =
        tally::read_journal(bytes, journal_.string(), crash::kLedgerId, contents);
    keep = scan.header_size;
    std::uint64_t entries = 0;
    for (auto [offset, length] : scan.records) {
      if (entries == must_have) break;
      // A record is a 12-byte head and a body whose first byte is 2 for an entry (journal.hpp).
      if (bytes[offset + 12] == 2) ++entries;
      keep = offset + length;
    }
    size = bytes.size();
  }
  const std::size_t at = keep + static_cast<std::size_t>(cut.position % (size - keep + 1));
  if (at == size) return;
  ++totals_.power_cuts;
  fs::resize_file(journal_, at);
  if (cut.zeros) fs::resize_file(journal_, size);
}

void CrashLoop::check_journal(const WriterReport& report, const std::optional<PowerCut>& cut) {
  ++totals_.journal_kills;
  if (report.opened && *report.opened != journal_entries_) {
    fail(totals_.corrupt, 1,
         "the writer found " + std::to_string(*report.opened) + " entries, the last check left " +
             std::to_string(journal_entries_));
  }
  if (!fs::exists(journal_)) {
    // Killed before the journal was created: then nothing can have been acknowledged.
    if (journal_entries_ != 0 || report.durable != 0) {
      fail(totals_.lost, std::max(journal_entries_, report.durable), "the journal is gone");
    }
    return;
  }
  // Every entry acknowledged, and every one the last check found, must be there; no entry
  // beyond those submitted may be.
  const std::uint64_t must_have = std::max(journal_entries_, report.durable);
  const std::uint64_t may_have = std::max(journal_entries_, report.submitted);
  try {
    if (cut) lose_unsynced_tail(must_have, *cut);
    // Look before the repair: a crash may leave a torn tail, never damage further in (which
    // open() would salvage, setting the original aside).
    {
      tally::JournalContents seen;
      const tally::MappedFile file = tally::MappedFile::open(journal_);
      const tally::JournalScan scan =
          tally::read_journal(file.bytes(), journal_.string(), crash::kLedgerId, seen);
      if (scan.bad_regions.size() == 1 && scan.bad_regions[0].end == file.bytes().size()) {
        ++totals_.torn_tails;
        totals_.kill_torn_tails += cut ? 0 : 1;
      } else if (!scan.bad_regions.empty()) {
        const tally::BadRegion& bad = scan.bad_regions.front();
        fail(totals_.corrupt, 1,
             "damage before the tail: offset " + std::to_string(bad.begin) + ": " + bad.reason);
        set_aside(journal_);
        journal_entries_ = 0;
        return;
      }
    }
    // Reopen as the runtime does, repair included, and read the entries in journal order.
    tally::JournalContents contents;
    tally::Journal::open(journal_, crash::kLedgerId, {}, contents).close();
    const std::uint64_t present = contents.entries.size();
    std::uint64_t intact = 0;
    while (intact < present && is_entry(contents.entries[intact], intact)) ++intact;
    // Entries are submitted in order and the journal appends in order, so what survives is a
    // prefix: every acknowledged entry, then perhaps some written but not yet acknowledged.
    if (intact < must_have) {
      fail(totals_.lost, must_have - intact,
           "acknowledged entries " + std::to_string(intact) + ".." + std::to_string(must_have - 1) +
               " are missing or differ");
    }
    if (intact < present) {
      fail(totals_.corrupt, 1,
           "entry " + std::to_string(intact) + " is not what the writer submitted (journal has " +
               std::to_string(present) + ")");
    } else if (present > may_have) {
      fail(totals_.corrupt, 1,
           "the journal has " + std::to_string(present) + " entries, only " +
               std::to_string(may_have) + " were submitted");
    }
    if (intact < present || present > may_have) {
      set_aside(journal_);
      journal_entries_ = 0;
      return;
    }
    totals_.entries += present - journal_entries_;
    journal_entries_ = present;
  } catch (const tally::JournalError& e) {
    fail(totals_.corrupt, 1, e.what());
    set_aside(journal_);
    journal_entries_ = 0;
    return;
  }
  if (journal_entries_ >= kMaxJournalEntries) {
    fs::remove(journal_);
    journal_entries_ = 0;
    ++totals_.journals;
  }
}

void CrashLoop::check_saved_variables(const WriterReport& report) {
  ++totals_.saved_kills;
  if (report.opened && *report.opened != saved_generation_) {
    fail(totals_.corrupt, 1,
         "the writer found generation " + std::to_string(*report.opened) +
             ", the last check left " + std::to_string(saved_generation_));
  }
  if (!fs::exists(saved_)) {
    // Absent is fine only before the first write completed.
    if (saved_generation_ != 0 || report.written != 0) {
      fail(totals_.lost, 1, "the SavedVariables file is gone");
    }
    return;
  }
  const std::string text = tally::read_file(saved_);
  std::uint64_t generation = 0;
  try {
    generation = crash::saved_generation(text, saved_.string());
    if (text != crash::saved_variables_text(generation)) {
      throw std::runtime_error("not the whole of generation " + std::to_string(generation));
    }
  } catch (const std::exception& e) {
    fail(totals_.partial, 1, std::string("SavedVariables file is partial: ") + e.what());
    set_aside(saved_);
    saved_generation_ = 0;
    return;
  }
  // The file is the last generation acknowledged or the one being written when the kill came.
  const std::uint64_t oldest = std::max(saved_generation_, report.written);
  const std::uint64_t newest = std::max(saved_generation_, report.started);
  if (generation < oldest) {
    fail(totals_.lost, oldest - generation,
         "SavedVariables file is generation " + std::to_string(generation) + ", generation " +
             std::to_string(oldest) + " was acknowledged");
  } else if (generation > newest) {
    fail(totals_.corrupt, 1,
         "SavedVariables file is generation " + std::to_string(generation) + ", only " +
             std::to_string(newest) + " was started");
  }
  totals_.generations += generation - std::min(generation, saved_generation_);
  saved_generation_ = generation;
}

// A writer killed inside write_file_atomically leaves its temporary file
// ("<file>.tmp-<pid>-<n>"): at most one per killed writer, until the next writer's first write
// removes it (runtime/atomic_file.cpp). They are counted; one of a writer that was not killed is
// an error.
void CrashLoop::check_temp_files() {
  std::map<pid_t, std::uint64_t> per_writer;
  std::uint64_t count = 0;
  for (const fs::directory_entry& item : fs::directory_iterator(dir_)) {
    const std::string name = item.path().filename().string();
    const std::size_t at = name.find(".tmp-");
    if (at == std::string::npos) continue;
    ++count;
    pid_t pid = 0;
    std::from_chars(name.data() + at + 5, name.data() + name.size(), pid);
    if (++per_writer[pid] > killed_[pid]) {
      fail(totals_.errors, 1, "temporary file " + name + " was not left by a killed writer");
    }
  }
  totals_.stale_temp_files = count;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_loop <crash_writer> <work directory>\n");
    return 2;
  }
  try {
    const std::uint64_t kills = env_number("TALLY_CRASH_KILLS", kDefaultKills);
    const std::uint64_t seed = env_number("TALLY_CRASH_SEED", 1);
    const fs::path dir = argv[2];
    fs::remove_all(dir);
    fs::create_directories(dir);

    CrashLoop loop(argv[1], dir, seed);
    const auto start = Clock::now();
    for (std::uint64_t i = 1; i <= kills; ++i) loop.round(i);
    const std::chrono::duration<double> took = Clock::now() - start;

    const Totals& t = loop.totals();
    const auto n = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
    std::printf(
        "crash loop: %llu kills, %llu lost acknowledged entries, %llu corrupt, %llu torn tails "
        "repaired (%llu left by the kill itself), %llu simulated power cuts, %llu SavedVariables "
        "kills, %llu partial files, %llu errors\n",
        n(t.journal_kills + t.saved_kills), n(t.lost), n(t.corrupt), n(t.torn_tails),
        n(t.kill_torn_tails), n(t.power_cuts), n(t.saved_kills), n(t.partial), n(t.errors));
    std::printf(
        "crash loop: seed %llu, %.1f s; %llu kills before the file was open; %llu entries in %llu "
        "journals "
        "and %llu SavedVariables generations verified; %llu stale temporary files\n",
        n(seed), took.count(), n(t.before_open), n(t.entries), n(t.journals), n(t.generations),
        n(t.stale_temp_files));
    if (t.failures() != 0) {
      std::printf("crash loop FAILED; files kept in %s\n", dir.c_str());
      return 1;
    }
    fs::remove_all(dir);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crash_loop: %s\n", e.what());
    return 1;
  }
}
