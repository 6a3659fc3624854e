// `tally bench sync`: the bytes, messages and simulated seconds the reference protocol and
// Tally's need to repair d missing entries of a year-long DKP ledger (the d newest, or d
// scattered), and to confirm "in sync", set beside the lower bound of SYNC.md (docs/sync.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <tuple>

#include "cli/arguments.hpp"
#include "cli/bench_suite.hpp"
#include "runtime/sync_reference.hpp"
#include "runtime/sync_simulation.hpp"
#include "runtime/sync_tally.hpp"

namespace tally::cli {

namespace {

// ---------------------------------------------------------------------------------------------
// The workload: a guild's year of DKP entries. Two three-hour raids a week for 52 weeks; each
// entry at a uniformly random second of a raid, written by one of four officers.

constexpr std::uint32_t kYearStart = 1700092800;  // a reference week starts here (a Thursday)
constexpr std::uint32_t kWeeks = 52;
constexpr std::uint32_t kRaidSeconds = 3 * 3600;
constexpr std::uint32_t kRaidStarts[] = {6 * 86400 + 19 * 3600,   // Wednesday 19:00
                                         3 * 86400 + 19 * 3600};  // Sunday 19:00
constexpr std::uint32_t kOfficers = 4;
constexpr std::uint32_t kRoster = 40;
constexpr double kFingerprintBits = 64;   // λ: an "in sync" fingerprint this strong
constexpr double kCapSeconds = 6 * 3600;  // simulated time allowed to converge

// Bits of entropy in one key: a uniform second of the year's raid time, one of the officers
// (counters and realms are almost always 0 and add nothing worth counting).
double key_entropy_bits() {
  return std::log2(static_cast<double>(kWeeks) * std::size(kRaidStarts) * kRaidSeconds * kOfficers);
}

std::vector<Entry> make_year(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&rng](std::uint32_t below) { return static_cast<std::uint32_t>(rng() % below); };
  const char* reasons[] = {"boss kill", "on time", "attendance", "progression"};
  std::vector<Entry> year;
  year.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t week = pick(kWeeks);
    std::uint32_t raid = kRaidStarts[pick(std::size(kRaidStarts))];
    std::uint32_t second = pick(kRaidSeconds);
    EntryKey key{kYearStart + week * 604800 + raid + second, 0, 0, 1001 + pick(kOfficers)};
    Entry e{key, "award", 1, {}};
    std::string player = "Raider";
    player += std::to_string(pick(kRoster));
    e.payload.set("player", player);
    if (pick(100) < 15) {
      e.type = "spend";
      e.payload.set("amount", std::int64_t{10} + pick(200))
          .set("item", std::int64_t{19000} + pick(4000));
    } else {
      e.payload.set("amount", std::int64_t{5} * (1 + pick(10)))
          .set("reason", std::string(reasons[pick(4)]));
    }
    year.push_back(std::move(e));
  }
  // One officer's entries within one second are told apart by their counter.
  auto second_and_creator = [](const Entry& e) { return std::tie(e.key.timestamp, e.key.creator); };
  std::sort(year.begin(), year.end(), [&](const Entry& a, const Entry& b) {
    return second_and_creator(a) < second_and_creator(b);
  });
  for (std::size_t i = 1; i < year.size(); ++i) {
    if (second_and_creator(year[i - 1]) == second_and_creator(year[i])) {
      year[i].key.counter = static_cast<std::uint8_t>(year[i - 1].key.counter + 1);
    }
  }
  std::sort(year.begin(), year.end(), [](const Entry& a, const Entry& b) { return a.key < b.key; });
  return year;
}

// The prefixes a simulated client's link sends on (its lanes).
std::vector<std::string> lane_prefixes() {
  SyncSimulation probe;
  return probe.add("Probe").link->prefixes();
}

