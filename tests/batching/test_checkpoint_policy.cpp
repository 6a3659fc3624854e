// CheckpointPolicy: triggers, bound and spacing, lookups, invalidation, brute-force models.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include "batching/checkpoint_policy.hpp"

using namespace tally;

namespace {

using Positions = std::vector<std::size_t>;

// The widest gap relative to the replay an insert just below its upper end needs anyway,
// ignoring gaps no wider than `interval` (those cost at most one interval of waste).
double waste_ratio(const Positions& kept, std::size_t interval) {
  double worst = 0;
  std::size_t before = 0;
  for (const std::size_t c : kept) {
    if (c - before > interval) {
      worst = std::max(worst, double(c - before) / double(kept.back() - c + 1));
    }
    before = c;
  }
  return worst;
}

}  // namespace

TEST_CASE("a checkpoint at c holds entries [0, c): an insert at p keeps c <= p, drops c > p") {
  CheckpointPolicy policy({0, 0, 8});
  for (const std::size_t c : {100, 200, 300}) CHECK(policy.add(c).empty());

  CHECK(policy.nearest_at_or_before(99) == std::nullopt);  // replay from zero
  CHECK(policy.nearest_at_or_before(100) == 100u);
  CHECK(policy.nearest_at_or_before(199) == 100u);
  CHECK(policy.nearest_at_or_before(200) == 200u);
  CHECK(policy.nearest_at_or_before(1'000'000) == 300u);

  CHECK(policy.invalidate_after(300).empty());
  CHECK(policy.invalidate_after(200) == Positions{300});  // c == p stays
  CHECK(policy.positions() == Positions{100, 200});
  CHECK(policy.invalidate_after(199) == Positions{200});
  CHECK(policy.invalidate_after(0) == Positions{100});
  CHECK(policy.size() == 0);
  CHECK(policy.nearest_at_or_before(1'000'000) == std::nullopt);
}

TEST_CASE("should_checkpoint: every N events or T ms of replay, never twice at one place") {
  CheckpointPolicy by_events({1000, 0, 8});
  CHECK_FALSE(by_events.should_checkpoint(0, 1e9));
  CHECK_FALSE(by_events.should_checkpoint(999, 1e9));  // the time trigger is off
  CHECK(by_events.should_checkpoint(1000, 0));
  by_events.add(1000);
  CHECK_FALSE(by_events.should_checkpoint(1000, 0));
  CHECK_FALSE(by_events.should_checkpoint(1999, 0));
  CHECK(by_events.should_checkpoint(2000, 0));
  CHECK_FALSE(by_events.should_checkpoint(500, 0));  // replay behind the newest (time travel)

  CheckpointPolicy by_time({0, 5, 8});
  CHECK_FALSE(by_time.should_checkpoint(0, 10));
  CHECK_FALSE(by_time.should_checkpoint(10, 4.9));
  CHECK(by_time.should_checkpoint(10, 5));
  by_time.add(10);
  CHECK_FALSE(by_time.should_checkpoint(10, 50));
  CHECK(by_time.should_checkpoint(11, 50));
  CHECK_FALSE(by_time.should_checkpoint(1'000'000, 1));

  CheckpointPolicy both({1000, 5, 8});
  CHECK(both.should_checkpoint(1000, 0));
  CHECK(both.should_checkpoint(3, 5));
  CHECK_FALSE(both.should_checkpoint(3, 4));
}

TEST_CASE("bad configurations and out-of-order adds are refused") {
  CHECK_THROWS_WITH_AS(CheckpointPolicy({1, 0, 0}), "max_checkpoints must be at least 1, got 0",
                       std::invalid_argument);
  CHECK_THROWS_AS(CheckpointPolicy({1, -1, 4}), std::invalid_argument);
  CHECK_THROWS_AS(CheckpointPolicy({1, NAN, 4}), std::invalid_argument);
  CheckpointPolicy policy;
  policy.add(10);
  CHECK_THROWS_WITH_AS(policy.add(10),
                       "CheckpointPolicy::add: position 10 is not after the newest checkpoint 10",
                       std::invalid_argument);
  CHECK_THROWS_AS(policy.add(9), std::invalid_argument);
  CHECK_THROWS_AS(policy.set_config({1, 0, 0}), std::invalid_argument);
  CHECK(policy.config().max_checkpoints == 32);
}

