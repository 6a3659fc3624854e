// Property tests of replay: whatever order entries arrive in through the remote queue,
// interleaved with frames that replay part of them (so late entries rewind to checkpoints),
// with ignores, ignores of ignores and time travel, the derived state and the state hash equal
// those of one replay from zero of the same entries, whether batches are decoded ahead on the
// decode thread or not. 1,000 fixed seeds (TALLY_PROPERTY_SEEDS changes the count).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bindings/ledger_binding.hpp"
#include "client_fixture.hpp"

using namespace tally;

namespace {

// Order-sensitive mutators: a different order of application gives a different state.
constexpr const char* kSetup = R"(
  function make(name, knobs)
    local L = Tally.NewLedger{ name = name, frameBudgetMs = 0, interval = 0, batchSize = knobs.batch,
                               checkpointEvery = knobs.every, checkpointsKept = knobs.kept }
    L:RegisterMutator("op", function(state, data, meta)
      local v = state[data.who] or 0
      if data.kind == 1 then v = v + data.n elseif data.kind == 2 then v = (v * data.n) % 1000003 else v = v - data.n end
      state[data.who] = v
      state.trail = ((state.trail or 0) * 31 + data.n + meta.time + meta.counter) % 2147483647
    end)
    return L
  end
  -- The state as text, keys sorted.
  function dump(L)
    local state, keys, out = L:State(), {}, {}
    for k in pairs(state) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. tostring(state[k]) end
    local hash, fingerprint = L:StateHash()
    return table.concat(out, ",") .. " hash=" .. hash .. " fp=" .. fingerprint
  end
)";

constexpr std::uint32_t kBase = 1764000000;