// Mean bytes per entry on the wire: the year in full entry frames, as SyncLink cuts them (prefix
// and text within 254 bytes for its longest prefix), each charged a prefix of the lanes' mean
// length.
double mean_entry_bytes(const std::vector<Entry>& year, const std::vector<std::string>& prefixes) {
  std::size_t longest = 0;
  double prefix_bytes = 0;
  for (const std::string& p : prefixes) {
    longest = std::max(longest, p.size());
    prefix_bytes += static_cast<double>(p.size()) / static_cast<double>(prefixes.size());
  }
  std::size_t frame = std::min(kDefaultMaxFrameBytes, 254 - longest);
  auto messages = encode_entry_messages({MessageKind::Entries, 1}, year, max_body_bytes(frame));
  double bytes = 0;
  for (const auto& m : messages)
    bytes += prefix_bytes + static_cast<double>(m.size() + 1);  // +1: COBS
  return bytes / static_cast<double>(year.size());
}

// B* of SYNC.md (the shared design notes): the missing entries themselves plus which ones they are;
// for d = 0, one fingerprint.
double lower_bound_bytes(std::size_t d, double entry_bytes) {
  if (d == 0) return kFingerprintBits / 8;
  auto dd = static_cast<double>(d);
  return dd * entry_bytes + (key_entropy_bits() - std::log2(dd) + 1.44) * dd / 8;
}

// ---------------------------------------------------------------------------------------------
// One simulated repair.

enum class Pattern : std::uint8_t { InSync, Recent, Scattered };
const char* pattern_name(Pattern p) {
  switch (p) {
    case Pattern::InSync:
      return "in sync";
    case Pattern::Recent:
      return "recent";
    case Pattern::Scattered:
      return "scattered";
  }
  return "?";
}

struct Outcome {
  bool done = false;
  double seconds = 0;
  double bytes = 0;
  double frames = 0;
  double lacking_bytes = 0;  // sent by the client that lacked entries
  std::map<std::string, double> bytes_by_kind;
};

// A silent guild member that hears every broadcast: bytes per message kind, and which weeks'
// hashes the reference's adverts stated (what its "in sync" is confirmed by).
class Tap {
 public:
  void on(const Delivery& d) {
    auto frame = decode_frame(d.text);
    std::string kind = "undecodable";
    if (frame.ok()) {
      if (const auto* m = std::get_if<SyncMessage>(&frame.value())) {
        kind = kind_name(kind_of(*m));
      } else {
        const Chunk& c = std::get<Chunk>(frame.value());
        auto id = std::make_pair(d.sender_name, c.message_id);
        // A chunked message's first piece starts with its version and kind bytes.
        if (c.index == 0 && c.piece.size() >= 2 && is_message_kind(c.piece[1])) {
          chunk_kinds_[id] = std::string(kind_name(static_cast<MessageKind>(c.piece[1])));
        }
        auto it = chunk_kinds_.find(id);
        if (it != chunk_kinds_.end()) kind = it->second;
      }
    }
    bytes_by_kind_[kind] += static_cast<double>(d.prefix.size() + d.text.size());
    auto message = reassembler_.receive(d.sender_name, d.text, d.time);
    if (!message || !message->ok()) return;
    if (const auto* a = std::get_if<RefAdvert>(&message->value())) {
      for (const RefAdvertWeek& w : a->weeks) weeks_advertised_.insert(w.week);
    }
  }
  const std::map<std::string, double>& bytes_by_kind() const { return bytes_by_kind_; }
  const std::set<std::uint32_t>& weeks_advertised() const { return weeks_advertised_; }

 private:
  std::map<std::pair<std::string, std::uint16_t>, std::string> chunk_kinds_;
  std::map<std::string, double> bytes_by_kind_;
  Reassembler reassembler_;
  std::set<std::uint32_t> weeks_advertised_;
};