TEST_CASE("1,000,000 appends, a checkpoint every 1000: bounded, near-geometric spacing") {
  CheckpointPolicy policy({1000, 0, 32});
  std::set<std::size_t> stored;  // the caller's checkpoint states
  std::size_t taken = 0, dropped = 0;
  double worst_ratio = 0;
  for (std::size_t applied = 1; applied <= 1'000'000; ++applied) {
    if (!policy.should_checkpoint(applied, 0)) continue;
    ++taken;
    stored.insert(applied);
    for (const std::size_t d : policy.add(applied)) dropped += stored.erase(d);
    REQUIRE(policy.size() <= 32);
    REQUIRE(policy.positions().back() == applied);
    worst_ratio = std::max(worst_ratio, waste_ratio(policy.positions(), 1000));
  }
  CHECK(taken == 1000);
  CHECK(dropped == 1000 - 32);
  CHECK(std::vector<std::size_t>(stored.begin(), stored.end()) == policy.positions());

  // Dense at the applied end, gaps that never shrink going back, and far back as well.
  const Positions& kept = policy.positions();
  REQUIRE(kept.size() == 32);
  CHECK(kept.back() - kept[kept.size() - 2] == 1000);
  for (std::size_t i = kept.size() - 1; i >= 2; --i) {
    CAPTURE(i);
    CHECK(kept[i - 1] - kept[i - 2] >= kept[i] - kept[i - 1]);
  }
  CHECK(kept.front() <= 300'000);
  CHECK(kept.back() - kept[kept.size() - 2] < kept[1] - kept[0]);

  // A rewind replays at most about 1.5x what it must, plus one interval.
  CHECK(worst_ratio <= 0.55);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10'000; ++i) {
    const std::size_t p = rng() % 1'000'001;
    const std::size_t from = policy.nearest_at_or_before(p).value_or(0);
    REQUIRE(p - from <= std::max<double>(1000, 0.55 * double(1'000'000 - p + 1)));
  }
}

TEST_CASE("a smaller maximum drops at once; a larger one drops nothing") {
  CheckpointPolicy policy({0, 0, 16});
  for (std::size_t c = 1; c <= 16; ++c) policy.add(c * 10);
  const Positions before = policy.positions();
  CHECK(policy.set_config({0, 0, 64}).empty());
  const Positions dropped = policy.set_config({0, 0, 4});
  CHECK(dropped.size() == 12);
  CHECK(std::is_sorted(dropped.begin(), dropped.end()));
  CHECK(policy.size() == 4);
  CHECK(policy.positions().back() == 160);
  Positions all = policy.positions();
  all.insert(all.end(), dropped.begin(), dropped.end());
  std::sort(all.begin(), all.end());
  CHECK(all == before);

  CHECK(policy.set_config({0, 0, 1}).size() == 3);
  CHECK(policy.positions() == Positions{160});
}

