// The reference design's sync protocol: its adverts and answer priority message by message, then
// end to end over the simulated network, with the weaknesses it is kept for (keys-only hash, a
// silent lowest-named peer blocking it) set against Tally's protocol in the same setups.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "runtime/sync_reference.hpp"
#include "runtime/sync_simulation.hpp"
#include "runtime/sync_tally.hpp"

using namespace tally;

namespace {

// A reference week starts here (Unix weeks start on Thursdays).
constexpr std::uint32_t kBase = 1700092800;
constexpr std::uint32_t kHour = 3600;

// An award entry every 7 hours from kBase: 24 a week. Content follows from its number.
Entry award(std::uint32_t n, std::uint32_t creator = 7) {
  Entry e{{kBase + n * 7 * kHour, 0, 0, creator}, "award", 1, {}};
  std::string player = "P";
  player += std::to_string(n % 97);  // not "P" + ...: GCC 12 warns wrongly (-Wrestrict) on that
  e.payload.set("player", player).set("amount", static_cast<std::int64_t>(n % 50 + 1));
  return e;
}

std::unique_ptr<SyncEndpoint> make_reference(SyncContext context) {
  return std::make_unique<ReferenceSync>(std::move(context));
}

std::uint64_t bytes_sent(SyncSimulation& bed) {
  std::uint64_t bytes = 0;
  for (auto& m : bed.members()) {
    if (m->link) bytes += m->link->counters().bytes_sent;
  }
  return bytes;
}

// A bare endpoint driven message by message.
struct Solo {
  Ledger ledger;
  std::unique_ptr<ReferenceSync> sync;

  explicit Solo(const std::string& self, std::uint32_t entries) {
    for (std::uint32_t i = 0; i < entries; ++i) ledger.insert(award(i));
    SyncContext context;
    context.ledger = &ledger;
    context.self = self;
    sync = std::make_unique<ReferenceSync>(context);
  }

  // Ticks every `step` seconds over [from, to) and returns what was sent, with send times.
  std::vector<std::pair<double, SyncMessage>> run(double from, double to, double step = 0.5) {
    std::vector<std::pair<double, SyncMessage>> out;
    for (double t = from; t < to; t += step) {
      sync->tick(t);
      for (OutgoingMessage& m : sync->take_outgoing()) out.emplace_back(t, std::move(m.message));
    }
    return out;
  }

  RefAdvertWeek state_of(std::uint32_t week) const {
    return {week, ledger.week_adler32(week), ledger.week(week).count};
  }
};

}  // namespace

TEST_CASE("adverts hold the 8 newest weeks and 8 older ones, cycling through the rest") {
  Solo b("Carl-Tally", 30 * 24);  // 30 weeks
  std::uint32_t newest = week_of(award(30 * 24 - 1).key.timestamp);
  std::uint32_t oldest = week_of(kBase);
  REQUIRE(newest - oldest + 1 == 30);

  auto sent = b.run(0, 120);
  std::vector<std::pair<double, RefAdvert>> adverts;
  for (auto& [t, m] : sent) {
    REQUIRE(std::holds_alternative<RefAdvert>(m));
    adverts.emplace_back(t, std::get<RefAdvert>(m));
  }
  REQUIRE(adverts.size() >= 10);
  // One advert every 10 s.
  for (std::size_t i = 1; i < adverts.size(); ++i)
    CHECK(adverts[i].first - adverts[i - 1].first == doctest::Approx(10));

  // The first: the 8 newest weeks, then the 8 below them, each with its hash and count.
  const RefAdvert& first = adverts[0].second;
  REQUIRE(first.weeks.size() == 16);
  for (std::uint32_t i = 0; i < 16; ++i) CHECK(first.weeks[i] == b.state_of(newest - i));

  // Every week is advertised within the first cycle, none more than once per 30 s.
  std::set<std::uint32_t> seen;
  std::map<std::uint32_t, double> last;
  for (auto& [t, advert] : adverts) {
    for (const RefAdvertWeek& w : advert.weeks) {
      CHECK(w == b.state_of(w.week));
      if (last.contains(w.week)) CHECK(t - last[w.week] >= 30 - 1e-9);
      last[w.week] = t;
      if (t < adverts[0].first + 30) seen.insert(w.week);
    }
  }
  CHECK(seen.size() == 30);
  CHECK(*seen.begin() == oldest);
}

