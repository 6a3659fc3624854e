// The in-memory ledger: order, dedupe, conflicts, insert positions, batch merges, weeks and
// fingerprints.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "runtime/ledger.hpp"

using namespace tally;

namespace {

Entry make_entry(std::uint32_t ts, std::uint8_t counter, std::uint32_t creator,
                 std::int64_t amount = 1, std::string type = "award") {
  Entry e{{ts, counter, 0, creator}, std::move(type), 1, {}};
  e.payload.set("amount", amount).set("player", std::string("p") + std::to_string(creator % 7));
  return e;
}

std::vector<EntryKey> keys_of(const Ledger& ledger) {
  std::vector<EntryKey> keys;
  ledger.for_each(0, ledger.size(), [&](std::size_t, const EntryView& e) { keys.push_back(e.key()); });
  return keys;
}

std::vector<std::uint64_t> hashes_of(const Ledger& ledger) {
  std::vector<std::uint64_t> hashes;
  ledger.for_each(0, ledger.size(),
                  [&](std::size_t, const EntryView& e) { hashes.push_back(e.content_hash()); });
  return hashes;
}

// A 32-bit generator whose results need no casts.
struct Rng {
  std::mt19937 engine;
  explicit Rng(std::uint32_t seed) : engine(seed) {}
  std::uint32_t operator()() { return static_cast<std::uint32_t>(engine()); }
};

std::vector<Entry> random_entries(std::size_t n, std::uint32_t seed) {
  Rng rng(seed);
  std::vector<Entry> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(make_entry(1700000000 + rng() % 5000000, static_cast<std::uint8_t>(rng() % 3),
                             rng() % 50, static_cast<std::int64_t>(rng() % 100)));
  }
  return out;
}

}  // namespace

TEST_CASE("entries come out in key order whatever the insert order") {
  auto entries = random_entries(3000, 1);
  Ledger ledger("test");
  for (const auto& e : entries) ledger.insert(e);
  auto keys = keys_of(ledger);
  CHECK(std::is_sorted(keys.begin(), keys.end()));
  CHECK(std::adjacent_find(keys.begin(), keys.end()) == keys.end());
  for (const auto& e : entries) {
    auto pos = ledger.find(e.key);
    REQUIRE(pos.has_value());
    CHECK(ledger.at(*pos).key() == e.key);
  }
  CHECK_FALSE(ledger.find(EntryKey{1, 0, 0, 0}).has_value());
}

TEST_CASE("inserting the same entry twice is a no-op that says so") {
  Ledger ledger;
  auto e = make_entry(1000, 0, 5);
  CHECK(ledger.insert(e).status == InsertStatus::Inserted);
  auto again = ledger.insert(e);
  CHECK(again.status == InsertStatus::Duplicate);
  CHECK(again.position == 0);
  CHECK(ledger.size() == 1);
  CHECK(ledger.conflicts().empty());
}

TEST_CASE("same key, different content: the lower content hash wins in either order") {
  auto a = make_entry(2000, 0, 5, 10);
  auto b = make_entry(2000, 0, 5, 20);
  auto winner = content_hash(a) < content_hash(b) ? a : b;
  auto loser = content_hash(a) < content_hash(b) ? b : a;

  Ledger first_winner, first_loser;
  first_winner.insert(make_entry(1000, 0, 1));
  first_loser.insert(make_entry(1000, 0, 1));
  CHECK(first_winner.insert(winner).status == InsertStatus::Inserted);
  auto rejected = first_winner.insert(loser);
  CHECK(rejected.status == InsertStatus::RejectedConflict);
  CHECK(rejected.other_hash == content_hash(winner));

  CHECK(first_loser.insert(loser).status == InsertStatus::Inserted);
  first_loser.set_applied(2);
  auto replaced = first_loser.insert(winner);
  CHECK(replaced.status == InsertStatus::ReplacedConflict);
  CHECK(replaced.position == 1);
  CHECK(replaced.rewinds);  // the applied entry at position 1 changed
  CHECK(first_loser.applied() == 1);

  CHECK(hashes_of(first_winner) == hashes_of(first_loser));
  CHECK(first_winner.fingerprint() == first_loser.fingerprint());
  REQUIRE(first_winner.conflicts().size() == 1);
  REQUIRE(first_loser.conflicts().size() == 1);
  CHECK(first_winner.conflicts()[0].kept_hash == content_hash(winner));
  CHECK(first_loser.conflicts()[0].dropped_hash == content_hash(loser));
  CHECK(first_loser.at(1).to_entry() == winner);
}

