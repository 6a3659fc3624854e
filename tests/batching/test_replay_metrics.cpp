// Replay metrics: histogram quantiles against a sorted reference, events/s window, JSON.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "batching/replay_metrics.hpp"

using namespace tally;

namespace {

double unit(std::mt19937_64& rng) {
  return double(rng() >> 11) * 0x1.0p-53;
}

// Nearest-rank quantile of sorted values.
double reference_quantile(const std::vector<double>& sorted, double q) {
  const auto rank = std::max<std::size_t>(1, std::size_t(std::ceil(q * double(sorted.size()))));
  return sorted[rank - 1];
}

constexpr double kQuantiles[] = {0, 0.001, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1};

}  // namespace

TEST_CASE("quantiles match a sorted reference within the bucket resolution") {
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    Histogram h;
    std::vector<double> values;
    const std::size_t n = 1 + rng() % 100'000;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = std::pow(10.0, -4 + 8 * unit(rng));  // 0.1 us .. 10 s, log-uniform
      values.push_back(v);
      h.record(v);
    }
    std::sort(values.begin(), values.end());
    CHECK(h.count() == n);
    CHECK(h.min() == values.front());
    CHECK(h.max() == values.back());
    double sum = 0;
    for (const double v : values) sum += v;
    CHECK(h.mean() == doctest::Approx(sum / double(n)));
    for (const double q : kQuantiles) {
      CAPTURE(q);
      const double expected = reference_quantile(values, q);
      CHECK(std::abs(h.quantile(q) - expected) <= expected / 64);
    }
  }
}

TEST_CASE("values outside the bucket range: small ones within 61 ns, large ones exact max") {
  Histogram h;
  for (const double v : {0.0, 1e-7, 3e-5, 5e-5}) h.record(v);
  CHECK(h.min() == 0);
  CHECK(h.quantile(0) == 0);  // clamped to the exact minimum
  CHECK(std::abs(h.quantile(0.5) - 1e-7) <= 0x1.0p-14);
  CHECK(h.quantile(1) == 5e-5);

  Histogram big;
  for (const double v : {1.0, 2e5, 9e5}) big.record(v);
  CHECK(big.quantile(1) == 9e5);
  CHECK(big.quantile(0.6) == 9e5);  // in the overflow bucket: reported as the maximum
  CHECK(big.quantile(0.3) == doctest::Approx(1.0).epsilon(1.0 / 64));
}

TEST_CASE("an empty histogram reports zeros; bad input is refused") {
  Histogram h;
  CHECK(h.count() == 0);
  CHECK(h.mean() == 0);
  CHECK(h.max() == 0);
  CHECK(h.quantile(0.99) == 0);
  CHECK_THROWS_AS(h.record(-0.001), std::invalid_argument);
  CHECK_THROWS_AS(h.record(NAN), std::invalid_argument);
  CHECK_THROWS_AS(h.record(INFINITY), std::invalid_argument);
  CHECK_THROWS_AS(h.quantile(1.01), std::invalid_argument);
  CHECK_THROWS_AS(h.quantile(NAN), std::invalid_argument);
  CHECK(h.count() == 0);
}

