// Decoding ahead on the decode thread (bindings/decode_ahead.*) changes nothing but speed: two
// clients, one decoding ahead in small batches and one decoding on its own thread, replay the
// same entries through the same steps, and must end with the same state, state hash, failures
// and new-string deliveries, also when the ledger changes in the middle of a step.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "bindings/decode_ahead.hpp"
#include "bindings/ledger_binding.hpp"
#include "client_fixture.hpp"

using namespace tally;

namespace {

// Awards with a name from a pool, notes whose text is new in every entry (so that most batches
// bring new strings), and entries of a second shape of "award" (an extra field).
std::vector<Entry> mixed_entries(int count) {
  std::vector<Entry> entries;
  for (int i = 0; i < count; ++i) {
    Entry e;
    e.key = {1700000000u + static_cast<std::uint32_t>(i / 3), static_cast<std::uint8_t>(i % 3), 0, 7};
    switch (i % 5) {
      case 0:
      case 1:
        e.type = "award";
        e.payload.set("player", "P" + std::to_string(i % 613)).set("amount", static_cast<std::int64_t>(i % 41 + 1));
        break;
      case 2:
        e.type = "award";
        e.payload.set("player", "P" + std::to_string(i % 307))
            .set("amount", static_cast<std::int64_t>(i % 17))
            .set("bonus", true);
        break;
      default:
        e.type = "note";
        e.payload.set("text", "note " + std::to_string(i)).set("weight", 0.5 * i);
        break;
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

constexpr const char* kSetup = R"(
  failures = 0
  function make(name)
    local ledger = Tally.NewLedger{ name = name, frameBudgetMs = 1, interval = 0, batchSize = 700,
                                    checkpointEvery = 500 }
    ledger:RegisterMutator("award", function(state, data, meta)
      if broken and data.amount == 13 then error("broken award") end
      local v = (state[data.player] or 0) * 3 + data.amount + (data.bonus and 1000 or 0)
      state[data.player] = v % 1000003
      -- Now and then the mutator writes to the ledger mid-step: an entry after the ones being
      -- replayed, with a string no entry had.
      if echo and data.amount == 29 and not state["echoed " .. meta.time] then
        state["echoed " .. meta.time] = true
        ledger:Submit("note", { text = "echo of " .. data.player .. " at " .. meta.time, weight = 1 })
      end
    end)
    ledger:RegisterMutator("note", function(state, data)
      state.notes = ((state.notes or 0) * 31 + #data.text + data.weight) % 2147483647
      state.last = data.text
    end)
    ledger:On("mutatorFailed", function() failures = failures + 1 end)
    return ledger
  end
  L = make("Guild")
  function dump(ledger)
    ledger = ledger or L
    local state, keys, out = ledger:State(), {}, {}
    for k in pairs(state) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. tostring(state[k]) end
    local hash, fingerprint = ledger:StateHash()
    return table.concat(out, ",") .. " hash=" .. hash .. " fp=" .. fingerprint .. " size=" .. ledger:Size() ..
           " failures=" .. failures
  end
)";

HostOptions with_decode_ahead(bool enabled) {
  HostOptions o;
  // Small batches and steps: every step of a few entries decodes ahead, in many batches.
  o.decode_ahead = {.enabled = enabled, .min_entries = 8, .batch_entries = 5};
  return o;
}

// The same client twice: decoding ahead and not.
struct Twins {
  Bare ahead{{.name = "Tester", .memory_limit = 64u << 20}, with_decode_ahead(true)};
  Bare plain{{.name = "Tester", .memory_limit = 64u << 20}, with_decode_ahead(false)};

  Twins() { both(kSetup); }
  void both(const std::string& code) {
    ahead.run(code);
    plain.run(code);
  }
  void receive(const std::vector<Entry>& entries, const std::string& ledger = "Guild") {
    ahead.client.ledgers().find(ledger)->enqueue_remote(entries, "Peer-Tally");
    plain.client.ledgers().find(ledger)->enqueue_remote(entries, "Peer-Tally");
  }
  void tick(int frames) {
    for (int i = 0; i < frames; ++i) {
      ahead.host.tick(1.0 / 60);
      plain.host.tick(1.0 / 60);
    }
  }
  std::string dump(Bare& b, const std::string& ledger = "L") { return b.one("print(dump(" + ledger + "))"); }
  double decoded_ahead(Bare& b) { return std::stod(b.one("print(L:Metrics().decoded_ahead)")); }
};

}  // namespace

TEST_CASE("a replay decoded ahead equals one decoded on the replaying thread") {
  Twins t;
  t.receive(mixed_entries(3000));
  t.both("L:CatchUp()");
  std::string expected = t.dump(t.plain);
  CHECK(expected.find("size=3000") != std::string::npos);
  CHECK(t.dump(t.ahead) == expected);
  CHECK(t.decoded_ahead(t.plain) == 0);
  // The replaying thread decodes a batch itself when the decode thread has not started it (on
  // a busy machine, possibly every batch): replay again from zero until the decode thread did
  // some, with the same result each time.
  for (int again = 0; again < 100 && t.decoded_ahead(t.ahead) == 0; ++again) {
    t.ahead.run("L:TravelTo(0) L:CatchUp() L:StopTravel() L:CatchUp()");
    REQUIRE(t.dump(t.ahead) == expected);
  }
  CHECK(t.decoded_ahead(t.ahead) > 0);
  MESSAGE("decoded ahead: " << t.decoded_ahead(t.ahead) << " entries");
}

TEST_CASE("frames that decode ahead while entries keep arriving equal frames that do not") {
  Twins t;
  std::vector<Entry> entries = mixed_entries(6000);
  // Entries arrive in chunks between frames, newest first, so many land before what was
  // applied (rewinds) while a step is being decoded ahead.
  for (int chunk = 5; chunk >= 0; --chunk) {
    t.receive({entries.begin() + chunk * 1000, entries.begin() + (chunk + 1) * 1000});
    t.tick(3);
  }
  t.tick(200);
  t.both("L:CatchUp()");
  std::string expected = t.dump(t.plain);
  CHECK(expected.find("size=6000") != std::string::npos);
  CHECK(t.dump(t.ahead) == expected);
  CHECK(std::stoi(t.ahead.one("print(L:Metrics().rewinds.count)")) > 0);
}

TEST_CASE("two ledgers of a client decoding ahead in the same frames, one receiving meanwhile") {
  Twins t;
  t.both("M = make('Raid')");
  std::vector<Entry> entries = mixed_entries(5000);
  t.receive({entries.begin(), entries.begin() + 2500});
  t.receive(entries, "Raid");
  t.tick(4);
  // Guild's frames are decoding ahead; the rest lands after what it applied.
  t.receive({entries.begin() + 2500, entries.end()});
  t.tick(300);
  t.both("L:CatchUp() M:CatchUp()");  // in case a slow (sanitizer) build is not there yet
  for (const char* ledger : {"L", "M"}) {
    CAPTURE(ledger);
    std::string expected = t.dump(t.plain, ledger);
    CHECK(expected.find("size=5000") != std::string::npos);
    CHECK(t.dump(t.ahead, ledger) == expected);
  }
}

TEST_CASE("the ledger changing in the middle of a step decoded ahead") {
  Twins t;
  t.both("echo = true");
  t.receive(mixed_entries(3000));
  // Mutators submit entries mid-step (each one drops what was decoded ahead, whose new strings
  // must still reach Lua), then an ignore and time travel change what replay covers.
  t.both("L:CatchUp() L:CatchUp()");
  std::string target = entry_id(t.plain.client.ledgers().find("Guild")->ledger().at(1500).key());
  t.both("L:Ignore('" + target + "') L:TravelTo(1700000500) L:CatchUp() L:StopTravel() L:CatchUp()");
  std::string expected = t.dump(t.plain);
  CHECK(expected.find("echoed") != std::string::npos);
  CHECK(t.dump(t.ahead) == expected);
}

TEST_CASE("a mutator failing in a step decoded ahead stops, rolls back and recovers the same way") {
  Twins t;
  t.both("broken = true");
  t.receive(mixed_entries(3000));
  t.both("L:CatchUp()");
  std::string failed = t.dump(t.plain);
  CHECK(failed.find("failures=1") != std::string::npos);
  CHECK(t.dump(t.ahead) == failed);
  CHECK(t.ahead.one("print(L:Lag() > 0)") == "true");
  // Fixed: the entries replay once the cause is gone (a ledger change retries the entry).
  t.both("broken = false L:Submit('note', { text = 'fixed', weight = 2 }) L:CatchUp()");
  std::string fixed = t.dump(t.plain);
  CHECK(fixed.find("size=3001") != std::string::npos);
  CHECK(t.dump(t.ahead) == fixed);
}

namespace {

// Calls to worth_it() until it says yes (at most `limit`).
int refusals_before_yes(DecodeAheadGauge& g, int limit = 5000) {
  int n = 0;
  while (n < limit && !g.worth_it()) ++n;
  return n;
}

}  // namespace

TEST_CASE("the gauge: decode ahead while waiting costs less than decoding here; retry with backoff") {
  DecodeAheadGauge g;
  CHECK(g.worth_it());  // nothing measured yet
  g.decoded_here(20000, 1000);  // 20 ns per entry here
  g.waited(10000, 1000);        // 10 ns per entry waiting
  CHECK(g.worth_it());
  for (int i = 0; i < 20; ++i) g.waited(30000, 1000);  // waiting costs more than decoding here
  CHECK_FALSE(g.worth_it());
  // It tries again after 32 batches; each try that does not pay doubles the wait, up to 1024.
  CHECK(refusals_before_yes(g) == 31 - 1);  // one refusal was the CHECK_FALSE above
  const int expected[] = {63, 127, 255, 511, 1023, 1023};
  for (int refusals : expected) {
    g.waited(30000, 1000);  // the try waited too long
    CHECK(refusals_before_yes(g) == refusals);
  }
  // A try that pays resets the backoff.
  g.waited(5000, 1000);
  CHECK(g.worth_it());
  for (int i = 0; i < 20; ++i) g.waited(30000, 1000);
  CHECK(refusals_before_yes(g) == 31);
}