TEST_CASE("the lowest-named advertiser of another version answers a request, after 3 to 8 s") {
  const std::uint32_t entries = 10 * 24;
  Solo carl("Carl-Tally", entries);
  std::uint32_t week = week_of(award(entries - 1).key.timestamp);
  RefAdvertWeek same = carl.state_of(week);
  RefAdvertWeek other{week, same.adler ^ 1, same.count - 1};

  // Carl advertises the week first; then the requester's advert and request arrive.
  bool advertised = false;
  for (auto& [t, m] : carl.run(0, 10.5)) {
    const auto& weeks = std::get<RefAdvert>(m).weeks;
    advertised = advertised || std::find(weeks.begin(), weeks.end(), same) != weeks.end();
  }
  REQUIRE(advertised);
  auto request = [&](double t) {
    carl.sync->receive("Eve-Tally", RefAdvert{{other}}, t);
    carl.sync->receive("Eve-Tally", RefRequest{week}, t);
  };

  SUBCASE("Carl is the lowest holder of another version: it answers with the whole week") {
    request(11);
    for (auto& [t, m] : carl.run(11, 13.9)) CHECK_FALSE(std::holds_alternative<RefWeek>(m));
    auto sent = carl.run(14, 19.5);
    std::vector<RefWeek> weeks;
    for (auto& [t, m] : sent) {
      if (const auto* w = std::get_if<RefWeek>(&m)) weeks.push_back(*w);
    }
    REQUIRE(weeks.size() == 1);
    CHECK(weeks[0].week == week);
    CHECK(weeks[0].entries.size() == same.count);
    // A second request inside 30 s gets no second answer.
    carl.sync->receive("Fay-Tally", RefRequest{week}, 20);
    for (auto& [t, m] : carl.run(20, 40)) CHECK_FALSE(std::holds_alternative<RefWeek>(m));
  }
  SUBCASE("a lower name that advertised the same version answers instead") {
    carl.sync->receive("Bob-Tally", RefAdvert{{same}}, 10.8);
    request(11);
    for (auto& [t, m] : carl.run(11, 30)) CHECK_FALSE(std::holds_alternative<RefWeek>(m));
  }
  SUBCASE("a lower name holding the requester's own version does not count") {
    carl.sync->receive("Bob-Tally", RefAdvert{{other}}, 10.8);
    request(11);
    std::size_t weeks = 0;
    for (auto& [t, m] : carl.run(11, 30)) weeks += std::holds_alternative<RefWeek>(m);
    CHECK(weeks == 1);
  }
}

TEST_CASE("a new local entry is broadcast at once") {
  Solo s("Carl-Tally", 24);
  Entry fresh = award(24);
  s.ledger.insert(fresh);
  s.sync->local_insert(fresh.key, 1);
  auto sent = s.sync->take_outgoing();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].message == SyncMessage(RefWeek{week_of(fresh.key.timestamp), {fresh}}));
}

namespace {

// `clients` reference clients sharing 20 weeks of entries, each with extra entries of its own
// scattered over all the weeks (the old ones are only advertised as the roll comes by).
void diverge(SyncSimulation& bed, int clients, std::uint32_t seed, const SyncFactory& factory) {
  std::mt19937 random(seed);
  for (int c = 0; c < clients; ++c)
    bed.add("Client" + std::to_string(c), factory, seed + static_cast<std::uint32_t>(c));
  for (auto& m : bed.members()) {
    for (std::uint32_t i = 0; i < 20 * 24; ++i) m->ledger.insert(award(i));
    int extra = 1 + static_cast<int>(random() % 20);
    for (int k = 0; k < extra; ++k) {
      Entry e = award(static_cast<std::uint32_t>(random() % (20 * 24)), 100 + m->id);
      e.key.timestamp += static_cast<std::uint32_t>(1 + random() % 3600);
      m->ledger.insert(e);
    }
  }
}

}  // namespace

TEST_CASE("the reference converges for divergent ledgers, without and with 10% loss") {
  for (std::string plan : {"", "loss=0.1"}) {
    for (std::uint32_t seed = 1; seed <= 3; ++seed) {
      CAPTURE(plan);
      CAPTURE(seed);
      SyncSimulation bed(parse_fault_plan(plan), seed);
      diverge(bed, 3, seed, make_reference);
      REQUIRE_FALSE(bed.converged());
      bool done = bed.run_until_converged(3600);
      std::uint64_t requests = 0, answers = 0;
      for (auto& m : bed.members()) {
        requests += m->link->endpoint().counters().sessions_started;
        answers += m->link->endpoint().counters().sessions_answered;
      }
      MESSAGE("loss '" << plan << "' seed " << seed << ": converged " << done << " after "
                       << bed.now() << " s, " << bytes_sent(bed) << " bytes, " << requests
                       << " week requests, " << answers << " whole weeks sent");
      REQUIRE(done);
    }
  }
}