TEST_CASE("merge equals recording everything in one; reset empties") {
  std::mt19937_64 rng(9);
  Histogram a, b, all;
  for (int i = 0; i < 5000; ++i) {
    const double v = 0.01 + 20 * unit(rng);
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  Histogram merged;
  merged.merge(a);
  merged.merge(Histogram());
  merged.merge(b);
  CHECK(merged.count() == all.count());
  CHECK(merged.sum() == doctest::Approx(all.sum()));
  CHECK(merged.min() == all.min());
  CHECK(merged.max() == all.max());
  for (const double q : kQuantiles) CHECK(merged.quantile(q) == all.quantile(q));

  merged.reset();
  CHECK(merged.count() == 0);
  CHECK(merged.sum() == 0);
  CHECK(merged.quantile(0.5) == 0);
  merged.record(3);
  CHECK(merged.min() == 3);
  CHECK(merged.max() == 3);
}

TEST_CASE("events per second over a sliding window") {
  RateWindow rate(1.0);
  CHECK(rate.per_second(5) == 0);
  // 60 fps, two batches of 50 per frame: 6000 events/s.
  for (int f = 0; f < 180; ++f) {
    rate.record(50, f / 60.0, 0.001);
    rate.record(50, f / 60.0, 0.001);
  }
  CHECK(rate.per_second(179 / 60.0) == doctest::Approx(6000).epsilon(0.02));
  // Before a full window: over the time since the first step began, not diluted by the window.
  RateWindow young(1.0);
  young.record(100, 10.0, 0.01);
  CHECK(young.per_second(10.0) == doctest::Approx(10'000));
  young.record(100, 10.09, 0.01);
  CHECK(young.per_second(10.09) == doctest::Approx(2000));
  // Replay stops: the rate drains as the window slides past.
  CHECK(rate.per_second(179 / 60.0 + 0.5) == doctest::Approx(3000).epsilon(0.05));
  CHECK(rate.per_second(179 / 60.0 + 1.0) == 0);

  CHECK_THROWS_AS(RateWindow(0), std::invalid_argument);
  CHECK_THROWS_AS(rate.record(1, 1.0, 0), std::invalid_argument);  // time went backwards
}

TEST_CASE("ReplayMetrics counts and reports as JSON") {
  ReplayMetrics m;
  for (int f = 0; f < 120; ++f) {
    const double now = f / 60.0;
    m.record_step(400, 1.0, now);
    m.record_step(100, 0.25, now);
    m.record_frame(1.3);
  }
  m.record_rewind(500);
  m.record_rewind(20'000);
  m.record_checkpoint(0.5);
  m.record_checkpoint(1.5);
  m.record_checkpoints_dropped(1);
  m.set_lag(7000);
  m.set_lag(30);

  CHECK(m.events_applied() == 60'000);
  CHECK(m.steps() == 240);
  CHECK(m.frames_with_replay() == 120);
  CHECK(m.events_per_second(119 / 60.0) == doctest::Approx(30'000).epsilon(0.02));
  CHECK(m.events_per_replay_second() == doctest::Approx(400'000));
  CHECK(m.rewinds() == 2);
  CHECK(m.rewound_events_total() == 20'500);
  CHECK(m.rewind_max_distance() == 20'000);
  CHECK(m.checkpoints_taken() == 2);
  CHECK(m.checkpoints_dropped() == 1);
  CHECK(m.checkpoint_ms_total() == 2.0);
  CHECK(m.lag_events() == 30);
  CHECK(m.lag_max_events() == 7000);
  CHECK_THROWS_AS(m.record_step(1, -1, 3), std::invalid_argument);

  const nlohmann::json j = m.to_json(119 / 60.0);
  CHECK(j["events_applied"] == 60'000);
  CHECK(j["steps"] == 240);
  CHECK(j["frames_with_replay"] == 120);
  CHECK(j["events_per_second"].get<double>() == doctest::Approx(30'000).epsilon(0.02));
  CHECK(j["step_ms"]["count"] == 240);
  CHECK(j["step_ms"]["max"] == 1.0);
  CHECK(std::abs(j["step_ms"]["p50"].get<double>() - 0.25) <= 0.25 / 64);
  CHECK(j["step_ms"]["p99"] == 1.0);
  CHECK(j["frame_ms"]["mean"].get<double>() == doctest::Approx(1.3));
  CHECK(j["rewinds"] ==
        nlohmann::json{{"count", 2}, {"events_total", 20'500}, {"max_distance", 20'000}});
  CHECK(j["checkpoints"]["taken"] == 2);
  CHECK(j["checkpoints"]["dropped"] == 1);
  CHECK(j["checkpoints"]["ms_total"] == 2.0);
  CHECK(j["checkpoints"]["ms"]["max"] == 1.5);
  CHECK(j["lag_events"] == 30);
  CHECK(j["lag_max_events"] == 7000);
}