std::vector<Entry> random_entries(std::mt19937& random) {
  std::vector<Entry> entries;
  int count = std::uniform_int_distribution<int>(10, 60)(random);
  std::uniform_int_distribution<int> percent(0, 99);
  for (int i = 0; i < count; ++i) {
    Entry e;
    auto creator = static_cast<std::uint32_t>(1 + random() % 3);
    std::uint32_t ts = kBase + static_cast<std::uint32_t>(random() % 40);
    std::uint8_t counter = 0;
    for (const Entry& other : entries) {
      if (other.key.timestamp == ts && other.key.creator == creator) counter = std::max<std::uint8_t>(counter, other.key.counter + 1);
    }
    if (!entries.empty() && percent(random) < 15) {
      // An ignore of an earlier entry (which may itself be an ignore), made after it.
      const Entry& target = entries[random() % entries.size()];
      ts = std::max(ts, target.key.timestamp);
      counter = 0;
      for (const Entry& other : entries) {
        if (other.key.timestamp == ts && other.key.creator == creator) counter = std::max<std::uint8_t>(counter, other.key.counter + 1);
      }
      e.type = kIgnoreType;
      e.payload.set("target", entry_id(target.key));
    } else {
      e.type = "op";
      e.payload.set("who", std::string(1, static_cast<char>('a' + random() % 4)));
      e.payload.set("kind", static_cast<std::int64_t>(1 + random() % 3));
      e.payload.set("n", static_cast<std::int64_t>(1 + random() % 50));
    }
    e.key = {ts, counter, 0, creator};
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace

TEST_CASE("replay in any arrival order, with rewinds, ignores and time travel, equals replay from zero") {
  int seeds = 1000;
  if (const char* env = std::getenv("TALLY_PROPERTY_SEEDS")) seeds = std::max(1, std::atoi(env));
  int rewinds = 0;
  for (int seed = 1; seed <= seeds; ++seed) {
    CAPTURE(seed);
    std::mt19937 random(static_cast<std::uint32_t>(seed));
    std::vector<Entry> entries = random_entries(random);
    // Every other seed decodes ahead on the decode thread, in batches of 3 from steps of 2.
    HostOptions host_options;
    host_options.decode_ahead = {.enabled = seed % 2 == 0, .min_entries = 2, .batch_entries = 3};
    Bare bare({.name = "Tester", .memory_limit = 64u << 20}, host_options);
    bare.run(kSetup);
    std::string knobs = "{ batch = " + std::to_string(1 + random() % 9) + ", every = " +
                        std::to_string(1 + random() % 6) + ", kept = " + std::to_string(2 + random() % 4) + " }";
    bare.run("A = make('Arrivals', " + knobs + ") B = make('Reference', { batch = 1000, every = 0, kept = 2 })");
    LedgerBinding* arrivals = bare.client.ledgers().find("Arrivals");
    LedgerBinding* reference = bare.client.ledgers().find("Reference");
    REQUIRE(arrivals != nullptr);
    REQUIRE(reference != nullptr);

    // The reference: everything at once, replayed once.
    reference->enqueue_remote(entries, "Peer-Tally");
    bare.run("B:CatchUp()");

    // Arrivals: shuffled, in chunks, with frames in between and occasional time travel.
    std::vector<Entry> order = entries;
    std::shuffle(order.begin(), order.end(), random);
    for (std::size_t i = 0; i < order.size();) {
      std::size_t n = std::min<std::size_t>(order.size() - i, 1 + random() % 8);
      arrivals->enqueue_remote({order.begin() + static_cast<long>(i), order.begin() + static_cast<long>(i + n)}, "Peer-Tally");
      i += n;
      if (random() % 10 == 0) bare.run("A:TravelTo(" + std::to_string(kBase + random() % 40) + ")");
      if (random() % 10 == 0) bare.run("A:StopTravel()");
      for (int f = static_cast<int>(random() % 3); f > 0; --f) bare.host.tick(1.0 / 60);
    }
    bare.run("A:StopTravel() A:CatchUp()");
    std::string expected = bare.one("print(dump(B))");
    std::string actual = bare.one("print(dump(A))");
    REQUIRE(actual == expected);
    rewinds += std::stoi(bare.one("print(A:Metrics().rewinds.count)"));
  }
  MESSAGE(seeds << " arrival orders matched replay from zero; " << rewinds << " rewinds exercised");
  CHECK(rewinds > seeds);  // the property is only worth something if late entries really rewound
}

TEST_CASE("K clients with the same entries in different orders, with local submits, ignores and travel, agree") {
  int seeds = 200;
  if (const char* env = std::getenv("TALLY_PROPERTY_SEEDS")) seeds = std::max(1, std::atoi(env) / 5);
  constexpr int kClients = 4;
  for (int seed = 1; seed <= seeds; ++seed) {
    CAPTURE(seed);
    std::mt19937 random(static_cast<std::uint32_t>(seed) * 7919u);
    std::vector<Entry> pool = random_entries(random);
    Host host;
    std::vector<Client*> clients;
    std::vector<LedgerBinding*> ledgers;
    for (int c = 0; c < kClients; ++c) {
      clients.push_back(&host.add_client({.name = "Client" + std::to_string(c), .memory_limit = 64u << 20}));
    }
    host.start();
    for (Client* c : clients) {
      c->run_script(kSetup);
      c->run_script("G = make('Guild', { batch = " + std::to_string(1 + random() % 9) + ", every = " +
                    std::to_string(1 + random() % 5) + ", kept = 3 })");
      ledgers.push_back(c->ledgers().find("Guild"));
      REQUIRE(ledgers.back() != nullptr);
    }
    // Each client: the pool in its own order, with its own submits and undos mixed in.
    for (int c = 0; c < kClients; ++c) {
      std::vector<Entry> order = pool;
      std::shuffle(order.begin(), order.end(), random);
      for (std::size_t i = 0; i < order.size();) {
        std::size_t n = std::min<std::size_t>(order.size() - i, 1 + random() % 6);
        ledgers[c]->enqueue_remote({order.begin() + static_cast<long>(i), order.begin() + static_cast<long>(i + n)}, "Peer-Tally");
        i += n;
        switch (random() % 6) {
          case 0:
            clients[c]->run_script("G:Submit('op', { who = 'b', kind = 1, n = " + std::to_string(random() % 50 + 1) + " })");
            break;
          case 1:  // undo something this client holds (an entry, or an earlier undo)
            if (std::size_t size = ledgers[c]->ledger().size(); size > 0) {
              clients[c]->run_script("G:Ignore('" + entry_id(ledgers[c]->ledger().at(random() % size).key()) + "')");
            }
            break;
          case 2:
            clients[c]->run_script("G:TravelTo(" + std::to_string(kBase + random() % 40) + ")");
            break;
          case 3:
            clients[c]->run_script("G:StopTravel()");
            break;
          default:
            break;
        }
        host.tick(random() % 2 == 0 ? 1.0 / 60 : 1.0);
      }
    }
    // Everyone sends everyone what they hold; then all catch up.
    for (int from = 0; from < kClients; ++from) {
      std::vector<Entry> held;
      ledgers[from]->ledger().for_each(0, ledgers[from]->ledger().size(),
                                       [&](std::size_t, const EntryView& e) { held.push_back(e.to_entry()); });
      for (int to = 0; to < kClients; ++to) {
        if (to == from) continue;
        std::shuffle(held.begin(), held.end(), random);
        ledgers[to]->enqueue_remote(held, "Peer-Tally");
      }
    }
    std::vector<std::string> dumps;
    for (Client* c : clients) {
      c->run_script("G:StopTravel() G:CatchUp()");
      auto result = c->evaluate("return dump(G)");
      REQUIRE(result.ok);
      dumps.push_back(result.values.at(0).as_string());
    }
    for (int c = 1; c < kClients; ++c) REQUIRE(dumps[c] == dumps[0]);
    REQUIRE(ledgers[0]->ledger().size() >= pool.size());
  }
}