TEST_CASE("weakness: the reference never notices one key holding different content") {
  for (bool reference : {true, false}) {
    CAPTURE(reference);
    SyncSimulation bed;
    SyncFactory factory = reference ? SyncFactory(make_reference) : SyncFactory{};
    auto& a = bed.add("Aelric", factory, 1);
    auto& b = bed.add("Brannoc", factory, 2);
    for (std::uint32_t i = 0; i < 10 * 24; ++i) {
      a.ledger.insert(award(i));
      Entry e = award(i);
      if (i == 100) e.payload.set("amount", std::int64_t{999});  // same key, other content
      b.ledger.insert(e);
    }
    REQUIRE(a.ledger.size() == b.ledger.size());
    REQUIRE_FALSE(bed.converged());
    if (reference) {
      bed.run_for(600);
      CHECK_FALSE(bed.converged());
      for (auto* m : {&a, &b}) {
        const SyncCounters& k = m->link->endpoint().counters();
        CHECK(k.sessions_started == 0);  // no week ever looked different
        CHECK(k.entries_sent == 0);
        // And it says so. A client whose adverts always come first silences its peer's (one
        // advert confirms a week for all who hold the same), so it may hear none: unknown.
        SyncState state = m->link->endpoint().state(bed.now());
        CHECK(state ==
              (m->link->endpoint().peers().empty() ? SyncState::Unknown : SyncState::Synced));
      }
      CHECK(a.link->endpoint().peers().size() + b.link->endpoint().peers().size() > 0);
      MESSAGE("reference after 600 s: still different, and no client reports out of sync");
    } else {
      CHECK(bed.run_until_converged(600));
      MESSAGE("tally converged after " << bed.now() << " s, " << bytes_sent(bed) << " bytes");
    }
  }
}

TEST_CASE("weakness: a lowest-named peer that advertises and never answers blocks the reference") {
  // "Aaa" holds the full ledger's hashes and advertises every week of it every 10 s, in both
  // protocols' words, and never sends an entry. The honest clients sort after it.
  struct Setup {
    bool reference;
    bool with_aaa;
  };
  for (Setup s : {Setup{true, true}, Setup{true, false}, Setup{false, true}}) {
    CAPTURE(s.reference);
    CAPTURE(s.with_aaa);
    SyncSimulation bed(parse_fault_plan(""), 4);
    SyncFactory factory = s.reference ? SyncFactory(make_reference) : SyncFactory{};
    auto& full = bed.add("Brannoc", factory, 1);
    auto& lacking = bed.add("Cyrielle", factory, 2);
    std::mt19937 random(11);
    for (std::uint32_t i = 0; i < 20 * 24; ++i) {
      full.ledger.insert(award(i));
      if (random() % 10 != 0) lacking.ledger.insert(award(i));  // misses ~10% across all weeks
    }
    REQUIRE_FALSE(bed.converged());
    if (s.with_aaa) {
      auto& aaa = bed.add_adversary("Aaa");
      REQUIRE(aaa.name < full.name);
      double next = 0;
      auto encoder = std::make_shared<FrameEncoder>();
      aaa.on_tick = [&, next, encoder](double now) mutable {
        if (now < next) return;
        next = now + 10;
        RefAdvert weeks;
        const Ledger& all = full.ledger;  // never changes: it holds everything
        for (const auto& [week, summary] : all.weeks()) {
          weeks.weeks.push_back({week, all.week_adler32(week), summary.count});
        }
        Fingerprint f = all.fingerprint();
        Advert advert{f.count, f.sum, all.at(all.size() - 1).key().timestamp, 0, kTallySyncVersion};
        for (const SyncMessage& m : {SyncMessage(weeks), SyncMessage(advert)}) {
          for (const std::string& frame : encoder->encode(m))
            bed.network().send(aaa.id, SyncSimulation::kPrefix, frame, "GUILD");
        }
      };
    }
    bool done = bed.run_until_converged(1800);
    std::string who = std::string(s.reference ? "reference" : "tally") +
                      (s.with_aaa ? " with" : " without") + " Aaa";
    MESSAGE(who << ": converged " << done << " after " << bed.now() << " s, "
                << lacking.ledger.size() << " of " << full.ledger.size() << " entries");
    CHECK(done == !(s.reference && s.with_aaa));
    if (s.reference && s.with_aaa) {
      // Brannoc always deferred to Aaa, while Cyrielle kept asking.
      CHECK(full.link->endpoint().counters().sessions_answered == 0);
      CHECK(lacking.link->endpoint().counters().sessions_started > 0);
    }
  }
}
