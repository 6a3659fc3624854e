// `tally demo`: three officers' clients record DKP awards, exchange them in scrambled batches,
// converge on one ledger, persist it, and reload it intact.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "runtime/persistent_ledger.hpp"

namespace tally::cli {

namespace {

const char* kPlayers[] = {"Aelric", "Brannoc", "Cyrielle", "Dagna", "Eowald", "Fenwyn"};

void print_state(const char* who, const Ledger& ledger) {
  std::printf("  %-10s entries=%-5zu adler32=%08x fingerprint=%016llx\n", who, ledger.size(),
              ledger.adler32(0, ledger.size()),
              static_cast<unsigned long long>(ledger.fingerprint().sum));
}

}  // namespace

int demo(const std::vector<std::string>& args) {
  Arguments a(args, {});
  a.reject_unknown({"dir"});
  std::filesystem::path dir = a.text("dir", (std::filesystem::temp_directory_path() /
                                             ("tally-demo-" + std::to_string(::getpid())))
                                                .string());
  std::filesystem::create_directories(dir);

  // Each officer (creator id 101..103) awards points during a raid night.
  std::mt19937 engine(2026);
  auto rng = [&] { return static_cast<std::uint32_t>(engine()); };
  std::vector<std::vector<Entry>> submitted(3);
  const std::uint32_t raid_start = 1764000000;
  for (std::uint32_t minute = 0; minute < 180; minute += 3) {
    std::uint32_t officer = rng() % 3;
    Entry e{{raid_start + minute * 60, 0, 0, 101 + officer}, "award", 1, {}};
    e.payload.set("player", std::string(kPlayers[rng() % 6]))
        .set("amount", static_cast<std::int64_t>(5 + rng() % 20))
        .set("reason", std::string(minute % 30 == 0 ? "boss kill" : "on time"));
    submitted[officer].push_back(std::move(e));
  }

  // Every client first holds its own entries, then receives the others' in shuffled batches.
  std::printf("1. three clients record their own awards\n");
  std::vector<Ledger> clients(3);
  const char* names[] = {"Officer1", "Officer2", "Officer3"};
  for (int c = 0; c < 3; ++c) {
    for (const auto& e : submitted[static_cast<std::size_t>(c)]) clients[static_cast<std::size_t>(c)].insert(e);
    print_state(names[c], clients[static_cast<std::size_t>(c)]);
  }
  std::printf("2. they exchange entries in scrambled batches\n");
  for (std::size_t c = 0; c < 3; ++c) {
    for (std::size_t from = 0; from < 3; ++from) {
      if (from == c) continue;
      auto batch = submitted[from];
      std::shuffle(batch.begin(), batch.end(), engine);
      auto result = clients[c].insert_batch(std::span<const Entry>(batch));
      std::printf("  %-10s <- %-10s +%zu new%s\n", names[c], names[from], result.inserted,
                  result.rewinds ? " (landed before applied entries: replay would rewind)" : "");
      clients[c].set_applied(clients[c].size());
    }
  }
  for (std::size_t c = 0; c < 3; ++c) print_state(names[c], clients[c]);
  bool converged = clients[0].fingerprint() == clients[1].fingerprint() &&
                   clients[1].fingerprint() == clients[2].fingerprint();
  std::printf("  converged: %s\n", converged ? "yes" : "NO");

  std::printf("3. Officer1 persists its ledger to %s\n", (dir / "GuildDKP.journal").c_str());
  {
    std::filesystem::remove(dir / "GuildDKP.journal");
    auto store = PersistentLedger::open(dir / "GuildDKP.journal", "GuildDKP", {}, nullptr);
    std::vector<Entry> all;
    clients[0].for_each(0, clients[0].size(), [&](std::size_t, const EntryView& e) { all.push_back(e.to_entry()); });
    store.insert_batch(std::span<const Entry>(all));
    store.close();
  }
  std::vector<std::string> warnings;
  auto reopened = PersistentLedger::open(dir / "GuildDKP.journal", "GuildDKP", {}, &warnings);
  print_state("reloaded", reopened.ledger());
  bool intact = reopened.ledger().fingerprint() == clients[0].fingerprint() && warnings.empty();
  std::printf("  intact: %s\n", intact ? "yes" : "NO");

  std::printf("4. standings derived from the ledger\n");
  std::map<std::string, std::int64_t> points;
  reopened.ledger().for_each(0, reopened.ledger().size(), [&](std::size_t, const EntryView& e) {
    Payload p = e.payload();
    points[std::get<std::string>(*p.find("player"))] += std::get<std::int64_t>(*p.find("amount"));
  });
  for (const auto& [player, total] : points) std::printf("  %-10s %4lld\n", player.c_str(), static_cast<long long>(total));
  return converged && intact ? 0 : 1;
}

}  // namespace tally::cli