TEST_CASE("an insert before the applied watermark reports its position and lowers it") {
  Ledger ledger;
  for (std::uint32_t i = 0; i < 10; ++i) ledger.insert(make_entry(1000 + 10 * i, 0, 1));
  ledger.set_applied(10);
  auto late = ledger.insert(make_entry(1035, 0, 1));
  CHECK(late.status == InsertStatus::Inserted);
  CHECK(late.position == 4);
  CHECK(late.rewinds);
  CHECK(ledger.applied() == 4);
  auto later = ledger.insert(make_entry(1055, 0, 1));  // after the (lowered) watermark
  CHECK(later.position == 7);
  CHECK_FALSE(later.rewinds);
  CHECK(ledger.applied() == 4);
  auto append = ledger.insert(make_entry(5000, 0, 1));
  CHECK(append.position == ledger.size() - 1);
  CHECK_FALSE(append.rewinds);
  ledger.set_applied(1000);
  CHECK(ledger.applied() == ledger.size());
}

TEST_CASE("positions stay exact across many block splits") {
  Ledger ledger;
  std::vector<EntryKey> expected;
  Rng rng(7);
  for (int i = 0; i < 5000; ++i) {
    auto e = make_entry(rng() % 100000, 0, rng() % 1000);
    auto r = ledger.insert(e);
    if (r.status != InsertStatus::Inserted) continue;
    auto it = std::lower_bound(expected.begin(), expected.end(), e.key);
    CHECK(r.position == static_cast<std::size_t>(it - expected.begin()));
    expected.insert(it, e.key);
  }
  CHECK(keys_of(ledger) == expected);
  for (std::size_t i = 0; i < expected.size(); i += 97) CHECK(ledger.at(i).key() == expected[i]);
  CHECK(ledger.lower_bound(EntryKey{50000, 0, 0, 0}) ==
        static_cast<std::size_t>(std::lower_bound(expected.begin(), expected.end(),
                                                  EntryKey{50000, 0, 0, 0}) -
                                 expected.begin()));
}

TEST_CASE("a batch merge equals one-by-one inserts, and reports what happened") {
  auto base = random_entries(2000, 3);
  auto batch = random_entries(1500, 4);
  batch.push_back(base[10]);  // duplicate of an existing entry
  auto rival = base[20];
  rival.payload.set("amount", std::int64_t{999});  // conflict with an existing entry
  batch.push_back(rival);
  batch.push_back(batch[0]);  // duplicate inside the batch

  Ledger one_by_one, merged;
  for (const auto& e : base) {
    one_by_one.insert(e);
    merged.insert(e);
  }
  merged.set_applied(merged.size());
  for (const auto& e : batch) one_by_one.insert(e);
  std::vector<InsertStatus> statuses;
  auto result = merged.insert_batch(std::span<const Entry>(batch), &statuses);

  CHECK(hashes_of(one_by_one) == hashes_of(merged));
  CHECK(keys_of(one_by_one) == keys_of(merged));
  CHECK(one_by_one.fingerprint() == merged.fingerprint());
  CHECK(result.inserted + result.duplicates + result.replaced + result.rejected == batch.size());
  CHECK(result.duplicates >= 2);
  CHECK(result.replaced + result.rejected >= 1);
  CHECK(statuses[batch.size() - 3] == InsertStatus::Duplicate);
  CHECK(statuses[batch.size() - 1] == InsertStatus::Duplicate);
  REQUIRE(result.first_changed.has_value());
  CHECK(result.rewinds);
  CHECK(merged.applied() == *result.first_changed);
  for (std::size_t i = 0; i + 1 < merged.size(); i += 50) {
    CHECK(merged.at(i).key() < merged.at(i + 1).key());
  }
}

TEST_CASE("batch conflicts settle the same in any arrival order") {
  std::vector<Entry> rivals;
  for (int i = 0; i < 4; ++i) rivals.push_back(make_entry(3000, 1, 9, i * 7));
  std::vector<std::uint64_t> reference;
  for (int order = 0; order < 10; ++order) {
    std::mt19937 rng(static_cast<unsigned>(order));
    auto shuffled = rivals;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    Ledger ledger;
    ledger.insert(shuffled[0]);
    ledger.insert_batch(std::span<const Entry>(shuffled).subspan(1));
    REQUIRE(ledger.size() == 1);
    if (reference.empty()) reference = hashes_of(ledger);
    CHECK(hashes_of(ledger) == reference);
    CHECK(ledger.conflicts().size() == 3);
  }
}