// The in-sync case is confirmed when every client has compared its whole state with a peer:
// Tally's clients all report Synced with both peers; for the reference, every week holding
// entries has been advertised once (whoever holds the same stays silent, so one advert of a
// week confirms it for everyone).
bool confirmed(SyncSimulation& bed, const Tap& tap, bool reference) {
  for (auto& m : bed.members()) {
    if (!m->link) continue;
    if (reference) {
      for (const auto& [week, summary] : m->ledger.weeks()) {
        if (summary.count > 0 && !tap.weeks_advertised().contains(week)) return false;
      }
    } else if (m->link->endpoint().state(bed.now()) != SyncState::Synced ||
               m->link->endpoint().peers().size() < 2) {
      return false;
    }
  }
  return true;
}

// Three clients: one lacking `missing` (positions in `year`), and two holding the whole year.
// Runs until the ledgers agree (or, with nothing missing, until "in sync" is confirmed), then
// until the send queues are empty; bytes and frames count everything sent by then.
Outcome simulate(const std::vector<Entry>& year, const std::vector<std::size_t>& missing,
                 bool reference, std::uint32_t seed) {
  SyncSimulation bed({}, seed);
  SyncFactory factory;
  if (reference)
    factory = [](SyncContext c) { return std::make_unique<ReferenceSync>(std::move(c)); };
  auto& lacking = bed.add("Aelric", factory, seed);
  auto& holder = bed.add("Brannoc", factory, seed + 1);
  auto& passive = bed.add("Cyrielle", factory, seed + 2);
  holder.ledger.insert_batch(std::span<const Entry>(year));
  passive.ledger.insert_batch(std::span<const Entry>(year));
  std::vector<Entry> kept;
  kept.reserve(year.size() - missing.size());
  for (std::size_t i = 0, j = 0; i < year.size(); ++i) {
    if (j < missing.size() && missing[j] == i) {
      ++j;
    } else {
      kept.push_back(year[i]);
    }
  }
  lacking.ledger.insert_batch(std::span<const Entry>(kept));
  Tap tap;
  auto& observer = bed.add_adversary("Observer");
  observer.on_delivery = [&tap](const Delivery& d) { tap.on(d); };
  for (const std::string& prefix : lacking.link->prefixes())
    bed.network().register_prefix(observer.id, prefix);

  Outcome out;
  while (bed.now() < kCapSeconds) {
    bed.tick();
    if (missing.empty() ? confirmed(bed, tap, reference) : bed.converged()) {
      out.done = true;
      break;
    }
  }
  out.seconds = bed.now();
  // What is queued when the ledgers agree goes out all the same (the rest of a whole week, say):
  // it is part of what the repair costs.
  auto queued = [&bed] {
    return std::any_of(bed.members().begin(), bed.members().end(),
                       [](const auto& m) { return m->link && m->link->backlog() > 0; });
  };
  while (out.done && queued() && bed.now() < out.seconds + kCapSeconds) bed.tick();
  for (auto& m : bed.members()) {
    if (!m->link) continue;
    out.bytes += static_cast<double>(m->link->counters().bytes_sent);
    out.frames += static_cast<double>(m->link->counters().frames_sent);
  }
  out.lacking_bytes = static_cast<double>(lacking.link->counters().bytes_sent);
  out.bytes_by_kind = tap.bytes_by_kind();
  return out;
}

// Positions of the d missing entries, ascending.
std::vector<std::size_t> pick_missing(std::size_t n, std::size_t d, Pattern pattern,
                                      std::uint32_t seed) {
  std::vector<std::size_t> out;
  if (pattern == Pattern::Recent) {
    for (std::size_t i = n - d; i < n; ++i) out.push_back(i);
  } else if (pattern == Pattern::Scattered) {
    std::vector<std::size_t> all(n);
    std::iota(all.begin(), all.end(), std::size_t{0});
    std::shuffle(all.begin(), all.end(), std::mt19937(seed));
    out.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(d));
    std::sort(out.begin(), out.end());
  }
  return out;
}

