// The ledger API addons use: submit, mutators and replay in the frame loop, authorization,
// ignores, time travel, failures, knobs, persistence.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>

#include "../runtime/temp_dir.hpp"
#include "client_fixture.hpp"

using namespace tally;

namespace {

// A DKP ledger with an award mutator, and a log of listener calls.
constexpr const char* kDkp = R"(
  calls = {}
  dkp = Tally.NewLedger{ name = "GuildDKP", frameBudgetMs = 0, batchSize = 100000, initialState = function() return { points = {} } end }
  dkp:RegisterMutator("award", function(state, data, meta)
    state.points[data.player] = (state.points[data.player] or 0) + data.amount
  end)
  dkp:On("stateChanged", function() calls[#calls + 1] = "changed" end)
  dkp:On("restart", function() calls[#calls + 1] = "restart" end)
  dkp:On("mutatorFailed", function(_, err) calls[#calls + 1] = "failed:" .. err:match("[^\n]*") end)
  function points(name) return dkp:State().points[name] or 0 end
)";

}  // namespace

TEST_CASE("submitted entries are applied by the frame loop and counted in the state hash") {
  Bare bare;
  bare.run(kDkp);
  CHECK(bare.one("print(dkp:Submit('award', { player = 'Dagna', amount = 10 }) ~= nil)") == "true");
  bare.run("dkp:Submit('award', { player = 'Dagna', amount = 5 }) dkp:Submit('award', { player = 'Eowald', amount = 3 })");
  CHECK(bare.one("print((dkp:Lag()), points('Dagna'))") == "3 0");  // nothing applied before a frame
  bare.host.tick(1.0 / 60);
  CHECK(bare.one("print((dkp:Lag()), points('Dagna'), points('Eowald'))") == "0 15 3");
  CHECK(bare.one("print(table.concat(calls, ','))") == "changed");
  CHECK(bare.one("print(dkp:Size())") == "3");
  // Three entries in one second by one creator: counters 0, 1, 2; the hash feeds their keys.
  auto hash = bare.client.evaluate("return dkp:StateHash()");
  REQUIRE(hash.ok);
  CHECK(hash.values.at(0).as_number() > 0);
  CHECK(bare.one("print(pcall(dkp.Submit, dkp, 'award', { player = print }))").find("cannot go into an entry") !=
        std::string::npos);
  CHECK(bare.one("print(pcall(dkp.Submit, dkp, 'bad type', {}))").find("is not a name") != std::string::npos);
}

TEST_CASE("authorization refuses a submit with its reason") {
  Bare bare;
  bare.run(R"(
    seen = {}
    officers = Tally.NewLedger{ name = "Officers", authorize = function(entry, sender, stage)
      seen[#seen + 1] = stage .. ":" .. sender .. ":" .. entry.type
      if entry.data.amount and entry.data.amount > 100 then return false, "awards above 100 need a vote" end
      return true
    end }
  )");
  CHECK(bare.one("print(officers:Submit('award', { amount = 500 }))") == "nil awards above 100 need a vote");
  CHECK(bare.one("print(officers:Submit('award', { amount = 50 }) ~= nil, officers:Size())") == "true 1");
  CHECK(bare.one("print(table.concat(seen, ';'))") == "submit:Tester:award;submit:Tester:award");
  bare.run("broken = Tally.NewLedger{ name = 'Broken', authorize = function() error('oops') end }");
  CHECK(bare.one("print(broken:Submit('x', {}))").find("nil authorize failed:") == 0);
}

TEST_CASE("ignoring an entry skips its mutator; ignoring the ignore restores it") {
  Bare bare;
  bare.run(kDkp);
  bare.run("a = dkp:Submit('award', { player = 'Dagna', amount = 10 }) b = dkp:Submit('award', { player = 'Dagna', amount = 7 })");
  bare.host.tick(0.1);
  CHECK(bare.one("print(points('Dagna'))") == "17");
  bare.run("undo = dkp:Ignore(a)");
  bare.host.tick(0.1);
  CHECK(bare.one("print(points('Dagna'))") == "7");
  bare.run("dkp:Ignore(undo)");
  bare.host.tick(0.1);
  CHECK(bare.one("print(points('Dagna'))") == "17");
  CHECK(bare.one("print(table.concat(calls, ','))").find("restart") != std::string::npos);
  CHECK(bare.one("print(dkp:Ignore('nonsense'))") == "nil no entry nonsense");
}

TEST_CASE("time travel replays only the past; stopping resumes") {
  Bare bare;
  bare.run(kDkp);
  bare.run("dkp:Submit('award', { player = 'Dagna', amount = 1 }) t0 = GetServerTime()");
  bare.host.tick(10);
  bare.run("dkp:Submit('award', { player = 'Dagna', amount = 2 })");
  bare.host.tick(10);
  bare.run("dkp:Submit('award', { player = 'Dagna', amount = 4 })");
  bare.host.tick(0.1);
  CHECK(bare.one("print(points('Dagna'))") == "7");
  bare.run("dkp:TravelTo(t0 + 10)");
  bare.host.tick(0.1);
  CHECK(bare.one("print(points('Dagna'), (dkp:Lag()))") == "3 0");
  bare.run("dkp:Submit('award', { player = 'Eowald', amount = 9 })");  // takes the travel time
  bare.host.tick(0.1);
  CHECK(bare.one("print(points('Eowald'), points('Dagna'))") == "9 3");
  bare.run("dkp:StopTravel()");
  bare.host.tick(0.1);
  CHECK(bare.one("print(points('Eowald'), points('Dagna'))") == "9 7");
}

TEST_CASE("a failing mutator stops replay at its entry until the cause is fixed") {
  Bare bare;
  bare.run(kDkp);
  bare.run(R"(
    dkp:Submit('award', { player = 'Dagna', amount = 1 })
    bad = dkp:Submit('award', { player = 'Dagna' })  -- no amount: the mutator errors
    dkp:Submit('award', { player = 'Dagna', amount = 4 })
  )");
  bare.host.tick(0.1);
  // Rolled back to the newest checkpoint before the failed entry (here: nothing)...
  CHECK(bare.one("print((dkp:Lag()), points('Dagna'))") == "3 0");
  CHECK(bare.one("print(table.concat(calls, ','))").find("failed:") != std::string::npos);
  bare.host.tick(0.1);
  // ...then replayed up to it, where it stays stopped.
  CHECK(bare.one("print((dkp:Lag()), points('Dagna'))") == "2 1");
  bare.host.tick(0.1);
  CHECK(bare.one("print((dkp:Lag()), points('Dagna'))") == "2 1");
  bare.run("dkp:Ignore(bad)");
  bare.host.tick(0.1);
  CHECK(bare.one("print(points('Dagna'), (dkp:Lag()))") == "5 0");
}

TEST_CASE("a runaway mutator is killed and reported; the client goes on") {
  Bare bare({.name = "Tester", .script_time_limit = 0.05});
  bare.run(kDkp);
  bare.run("dkp:RegisterMutator('loop', function() while true do end end) dkp:Submit('loop', {})");
  bare.host.tick(0.1);
  CHECK(logged(bare.client, "script ran too long", true));
  CHECK(bare.one("print((dkp:Lag()))") == "1");
  bare.run("print('alive')");
  CHECK(texts(bare.client).back() == "alive");
}

TEST_CASE("a killed mutator stays disabled until replaced, and OnUpdate still runs") {
  Bare bare({.name = "Tester", .script_time_limit = 0.05});
  bare.run(kDkp);
  bare.run(R"(
    updates = 0
    CreateFrame("Frame"):SetScript("OnUpdate", function() updates = updates + 1 end)
    dkp:RegisterMutator("loop", function() while true do end end)
    dkp:Submit("award", { player = "Dagna", amount = 1 })
    dkp:Submit("loop", {})
  )");
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    bare.run("dkp:Submit('award', { player = 'Dagna', amount = 1 })");  // the ledger changes every frame
    bare.host.tick(0.1);
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(400));  // one kill, not ten
  auto errors = texts(bare.client, true);
  CHECK(std::count_if(errors.begin(), errors.end(), [](const std::string& e) {
          return e.find("script ran too long") != std::string::npos;
        }) == 1);
  CHECK(logged(bare.client, "this mutator is disabled until RegisterMutator replaces it", true));
  bare.host.tick(0.1);  // the ledger did not change: replay catches up to the entry and waits
  CHECK(bare.one("print(updates)") == "11");
  // Stopped at the entry, with mutatorFailed fired, as for an erroring mutator.
  CHECK(bare.one("print(points('Dagna'), (dkp:Lag()))") == "1 11");
  CHECK(logged(bare.client, "script ran too long", true));
  CHECK(bare.one(R"(
    local n = 0
    for _, c in ipairs(calls) do if c == "failed:mutator for 'loop' is disabled: it ran too long" then n = n + 1 end end
    print(n > 0))") == "true");
  bare.run("dkp:RegisterMutator('loop', function() end)");
  bare.host.tick(0.1);
  CHECK(bare.one("print(points('Dagna'), (dkp:Lag()))") == "11 0");
}

TEST_CASE("an authorize function killed for running too long is disabled: entries are refused") {
  Bare bare({.name = "Tester", .script_time_limit = 0.05});
  bare.run(R"(
    slow = true
    guarded = Tally.NewLedger{ name = "Guarded", authorize = function() if slow then while true do end end return true end }
  )");
  bare.run("guarded:Submit('x', {})");
  CHECK(logged(bare.client, "this authorize function is disabled: entries are refused", true));
  CHECK(bare.one("slow = false print(guarded:Submit('x', {}))") == "nil authorize is disabled: it ran too long");
}

TEST_CASE("knobs: the reference preset applies 50 entries per half second") {
  Bare bare;
  bare.run(R"(
    slow = Tally.NewLedger{ name = "Slow", batchSize = 50, interval = 0.5, frameBudgetMs = 0 }
    count = 0
    slow:RegisterMutator("e", function() count = count + 1 end)
    for i = 1, 200 do slow:Submit("e", { i = i }) end
  )");
  for (int f = 0; f < 60; ++f) bare.host.tick(1.0 / 60);  // one second: steps at 0 and 0.5
  std::string applied = bare.one("print(count)");
  CHECK((applied == "100" || applied == "150"));
  bare.run("slow:SetKnobs{ batchSize = 1000, interval = 0 }");
  for (int f = 0; f < 3; ++f) bare.host.tick(1.0 / 60);
  CHECK(bare.one("print(count, (slow:Lag()))") == "200 0");
  CHECK(bare.one("print(pcall(function() for i = 1, 300 do slow:Submit('e', {}) end end))").find("more than 256 entries") != std::string::npos);
  CHECK(bare.one("print(pcall(slow.SetKnobs, slow, { batchSize = 0 }))").find("batch") != std::string::npos);
}

TEST_CASE("a persistent ledger survives logging out and in") {
  TempDir saved;
  Host host;
  Client& c = host.add_client({.name = "Dagna", .saved_variables_dir = saved.path()});
  host.start();
  const std::string setup = std::string(kDkp).replace(std::string(kDkp).find("name = \"GuildDKP\""), 17,
                                                      "name = \"GuildDKP\", persist = true");
  c.run_script(setup);
  c.run_script("dkp:Submit('award', { player = 'Dagna', amount = 10 })");
  c.run_script("dkp:Ignore(dkp:Submit('award', { player = 'Dagna', amount = 99 }))");
  c.logout();
  c.login();
  c.run_script(setup);
  host.tick(0.1);
  c.run_script("print(points('Dagna'), dkp:Size())");
  CHECK(texts(c).back() == "10 3");  // the ignore came back from the journal too
  CHECK(texts(c, true).empty());
  CHECK(std::filesystem::exists(saved.path() / "Dagna/Ledgers/GuildDKP.journal"));
}

TEST_CASE("rewinds from checkpoints give the same state as one replay, whatever the insert order") {
  for (int seed = 1; seed <= 40; ++seed) {
    Bare bare({.name = "Tester", .script_time_limit = 10});
    bare.run(R"(
      local function mutate(state, data, meta)
        state.h = ((state.h or 7) * 31 + data.n + meta.counter) % 2147483647
        state.count = (state.count or 0) + 1
      end
      restarts = 0
      A = Tally.NewLedger{ name = "A", checkpointEvery = 10, checkpointsKept = 6, frameBudgetMs = 0, batchSize = 100000 }
      B = Tally.NewLedger{ name = "B" }
      A:RegisterMutator("e", mutate) B:RegisterMutator("e", mutate)
      A:On("restart", function() restarts = restarts + 1 end)
      base = GetServerTime() - 1000
    )");
    bare.run("math.randomseed(" + std::to_string(seed) + ")");
    bare.run(R"(
      order = {}
      for k = 1, 120 do order[k] = k end
      for k = #order, 2, -1 do local j = math.random(k) order[k], order[j] = order[j], order[k] end
    )");
    for (int batch = 0; batch < 12; ++batch) {
      bare.run("for i = " + std::to_string(batch * 10 + 1) + ", " + std::to_string(batch * 10 + 10) + R"( do
          local k = order[i]
          A:TravelTo(base + k) A:Submit("e", { n = k }) A:StopTravel()
        end)");
      bare.host.tick(1.0 / 60);  // replay what arrived; late entries rewind to a checkpoint
    }
    bare.run(R"(
      for k = 1, 120 do B:TravelTo(base + k) B:Submit("e", { n = k }) B:StopTravel() end
      B:CatchUp() A:CatchUp()
    )");
    auto r = bare.client.evaluate("return A:State().h, B:State().h, A:State().count, (A:StateHash()), (B:StateHash()), restarts");
    REQUIRE_MESSAGE(r.ok, r.error);
    CHECK_MESSAGE(r.values[0] == r.values[1], "seed " << seed);
    CHECK(r.values[2].as_number() == 120);
    CHECK(r.values[3] == r.values[4]);
    CHECK(r.values[5].as_number() > 0);  // late entries did rewind
  }
}

TEST_CASE("un-ignoring rewinds to the original entry even past checkpoints") {
  Bare bare;
  bare.run(R"(
    L = Tally.NewLedger{ name = "L", checkpointEvery = 1 }
    L:RegisterMutator("add", function(state, data) state.sum = (state.sum or 0) + data.n end)
    first = L:Submit("add", { n = 100 })
    for i = 1, 20 do L:Submit("add", { n = 1 }) end
  )");
  bare.host.tick(2);  // later seconds: the ignores sort after every add
  bare.run("undo = L:Ignore(first) L:CatchUp()");
  CHECK(bare.one("print(L:State().sum)") == "20");
  bare.host.tick(1);
  bare.run("L:Ignore(undo) L:CatchUp()");
  CHECK(bare.one("print(L:State().sum)") == "120");
}

TEST_CASE("an entry a mutator submits into the batch being applied is replayed, not skipped") {
  Bare bare;
  bare.run(R"(
    L = Tally.NewLedger{ name = "Inner", frameBudgetMs = 0, interval = 0, batchSize = 1000 }
    L:RegisterMutator("op", function(state, data)
      state.fold = ((state.fold or 0) * 7 + data.n) % 1000003
      state.count = (state.count or 0) + 1
      if data.n == 3 and not submitted then
        submitted = true
        -- Now sorts before the entries being replayed (they are in the future): the new entry
        -- lands inside the batch the loop is applying.
        L:Submit("op", { n = 100 })
      end
    end)
    local now = GetServerTime()
    for k = 1, 10 do L:TravelTo(now + 100 + k) L:Submit("op", { n = k }) L:StopTravel() end
    L:CatchUp() L:CatchUp()
    function dump() local s = L:State() return s.fold .. " " .. s.count .. " " .. (L:StateHash()) end
    first = dump()
    L:TravelTo(0) L:CatchUp() L:StopTravel() L:CatchUp()  -- replay from zero
  )");
  CHECK(bare.one("print(L:Size(), L:State().count)") == "11 11");
  CHECK(bare.one("print(first == dump(), first, dump())").rfind("true", 0) == 0);
}