TEST_CASE("a malformed entry in a batch changes nothing and is named") {
  Ledger ledger;
  std::vector<EncodedEntry> batch;
  std::vector<std::uint8_t> good = encode_payload(Payload{});
  std::vector<std::uint8_t> bad = {1, 1, 'x', 9};
  batch.push_back({{1, 0, 0, 1}, "award", 1, good});
  batch.push_back({{2, 0, 0, 1}, "award", 1, bad});
  CHECK_THROWS_WITH_AS(ledger.insert_batch(std::span<const EncodedEntry>(batch)),
                       doctest::Contains("entry 1 (ts=2"), InvalidEntry);
  batch[1].payload = good;
  batch[1].type = "bad type!";
  CHECK_THROWS_WITH_AS(ledger.insert_batch(std::span<const EncodedEntry>(batch)),
                       doctest::Contains("entry type"), InvalidEntry);
  CHECK(ledger.empty());
}

TEST_CASE("iteration from a position and from a timestamp") {
  Ledger ledger;
  for (std::uint32_t i = 0; i < 1000; ++i) ledger.insert(make_entry(i * 10, 0, 1));
  std::vector<std::uint32_t> seen;
  ledger.for_each(ledger.position_at_time(5005), ledger.size(), [&](std::size_t, const EntryView& e) {
    seen.push_back(e.key().timestamp);
    return seen.size() < 3;
  });
  CHECK(seen == std::vector<std::uint32_t>{5010, 5020, 5030});
  CHECK(ledger.position_at_time(0) == 0);
  CHECK(ledger.position_at_time(100000) == ledger.size());
}

TEST_CASE("week counts and week hashes follow inserts") {
  Ledger ledger;
  const std::uint32_t w = 604800;
  ledger.insert(make_entry(w * 10 + 5, 0, 1));
  ledger.insert(make_entry(w * 10 + 1, 0, 2));
  ledger.insert(make_entry(w * 11, 0, 1));
  ledger.insert(make_entry(w * 11 - 1, 0, 3));
  CHECK(ledger.weeks().size() == 2);
  CHECK(ledger.week(11).count == 3);
  CHECK(ledger.week(12).count == 1);
  CHECK(ledger.week(13).count == 0);

  Adler32 expected;
  for (auto key : {EntryKey{w * 10 + 1, 0, 0, 2}, EntryKey{w * 10 + 5, 0, 0, 1},
                   EntryKey{w * 11 - 1, 0, 0, 3}}) {
    expected.feed_key(key);
  }
  CHECK(ledger.week_adler32(11) == expected.value());
  ledger.insert(make_entry(w * 10 + 3, 0, 1));  // invalidates the cached week hash
  CHECK(ledger.week_adler32(11) != expected.value());
  CHECK(ledger.week_adler32(11) == ledger.adler32(0, 4));
  CHECK(ledger.week_adler32(99) == 0u);
}

TEST_CASE("range fingerprints equal a scan and see a changed content") {
  auto entries = random_entries(4000, 11);
  Ledger ledger;
  ledger.insert_batch(std::span<const Entry>(entries));
  auto scan = [&](std::size_t from, std::size_t to) {
    Fingerprint fp;
    ledger.for_each(from, to, [&](std::size_t, const EntryView& e) { fp.add(e.content_hash()); });
    return fp;
  };
  Rng rng(5);
  for (int i = 0; i < 200; ++i) {
    std::size_t a = rng() % (ledger.size() + 1);
    std::size_t b = rng() % (ledger.size() + 1);
    if (a > b) std::swap(a, b);
    CHECK(ledger.fingerprint(a, b) == scan(a, b));
  }
  CHECK(ledger.fingerprint() == scan(0, ledger.size()));
  Fingerprint weeks_total;
  for (const auto& [week, summary] : ledger.weeks()) weeks_total += summary.fingerprint;
  CHECK(weeks_total == ledger.fingerprint());

  // Two ledgers with the same keys but one different payload: equal counts, different sums.
  auto changed = entries;
  changed[100].payload.set("amount", std::int64_t{12345});
  Ledger other;
  other.insert_batch(std::span<const Entry>(changed));
  CHECK(keys_of(other) == keys_of(ledger));
  CHECK(other.adler32(0, other.size()) == ledger.adler32(0, ledger.size()));  // keys only
  CHECK(other.fingerprint().count == ledger.fingerprint().count);
  CHECK_FALSE(other.fingerprint() == ledger.fingerprint());
  auto key = changed[100].key;
  EntryKey next{key.timestamp + 1, 0, 0, 0};
  CHECK_FALSE(other.fingerprint(key, next) == ledger.fingerprint(key, next));
}

TEST_CASE("entries read back exactly") {
  Ledger ledger;
  Entry e{{42, 7, 3, 99}, "loot", 2, {}};
  e.payload.set("item", std::string("Thunderfury")).set("price", 0.5).set("bis", true);
  ledger.insert(e);
  auto view = ledger.at(0);
  CHECK(view.type() == "loot");
  CHECK(view.revision() == 2);
  CHECK(view.to_entry() == e);
  CHECK(ledger.types().find("loot").has_value());
}
