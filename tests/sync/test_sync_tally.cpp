// Tally's sync protocol end to end over the simulated network: convergence with divergent
// ledgers, faults, late joiners, adversaries.
#include <doctest/doctest.h>

#include <random>

#include "runtime/sync_simulation.hpp"
#include "runtime/sync_tally.hpp"

using namespace tally;

namespace {

// An award entry: deterministic content from its number.
Entry award(std::uint32_t n, std::uint32_t creator = 7, std::uint32_t base = 1700000000) {
  Entry e{{base + n, 0, 0, creator}, "award", 1, {}};
  e.payload.set("player", "P" + std::to_string(n % 97)).set("amount", static_cast<std::int64_t>(n % 50 + 1));
  return e;
}

}  // namespace

TEST_CASE("two clients with disjoint entries converge") {
  SyncSimulation bed;
  auto& a = bed.add("Aelric");
  auto& b = bed.add("Brannoc");
  for (std::uint32_t i = 0; i < 50; ++i) (i % 2 ? a : b).ledger.insert(award(i));
  CHECK_FALSE(bed.converged());
  CHECK(bed.run_until_converged(600));
  CHECK(a.ledger.size() == 50);
  MESSAGE("converged after " << bed.now() << " s; bytes sent " << a.link->counters().bytes_sent + b.link->counters().bytes_sent);
}

namespace {

// `clients` ledgers sharing a common base, each with its own extra entries and some
// same-key-different-content conflicts.
void diverge(SyncSimulation& bed, int clients, std::uint32_t seed, std::uint32_t base_entries = 300) {
  std::mt19937 random(seed);
  for (int c = 0; c < clients; ++c) bed.add("Client" + std::to_string(c), {}, seed + static_cast<std::uint32_t>(c));
  for (std::uint32_t i = 0; i < base_entries; ++i) {
    for (auto& m : bed.members()) m->ledger.insert(award(i));
  }
  for (auto& m : bed.members()) {
    int extra = static_cast<int>(random() % 40);
    for (int k = 0; k < extra; ++k) m->ledger.insert(award(static_cast<std::uint32_t>(random() % 5000), 100 + m->id));
    if (random() % 2 == 0) {
      // Same key as a base entry, other content: the lower content hash must win everywhere.
      Entry e = award(static_cast<std::uint32_t>(random() % base_entries));
      e.payload.set("amount", static_cast<std::int64_t>(1000 + m->id));
      m->ledger.insert(e);
    }
  }
}

}  // namespace

TEST_CASE("five clients with random divergent ledgers converge under faults") {
  struct Case {
    const char* name;
    const char* plan;
  };
  const Case cases[] = {
      {"no faults", ""},
      {"10% loss", "loss=0.1"},
      {"30% loss", "loss=0.3,jitter=0.5"},
      {"duplication and reordering", "dup=0.3,reorder=0.3,jitter=0.4"},
      {"partition that heals", "loss=0.05,partition=1+2|3+4+5@0-400"},
  };
  for (const Case& c : cases) {
    std::string name = c.name;
    CAPTURE(name);
    for (std::uint32_t seed = 1; seed <= 3; ++seed) {
      CAPTURE(seed);
      SyncSimulation bed(parse_fault_plan(c.plan), seed);
      diverge(bed, 5, seed);
      REQUIRE_FALSE(bed.converged());
      bool done = bed.run_until_converged(3600);
      std::uint64_t bytes = 0;
      for (auto& m : bed.members()) bytes += m->link->counters().bytes_sent;
      MESSAGE(name << " seed " << seed << ": converged " << done << " after " << bed.now() << " s, " << bytes << " bytes");
      REQUIRE(done);
    }
  }
}

TEST_CASE("an offline client's entries reach everyone after it returns") {
  SyncSimulation bed(parse_fault_plan("offline=3@1-3600"));
  diverge(bed, 3, 9, 100);
  bed.follow_schedule(parse_fault_plan("offline=3@1-3600"));
  // The third client goes offline, keeps submitting, and comes back an hour later.
  double until = 3700;
  std::uint32_t n = 0;
  while (bed.now() < until) {
    bed.tick();
    if (bed.now() > 10 && bed.now() < 3500 && n < 200 && static_cast<int>(bed.now() * 20) % 200 == 0) {
      bed.members()[2]->ledger.insert(award(10000 + n++, 303));
    }
  }
  CHECK(n > 100);
  CHECK(bed.run_until_converged(3600));
  CHECK(bed.members()[0]->ledger.find(award(10000, 303).key).has_value());
}