std::vector<std::size_t> parse_list(const Arguments& a, const std::string& name,
                                    const std::string& fallback, std::size_t min, std::size_t max) {
  std::string text = a.text(name, fallback);
  std::vector<std::size_t> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, end - start);
    std::size_t used = 0;
    unsigned long long v = 0;
    try {
      v = std::stoull(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || v < min || v > max) {
      throw UsageError("--" + name + " expects integers in " + std::to_string(min) + ".." +
                       std::to_string(max) + " separated by commas, got '" + text + "'");
    }
    out.push_back(static_cast<std::size_t>(v));
    start = end + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

struct Case {
  std::size_t n;
  std::size_t d;
  Pattern pattern;
  std::string label() const {
    return "n=" + std::to_string(n) + " d=" + std::to_string(d) + " " + pattern_name(pattern);
  }
};

std::vector<Case> make_cases(const std::vector<std::size_t>& sizes, const std::vector<std::size_t>& missing) {
  std::vector<Case> cases;
  for (std::size_t n : sizes) {
    cases.push_back({n, 0, Pattern::InSync});
    for (std::size_t d : missing) {
      for (Pattern p : {Pattern::Recent, Pattern::Scattered}) cases.push_back({n, d, p});
    }
  }
  return cases;
}

constexpr const char* kProtocols[] = {"reference", "tally"};

BenchResult run(const Arguments& a, const BenchSettings& settings) {
  std::vector<std::size_t> sizes = parse_list(a, "sizes", "10000,50000", 1000, 1000000);
  std::vector<std::size_t> missing = parse_list(a, "missing", "1,10,100", 1, 100000);
  if (missing.back() * 2 > sizes.front())
    throw UsageError("--missing: at most half of the smallest size");

  const std::vector<std::string> prefixes = lane_prefixes();
  const std::vector<Case> cases = make_cases(sizes, missing);
  BenchResult report{"sync",
                     {{"sizes", sizes},
                      {"missing", missing},
                      {"key_entropy_bits", key_entropy_bits()},
                      {"cap_seconds", kCapSeconds}},
                     settings};
  Progress progress(static_cast<int>(cases.size()) * 2 * (settings.warmup + settings.runs));
  repeat_runs(report, progress, settings.warmup, settings.runs, [&](Run& run) {
    std::uint32_t run_seed = settings.seed + static_cast<std::uint32_t>(run.index());
    for (std::size_t n : sizes) {
      std::vector<Entry> year = make_year(n, run_seed);
      double s = mean_entry_bytes(year, prefixes);
      run.record("n=" + std::to_string(n) + " mean entry bytes on the wire", "bytes", s);
      for (const Case& c : cases) {
        if (c.n != n) continue;
        std::vector<std::size_t> gaps = pick_missing(n, c.d, c.pattern, run_seed);
        run.record(c.label() + " lower bound", "bytes", lower_bound_bytes(c.d, s));
        for (bool reference : {true, false}) {
          std::string name = c.label() + " " + kProtocols[reference ? 0 : 1];
          run.step(name);
          Outcome o = simulate(year, gaps, reference, run_seed);
          run.record(name + " bytes", "bytes", o.bytes);
          run.record(name + " messages", "frames", o.frames);
          run.record(name + " seconds", "simulated s", o.seconds);
          run.record(name + " converged", "0/1", o.done ? 1 : 0);
          run.record(name + " bytes sent by the lacking client", "bytes", o.lacking_bytes);
          for (const auto& [kind, bytes] : o.bytes_by_kind)
            run.record(name + " bytes of " + kind, "bytes", bytes);
        }
      }
    }
  });
  return report;
}

// Both protocols side by side, per case, from the medians.
void print(const BenchResult& r) {
  auto sizes = r.parameters["sizes"].get<std::vector<std::size_t>>();
  auto missing = r.parameters["missing"].get<std::vector<std::size_t>>();
  auto median = [&](const std::string& name) { return r.summary(name).median; };
  std::printf("tally bench sync  sizes=%s  missing=%s  runs=%d (+%d warm-up)  seed=%u\n",
              nlohmann::json(sizes).dump().c_str(), nlohmann::json(missing).dump().c_str(), r.settings.runs,
              r.settings.warmup, r.settings.seed);
  std::printf("medians; 3 clients; runs stop after %.0f simulated seconds\n", kCapSeconds);
  for (std::size_t n : sizes) {
    std::printf("n=%zu: mean entry on the wire s = %.1f bytes\n", n,
                median("n=" + std::to_string(n) + " mean entry bytes on the wire"));
  }
  std::printf(
      "H_key = %.1f bits (a uniform second of %u three-hour raids, one of %u officers); "
      "in sync: a %.0f-bit fingerprint\n\n",
      key_entropy_bits(), kWeeks * static_cast<std::uint32_t>(std::size(kRaidStarts)), kOfficers,
      kFingerprintBits);
  std::printf("%7s %5s %-9s | %-28s | %-28s | %9s | %9s %9s\n", "", "", "", "reference", "tally",
              "bound", "tally/", "tally/");
  std::printf("%7s %5s %-9s | %10s %7s %9s | %10s %7s %9s | %9s | %9s %9s\n", "n", "d", "pattern",
              "bytes", "msgs", "seconds", "bytes", "msgs", "seconds", "B* bytes", "reference",
              "bound");
  const std::vector<Case> cases = make_cases(sizes, missing);
  for (const Case& c : cases) {
    std::string l = c.label();
    auto cell = [&](const char* protocol) {
      std::string p = l + " " + protocol;
      char buf[64];
      bool converged = median(p + " converged") == 1;
      std::snprintf(buf, sizeof buf, "%10.0f %7.0f %8.1f%s", median(p + " bytes"),
                    median(p + " messages"), median(p + " seconds"), converged ? " " : "!");
      return std::string(buf);
    };
    // Ratios only where both sides finished: bytes at the cap say nothing about the repair.
    bool both = median(l + " reference converged") == 1 && median(l + " tally converged") == 1;
    double tally_bytes = median(l + " tally bytes");
    double bound = median(l + " lower bound");
    char ratios[32] = "      n/c       n/c";
    if (both) {
      std::snprintf(ratios, sizeof ratios, "%9.3f %9.2f",
                    tally_bytes / median(l + " reference bytes"), tally_bytes / bound);
    }
    std::printf("%7zu %5zu %-9s | %s | %s | %9.0f | %s\n", c.n, c.d, pattern_name(c.pattern),
                cell("reference").c_str(), cell("tally").c_str(), bound, ratios);
  }
  std::printf(
      "(! = did not converge or confirm within the cap in the median run; n/c = not compared)\n\n"
      "bytes by message kind, and sent by the lacking client (medians):\n");
  for (const Case& c : cases) {
    for (const char* protocol : kProtocols) {
      std::string prefix = c.label() + " " + protocol + " bytes of ";
      std::printf("  %-32s", (c.label() + " " + protocol).c_str());
      for (const auto& f : r.figures) {
        if (f.name.starts_with(prefix))
          std::printf("  %s %.0f", f.name.substr(prefix.size()).c_str(), summarize(f.samples).median);
      }
      std::printf("  | lacking client %.0f\n",
                  median(c.label() + " " + protocol + " bytes sent by the lacking client"));
    }
  }
}

}  // namespace

BenchDef sync_bench() {
  return {.name = "sync",
          .usage = "[--sizes 10000,50000] [--missing 1,10,100]",
          .summary = "both sync protocols: bytes, messages and simulated seconds to repair d missing entries or "
                     "confirm \"in sync\", beside the lower bound (figures are counts: no warm-up by default)",
          .defaults = {.runs = 3, .warmup = 0},
          .options = {"sizes", "missing"},
          .small = {"--sizes", "10000", "--missing", "1,10", "--runs", "1"},
          .run = run,
          .print = print};
}

}  // namespace tally::cli