TEST_CASE("random operations agree with a brute-force model of the kept set") {
  for (const std::uint64_t seed : {11u, 12u, 13u, 14u, 15u}) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    CheckpointPolicy policy({0, 0, 1 + rng() % 40});
    std::set<std::size_t> model;
    std::size_t head = 0;
    const auto forget = [&](const Positions& dropped) {
      REQUIRE(std::is_sorted(dropped.begin(), dropped.end()));
      for (const std::size_t d : dropped) REQUIRE(model.erase(d) == 1);
    };
    for (int step = 0; step < 20'000; ++step) {
      const std::uint64_t op = rng() % 100;
      if (op < 55) {
        head += 1 + rng() % 5000;
        model.insert(head);
        forget(policy.add(head));
        REQUIRE(policy.positions().back() == head);  // the newest is never dropped
      } else if (op < 70) {
        const std::size_t p = head ? rng() % (head + 100) : 0;
        Positions expected(model.upper_bound(p), model.end());
        const Positions dropped = policy.invalidate_after(p);
        REQUIRE(dropped == expected);
        forget(dropped);
        head = model.empty() ? p : std::max(p, *model.rbegin());
      } else if (op < 98) {
        const std::size_t p = rng() % (head + 100);
        const auto after = model.upper_bound(p);
        const std::optional<std::size_t> expected =
            after == model.begin() ? std::nullopt : std::optional(*std::prev(after));
        REQUIRE(policy.nearest_at_or_before(p) == expected);
      } else {
        forget(policy.set_config({0, 0, 1 + rng() % 40}));
      }
      REQUIRE(policy.size() <= policy.config().max_checkpoints);
      REQUIRE(Positions(model.begin(), model.end()) == policy.positions());
    }
  }
}

TEST_CASE("rewinds from checkpoints rebuild exactly the state of a replay from zero") {
  // A ledger of numbers, its derived state an order-dependent fold, replayed with checkpoints;
  // random inserts land anywhere. Every kept checkpoint must equal a fresh fold of its prefix.
  const auto fold = [](std::uint64_t state, std::uint64_t entry) {
    return state * 0x9E3779B97F4A7C15ull + entry + 1;
  };
  for (const std::uint64_t seed : {21u, 22u, 23u}) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    CheckpointPolicy policy({64, 0.5, 12});  // every 64 events or 0.5 "ms" (50 events)
    std::vector<std::uint64_t> ledger;
    std::map<std::size_t, std::uint64_t> states;  // the caller's stored checkpoint states
    std::size_t applied = 0;
    std::uint64_t state = 0;
    double ms_since_checkpoint = 0;
    std::uint64_t rewinds = 0, replayed = 0, needed = 0;

    for (int round = 0; round < 3000; ++round) {
      // Inserts: mostly appends, some anywhere (late events from sync).
      for (std::uint64_t n = rng() % 4; n > 0; --n) {
        const std::size_t p = rng() % 4 ? ledger.size() : rng() % (ledger.size() + 1);
        ledger.insert(ledger.begin() + static_cast<std::ptrdiff_t>(p), rng());
        if (p < applied) {
          for (const std::size_t c : policy.invalidate_after(p)) states.erase(c);
          const std::size_t from = policy.nearest_at_or_before(p).value_or(0);
          state = from ? states.at(from) : 0;
          replayed += applied - from;
          needed += applied - p;
          ++rewinds;
          applied = from;
          ms_since_checkpoint = 0;
        }
      }
      // A frame of replay: up to 40 events.
      for (int i = 0; i < 40 && applied < ledger.size(); ++i) {
        state = fold(state, ledger[applied++]);
        ms_since_checkpoint += 0.01;
        if (policy.should_checkpoint(applied, ms_since_checkpoint)) {
          states[applied] = state;
          for (const std::size_t c : policy.add(applied)) states.erase(c);
          ms_since_checkpoint = 0;
        }
      }
      REQUIRE(states.size() == policy.size());
      for (const auto& [c, s] : states) {
        std::uint64_t fresh = 0;
        for (std::size_t i = 0; i < c; ++i) fresh = fold(fresh, ledger[i]);
        REQUIRE(s == fresh);
      }
    }
    std::uint64_t fresh = 0;
    for (std::size_t i = 0; i < applied; ++i) fresh = fold(fresh, ledger[i]);
    CHECK(state == fresh);
    CHECK(rewinds > 100);
    // Rewinds replay little more than the entries after the insert, which must be replayed.
    CHECK(double(replayed) < 1.25 * double(needed));
  }
}