TEST_CASE("a late joiner with an empty ledger catches up on 100,000 entries") {
  SyncSimulation bed;
  bed.set_step(0.1);
  auto& a = bed.add("Aelric");
  auto& b = bed.add("Brannoc");
  auto& late = bed.add("Cyrielle");
  std::vector<Entry> entries;
  for (std::uint32_t i = 0; i < 100000; ++i) entries.push_back(award(i, 7 + i % 5));
  a.ledger.insert_batch(entries);
  b.ledger.insert_batch(entries);
  CHECK(bed.run_until_converged(86400));
  CHECK(late.ledger.size() == 100000);
  std::uint64_t sent = a.link->counters().bytes_sent + b.link->counters().bytes_sent;
  for (auto* m : {&a, &b, &late}) {
    const SyncCounters& k = m->link->endpoint().counters();
    MESSAGE(m->name << ": bytes " << m->link->counters().bytes_sent << ", entries sent " << k.entries_sent << ", pushes " << k.pushes
                    << ", sessions started " << k.sessions_started << ", answered " << k.sessions_answered << ", suppressed " << k.suppressed);
  }
  MESSAGE("100,000 entries reached the late joiner in " << bed.now() << " s of game time; " << sent
          << " bytes sent by the two holders (" << static_cast<double>(sent) / 100000 << " per entry)");
  // One holder serves; the other stays mostly quiet (suppression), so the bytes stay near one copy.
  CHECK(static_cast<double>(sent) < 1.5 * static_cast<double>(std::max(a.link->counters().bytes_sent, b.link->counters().bytes_sent)));
}

TEST_CASE("adversaries do not stop honest clients from converging") {
  SyncSimulation bed(parse_fault_plan("loss=0.1"), 5);
  diverge(bed, 4, 21);
  // A peer that claims every session it hears and never answers.
  auto& claimer = bed.add_adversary("Mallory");
  claimer.on_delivery = [&](const Delivery& d) {
    auto message = decode_frame(d.text);
    if (!message.ok()) return;
    if (const auto* m = std::get_if<SyncMessage>(&message.value())) {
      if (const auto* r = std::get_if<Ranges>(m)) {
        FrameEncoder encoder;
        for (const std::string& f : encoder.encode(Claim{r->session, 1})) bed.network().send(claimer.id, "TallySync", f, "GUILD");
      }
    }
  };
  // A peer flooding adverts claiming a huge ledger, and garbage, truncated and oversized frames.
  auto& flooder = bed.add_adversary("Oscar");
  std::mt19937 random(3);
  flooder.on_tick = [&](double) {
    FrameEncoder encoder;
    for (const std::string& f : encoder.encode(Advert{999999, random(), 0xfffffff0u, 0, 1})) {
      bed.network().send(flooder.id, "TallySync", f, "GUILD");
    }
    std::string garbage(static_cast<std::size_t>(1 + random() % 250), '\1');
    for (char& c : garbage) c = static_cast<char>(1 + random() % 255);
    bed.network().send(flooder.id, "TallySync", garbage, "GUILD");
    bed.network().send(flooder.id, "TallySync", std::string("\x01\x07\x02", 3), "GUILD");  // truncated Entries
  };
  // A relay that forwards entries with a forged creator: the receivers' policy refuses them.
  auto& forger = bed.add_adversary("Trent");
  forger.on_tick = [&](double now) {
    if (static_cast<int>(now * 20) % 40 != 0) return;
    Entry e = award(static_cast<std::uint32_t>(90000 + random() % 1000), 666);
    FrameEncoder encoder;
    for (const std::string& f : encoder.encode_entry_frames({MessageKind::Entries, 77}, std::vector<Entry>{e})) {
      bed.network().send(forger.id, "TallySync", f, "GUILD");
    }
  };
  bed.set_accept([](const Entry& e, const std::string&) { return e.key.creator != 666; });
  CHECK(bed.run_until_converged(3600));
  std::uint64_t refused = 0, bypassed = 0, ignored = 0, dropped = 0;
  for (auto& m : bed.members()) {
    if (!m->link) continue;
    refused += m->refused;
    bypassed += m->link->endpoint().counters().bypassed;
    ignored += m->link->endpoint().counters().adverts_ignored;
    dropped += m->link->drops().total();
    CHECK(m->ledger.size() > 0);
    bool forged = false;
    m->ledger.for_each(0, m->ledger.size(), [&](std::size_t, const EntryView& v) { forged = forged || v.key().creator == 666; });
    CHECK_FALSE(forged);
  }
  MESSAGE("converged after " << bed.now() << " s; forged entries refused " << refused << ", silent claimers bypassed "
                             << bypassed << ", flood adverts ignored " << ignored << ", bad frames dropped " << dropped);
  CHECK(refused > 0);
  CHECK(ignored > 0);
  CHECK(dropped > 0);
}
