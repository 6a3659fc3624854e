// Replay knobs: presets, range checks with their messages, and the CLI string parser.
#include <doctest/doctest.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "batching/replay_knobs.hpp"

using namespace tally;

namespace {

// The message of the std::invalid_argument that `fn` throws ("" if it throws none).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("presets: the reference design's knobs and Tally's default") {
  const ReplayKnobs reference = ReplayKnobs::reference();
  CHECK(reference.batch_size == 50);
  CHECK(reference.interval_seconds == 0.5);
  CHECK(reference.frame_budget_ms == 0);
  CHECK_FALSE(reference.has_budget());

  const ReplayKnobs responsive = ReplayKnobs::responsive();
  CHECK(responsive == ReplayKnobs{});
  CHECK(responsive.batch_size == 500);
  CHECK(responsive.interval_seconds == 0);
  CHECK(responsive.frame_budget_ms == 2.0);
  CHECK(responsive.has_budget());

  CHECK_NOTHROW(validate(reference));
  CHECK_NOTHROW(validate(responsive));
}

TEST_CASE("validate names the knob and the bad value") {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(error_of([] { validate({0, 0, 0}); }) == "batch_size must be in 1..1000000, got 0");
  CHECK(error_of([] {
          validate({1'000'001, 0, 0});
        }) == "batch_size must be in 1..1000000, got 1000001");
  CHECK(error_of([] {
          validate({1, -0.5, 0});
        }) == "interval_seconds must be a finite number in 0..3600, got -0.5");
  CHECK(error_of([] {
          validate({1, 3600.5, 0});
        }) == "interval_seconds must be a finite number in 0..3600, got 3600.5");
  CHECK(error_of([&] {
          validate({1, inf, 0});
        }) == "interval_seconds must be a finite number in 0..3600, got inf");
  CHECK(error_of([&] { validate({1, 0, nan}); }).starts_with("frame_budget_ms must be a finite"));
  CHECK(error_of([] {
          validate({1, 0, 1000.25});
        }) == "frame_budget_ms must be a finite number in 0..1000, got 1000.25");

  // The edges are accepted.
  CHECK_NOTHROW(validate({1, 0, 0}));
  CHECK_NOTHROW(validate({1'000'000, 3600, 1000}));
}

TEST_CASE("parse_knobs reads key=value items on top of a base") {
  CHECK(parse_knobs("batch=100,interval=0.25,budget=2") == ReplayKnobs{100, 0.25, 2});
  CHECK(parse_knobs(" batch = 100 , budget=0 ") == ReplayKnobs{100, 0, 0});
  CHECK(parse_knobs("batch_size=7,interval_seconds=1,frame_budget_ms=3.5") ==
        ReplayKnobs{7, 1, 3.5});
  CHECK(parse_knobs("budget=1e1") == ReplayKnobs{500, 0, 10});

  // Unmentioned knobs come from the base; an empty string is the base itself.
  const ReplayKnobs base{80, 2, 0};
  CHECK(parse_knobs("interval=0.1", base) == ReplayKnobs{80, 0.1, 0});
  CHECK(parse_knobs("", base) == base);
  CHECK(parse_knobs("   ", base) == base);
  CHECK(parse_knobs("batch=3,", base) == ReplayKnobs{3, 2, 0});  // a trailing comma is fine
}

TEST_CASE("parse_knobs presets replace the base, wherever they are written") {
  CHECK(parse_knobs("preset=reference") == ReplayKnobs::reference());
  CHECK(parse_knobs("preset=responsive", ReplayKnobs::reference()) == ReplayKnobs::responsive());
  CHECK(parse_knobs("preset=reference,batch=100") == ReplayKnobs{100, 0.5, 0});
  CHECK(parse_knobs("batch=100,preset=reference") == ReplayKnobs{100, 0.5, 0});
}

TEST_CASE("parse_knobs errors quote the item and say what was expected") {
  CHECK(error_of([] { parse_knobs("batch=abc"); }) ==
        "replay knobs: \"batch=abc\": expected a whole number, got \"abc\"");
  CHECK(error_of([] { parse_knobs("batch=-5"); }) ==
        "replay knobs: \"batch=-5\": expected a whole number, got \"-5\"");
  CHECK(error_of([] { parse_knobs("batch=2.5"); }) ==
        "replay knobs: \"batch=2.5\": expected a whole number, got \"2.5\"");
  CHECK(error_of([] { parse_knobs("batch=0"); }) ==
        "replay knobs: \"batch=0\": batch_size must be in 1..1000000, got 0");
  CHECK(error_of([] { parse_knobs("batch=5000000000"); }) ==
        "replay knobs: \"batch=5000000000\": batch_size must be in 1..1000000, got 5000000000");
  CHECK(error_of([] { parse_knobs("interval=0.5s"); }) ==
        "replay knobs: \"interval=0.5s\": expected seconds, got \"0.5s\"");
  CHECK(error_of([] { parse_knobs("budget="); }) ==
        "replay knobs: \"budget=\": expected milliseconds, got \"\"");
  CHECK(error_of([] { parse_knobs("budget=-1"); }) ==
        "replay knobs: \"budget=-1\": frame_budget_ms must be a finite number in 0..1000, got -1");
  CHECK(error_of([] { parse_knobs("interval=inf"); }) ==
        "replay knobs: \"interval=inf\": interval_seconds must be a finite number in 0..3600, "
        "got inf");
  CHECK(error_of([] { parse_knobs("speed=9"); }) ==
        "replay knobs: \"speed=9\": unknown knob (expected batch, interval, budget or preset)");
  CHECK(error_of([] { parse_knobs("batch"); }) == "replay knobs: \"batch\": expected key=value");
  CHECK(error_of([] { parse_knobs("batch=1,,budget=2"); }) ==
        "replay knobs: \"\": empty item (stray comma?)");
  CHECK(error_of([] { parse_knobs("batch=1,batch_size=2"); }) ==
        "replay knobs: \"batch_size=2\": repeats \"batch=1\"");
  CHECK(error_of([] { parse_knobs("preset=fast"); }) ==
        "replay knobs: \"preset=fast\": unknown preset (expected reference or responsive)");
  // A bad base is caught even when the text does not touch it.
  CHECK(error_of([] {
          parse_knobs("budget=1", ReplayKnobs{0, 0, 0});
        }) == "batch_size must be in 1..1000000, got 0");
}

TEST_CASE("to_string round-trips through parse_knobs") {
  CHECK(to_string(ReplayKnobs{}) == "batch=500,interval=0,budget=2");
  CHECK(to_string(ReplayKnobs::reference()) == "batch=50,interval=0.5,budget=0");
  for (const ReplayKnobs knobs :
       {ReplayKnobs{}, ReplayKnobs::reference(), ReplayKnobs{1, 0.1, 1.0 / 3},
        ReplayKnobs{1'000'000, 3600, 1000}}) {
    CHECK(parse_knobs(to_string(knobs), ReplayKnobs{9, 9, 9}) == knobs);
  }
}
