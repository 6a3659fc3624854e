// Fault injection for the addon-message network: the text form, the seeded policy's loss,
// duplication, reordering and partitions, the offline schedule, and determinism.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "runtime/addon_network.hpp"
#include "runtime/network_faults.hpp"

using namespace tally;
using R = SendAddonMessageResult;

namespace {

// Five clients in one guild, all registered for "TLY".
enum : std::uint32_t { A = 1, B = 2, C = 3, D = 4, E = 5 };
const char* const kNames[] = {"",
                              "Aelric-Argent Dawn",
                              "Brenna-Argent Dawn",
                              "Cassia-Silvermoon",
                              "Dagna-Argent Dawn",
                              "Eldric-Silvermoon"};

AddonNetwork make_network(NetworkOptions options) {
  AddonNetwork net(std::move(options));
  for (std::uint32_t id = A; id <= E; ++id) {
    net.add_client({id, kNames[id], "Ledger Keepers", 0, 0, true});
    net.register_prefix(id, "TLY");
  }
  return net;
}

// Allowances too large to get in the way of many sends.
NetworkOptions roomy(DeliveryPolicy policy) {
  NetworkOptions options;
  options.limits.bytes_per_second = 1e12;
  options.limits.burst_bytes = 1e12;
  options.limits.prefix_burst_messages = 1e12;
  options.limits.prefix_messages_per_second = 1e12;
  options.policy = std::move(policy);
  return options;
}

void whisper(AddonNetwork& net, std::uint32_t from, std::uint32_t to, const std::string& text) {
  REQUIRE(net.send(from, "TLY", text, "WHISPER", kNames[to]) == R::Success);
}

std::vector<std::string> trace(const std::vector<Delivery>& deliveries) {
  std::vector<std::string> out;
  for (const auto& d : deliveries) {
    out.push_back(std::to_string(d.receiver) + ":" + d.text + "@" + std::to_string(d.time));
  }
  return out;
}

std::set<std::string> texts(const std::vector<Delivery>& deliveries) {
  std::set<std::string> out;
  for (const auto& d : deliveries) out.insert(d.text);
  return out;
}

using Texts = std::set<std::string>;

}  // namespace

// ---- The text form ------------------------------------------------------------------------------

TEST_CASE("the text form reads every key and writes back what it read") {
  const FaultPlan plan = parse_fault_plan(
      "loss=0.1,latency=0.2,jitter=0.1,dup=0.05,reorder=0.1,reorder_delay=2.5,"
      "partition=1+2|3+4@10-60, partition = Cassia-Silvermoon @ 0.5-1 ,offline=3@100-3700,"
      "offline=dagna-argent dawn@5-6");
  CHECK(plan.loss == 0.1);
  CHECK(plan.latency_seconds == 0.2);
  CHECK(plan.jitter_seconds == 0.1);
  CHECK(plan.duplicate == 0.05);
  CHECK(plan.reorder == 0.1);
  CHECK(plan.reorder_delay_seconds == 2.5);
  CHECK(plan.partitions == std::vector<Partition>{{10, 60, {{1u, 2u}, {3u, 4u}}},
                                                  {0.5, 1, {{std::string("Cassia-Silvermoon")}}}});
  CHECK(plan.offline ==
        std::vector<OfflineWindow>{{3u, 100, 3700}, {std::string("dagna-argent dawn"), 5, 6}});

  const std::string canonical =
      "loss=0.1,latency=0.2,jitter=0.1,dup=0.05,reorder=0.1,reorder_delay=2.5,"
      "partition=1+2|3+4@10-60,partition=Cassia-Silvermoon@0.5-1,offline=3@100-3700,"
      "offline=dagna-argent dawn@5-6";
  CHECK(format_fault_plan(plan) == canonical);
  CHECK(parse_fault_plan(canonical) == plan);

  SUBCASE("keys not given keep their defaults, and are not written") {
    CHECK(parse_fault_plan("") == FaultPlan{});
    CHECK(parse_fault_plan("   ") == FaultPlan{});
    CHECK(format_fault_plan(FaultPlan{}).empty());
    CHECK(parse_fault_plan("latency=0.05") == FaultPlan{});  // the network's own default
    const FaultPlan lossy = parse_fault_plan("loss=.5");
    CHECK(lossy.loss == 0.5);
    CHECK(lossy.latency_seconds == NetworkOptions{}.latency_seconds);
    CHECK(format_fault_plan(lossy) == "loss=0.5");
  }
  SUBCASE("awkward numbers survive the round trip exactly") {
    FaultPlan odd;
    odd.jitter_seconds = 0.1 + 0.2;  // 0.30000000000000004
    odd.latency_seconds = 1e-7;
    odd.reorder_delay_seconds = 1e20;
    odd.loss = 1;
    odd.offline.push_back({std::numeric_limits<std::uint32_t>::max(), 0, 5e-324});
    CHECK(parse_fault_plan(format_fault_plan(odd)) == odd);
  }
}

TEST_CASE("every mistake in the text form is an error naming the item") {
  const std::pair<const char*, const char*> cases[] = {
      {"loss", "loss: expected key=value"},
      {"lose=0.1", "lose=0.1: unknown key 'lose'"},
      {"loss=abc", "loss=abc: 'abc' is not a plain decimal number"},
      {"loss=", "loss=: '' is not a plain decimal number"},
      {"loss=-0.1", "loss=-0.1: '-0.1' is not a plain decimal number"},
      {"loss=1e-3", "loss=1e-3: '1e-3' is not a plain decimal number"},
      {"jitter=inf", "jitter=inf: 'inf' is not a plain decimal number"},
      {"latency=0.1.2", "latency=0.1.2: '0.1.2' is not a plain decimal number"},
      {"loss=1.5", "loss=1.5: a rate must be between 0 and 1"},
      {"dup=2", "dup=2: a rate must be between 0 and 1"},
      {"reorder=1.01", "reorder=1.01: a rate must be between 0 and 1"},
      {"loss=0.1,loss=0.2", "loss=0.2: 'loss' is given twice"},
      {"loss=0.1,,dup=0.1", "'loss=0.1,,dup=0.1': an item is empty"},
      {"loss=0.1,", "'loss=0.1,': an item is empty"},
      {"partition=1+2|3", "partition=1+2|3: expected GROUPS@FROM-TO"},
      {"partition=1|2@10", "partition=1|2@10: expected FROM-TO after '@', got '10'"},
      {"partition=1|2@10-20-30",
       "partition=1|2@10-20-30: expected FROM-TO after '@', got '10-20-30'"},
      {"partition=1|2@x-20", "partition=1|2@x-20: 'x' is not a plain decimal number"},
      {"partition=1|2@60-10", "partition=1|2@60-10: the window must end after it starts"},
      {"partition=1|2@10-10", "partition=1|2@10-10: the window must end after it starts"},
      {"partition=1+2|@10-20", "partition=1+2|@10-20: a client is missing"},
      {"partition=1++2@10-20", "partition=1++2@10-20: a client is missing"},
      {"partition=1+2|2@10-20", "partition=1+2|2@10-20: client 2 is listed twice"},
      {"partition=Bo-Realm|bo-realm@1-2",
       "partition=Bo-Realm|bo-realm@1-2: client bo-realm is listed twice"},
      {"partition=99999999999@1-2",
       "partition=99999999999@1-2: client id 99999999999 is out of range"},
      {"offline=3", "offline=3: expected CLIENT@FROM-TO"},
      {"offline=@1-2", "offline=@1-2: a client is missing"},
      {"offline=3@5-1", "offline=3@5-1: the window must end after it starts"},
      {"offline=a=b@1-2", "offline=a=b@1-2: client name 'a=b' holds one of , | + @ ="},
  };
  for (const auto& [text, message] : cases) {
    const std::string shown = text;
    CAPTURE(shown);
    CHECK_THROWS_WITH_AS(parse_fault_plan(text),
                         doctest::Contains((std::string("fault plan: ") + message).c_str()),
                         std::invalid_argument);
  }
}

TEST_CASE("plans built in code are checked the same way") {
  auto check_refused = [](const FaultPlan& plan, const char* message) {
    CHECK_THROWS_WITH_AS(validate_fault_plan(plan), doctest::Contains(message),
                         std::invalid_argument);
    CHECK_THROWS_AS(make_delivery_policy(plan, 1), std::invalid_argument);
    CHECK_THROWS_AS(FaultSchedule{plan}, std::invalid_argument);
  };
  FaultPlan plan;
  plan.latency_seconds = -1;
  check_refused(plan, "fault plan: latency=-1: a duration must be finite and >= 0");
  plan = {};
  plan.jitter_seconds = std::nan("");
  check_refused(plan, "jitter=nan: a duration must be finite and >= 0");
  plan = {};
  plan.duplicate = -0.5;
  check_refused(plan, "dup=-0.5: a rate must be between 0 and 1");
  plan = {};
  plan.partitions = {{0, 1, {}}};
  check_refused(plan, "partition=@0-1: a partition needs at least one group");
  plan.partitions = {{0, 1, {{1u}, {}}}};
  check_refused(plan, "partition=1|@0-1: a group is empty");
  plan.partitions = {{0, 1, {{std::string("12")}}}};
  check_refused(plan, "client name '12' would read as an id");
  plan.partitions = {{0, 1, {{std::string(" Bo")}}}};
  check_refused(plan, "client name ' Bo' starts or ends with a space");
  plan = {};
  plan.offline = {{std::string(), 0, 1}};
  check_refused(plan, "offline=@0-1: a client name is empty");
  plan.offline = {{1u, 0, INFINITY}};
  check_refused(plan, "offline=1@0-inf: window times must be finite and >= 0");
  plan.offline = {{1u, -1, 1}};
  check_refused(plan, "offline=1@-1-1: window times must be finite and >= 0");
  CHECK_NOTHROW(validate_fault_plan(FaultPlan{}));
}

// ---- The policy -------------------------------------------------------------------------------

TEST_CASE("the default plan delivers exactly like no policy") {
  auto run = [](DeliveryPolicy policy) {
    NetworkOptions options;
    options.policy = std::move(policy);
    AddonNetwork net = make_network(std::move(options));
    net.set_online(E, false);
    std::vector<std::string> out;
    for (int i = 0; i < 14; ++i) {  // the per-prefix allowance refuses the last few
      net.advance_to(i * 0.01);
      net.send(i % 2 ? A : C, "TLY", std::to_string(i), "GUILD");
      if (i == 6) whisper(net, B, D, "w");
    }
    for (const auto& line : trace(net.collect(5))) out.push_back(line);
    const TrafficStats& all = net.totals();
    out.push_back(std::to_string(all.sent) + " " + std::to_string(all.delivered) + " " +
                  std::to_string(all.lost) + " " + std::to_string(all.dropped_offline) + " " +
                  std::to_string(all.refused_total()));
    return out;
  };
  const FaultPolicy faults = make_delivery_policy(FaultPlan{}, 123);
  const auto with_plan = run(faults.policy);
  CHECK(with_plan.size() > 30);
  CHECK(with_plan == run(nullptr));

  const FaultCounters& counted = *faults.counters;
  CHECK(counted.decided > 30);
  CHECK(counted.scheduled == counted.decided);
  FaultCounters only_decided;
  only_decided.decided = only_decided.scheduled = counted.decided;
  CHECK(counted == only_decided);
}

TEST_CASE("loss matches the plan's rate over many sends") {
  const FaultPolicy faults = make_delivery_policy(parse_fault_plan("loss=0.2"), 2024);
  AddonNetwork net = make_network(roomy(faults.policy));
  for (int i = 0; i < 2000; ++i) REQUIRE(net.send(A, "TLY", "m", "GUILD") == R::Success);
  net.collect(1);

  const FaultCounters& counted = *faults.counters;
  CHECK(counted.decided == 8000);
  // 8000 copies at 0.2: one standard deviation is 0.0045, so 0.02 is over four of them.
  const double rate = static_cast<double>(counted.lost_by_loss) / 8000;
  CHECK(rate == doctest::Approx(0.2).epsilon(0.1));
  CHECK(counted.scheduled == 8000 - counted.lost_by_loss);
  CHECK(net.totals().lost == counted.lost_by_loss);
  CHECK(net.totals().delivered == counted.scheduled);
  for (std::uint32_t id = B; id <= E; ++id) {  // each receiver loses its share on its own
    CAPTURE(id);
    CHECK(net.stats(id).lost > 300);
    CHECK(net.stats(id).lost < 500);
  }
}

TEST_CASE("the same seed replays a run exactly; another seed does not") {
  const FaultPlan plan =
      parse_fault_plan("loss=0.2,latency=0.1,jitter=0.3,dup=0.2,reorder=0.2,partition=2@1-2");
  auto run = [&](std::uint64_t seed) {
    const FaultPolicy faults = make_delivery_policy(plan, seed);
    AddonNetwork net = make_network(roomy(faults.policy));
    for (int i = 0; i < 50; ++i) {
      net.advance_to(i * 0.1);
      REQUIRE(net.send(i % 3 ? A : D, "TLY", std::to_string(i), "GUILD") == R::Success);
    }
    return std::make_pair(trace(net.collect(10)), *faults.counters);
  };
  const auto first = run(7);
  CHECK(first.first.size() > 100);
  CHECK(first == run(7));
  CHECK(first.first != run(8).first);

  SUBCASE("a copy's fate does not depend on the order the policy is asked in") {
    const Transmission one{1, A, B, "TLY", "x", "GUILD", 0, kNames[A], kNames[B]};
    const Transmission two{2, A, C, "TLY", "y", "GUILD", 0, kNames[A], kNames[C]};
    const DeliveryPolicy forward = make_delivery_policy(plan, 7).policy;
    const DeliveryPolicy backward = make_delivery_policy(plan, 7).policy;
    const auto forward_one = forward(one);
    const auto forward_two = forward(two);
    CHECK(backward(two) == forward_two);
    CHECK(backward(one) == forward_one);
  }
}

TEST_CASE("duplication delivers extra copies, each with its own delay") {
  SUBCASE("every copy twice") {
    const FaultPolicy faults = make_delivery_policy(parse_fault_plan("dup=1,jitter=0.5"), 3);
    AddonNetwork net = make_network(roomy(faults.policy));
    whisper(net, A, B, "hello");
    const auto got = net.collect(1);
    REQUIRE(got.size() == 2);
    CHECK(got[0].text == "hello");
    CHECK(got[1].text == "hello");
    CHECK(got[0].time < got[1].time);
    CHECK(faults.counters->duplicated == 1);
    CHECK(faults.counters->scheduled == 2);
    CHECK(net.stats(B).delivered == 2);
  }
  SUBCASE("at the plan's rate") {
    const FaultPolicy faults = make_delivery_policy(parse_fault_plan("dup=0.25"), 11);
    AddonNetwork net = make_network(roomy(faults.policy));
    for (int i = 0; i < 1000; ++i) REQUIRE(net.send(A, "TLY", "m", "GUILD") == R::Success);
    net.collect(1);
    const FaultCounters& counted = *faults.counters;
    CHECK(static_cast<double>(counted.duplicated) / 4000 == doctest::Approx(0.25).epsilon(0.1));
    CHECK(net.totals().delivered == 4000 + counted.duplicated);
  }
}

TEST_CASE("reordering lets later sends overtake earlier ones") {
  auto arrival_order = [](const char* text) {
    const FaultPolicy faults = make_delivery_policy(parse_fault_plan(text), 5);
    AddonNetwork net = make_network(roomy(faults.policy));
    for (int i = 0; i < 100; ++i) {
      net.advance_to(i * 0.1);
      whisper(net, A, B, std::to_string(i));
    }
    std::vector<int> order;
    for (const auto& d : net.collect(100)) order.push_back(std::stoi(d.text));
    return std::make_pair(order, *faults.counters);
  };
  auto overtaken = [](const std::vector<int>& order) {
    int count = 0;
    for (std::size_t i = 1; i < order.size(); ++i) count += order[i] < order[i - 1] ? 1 : 0;
    return count;
  };

  const auto [shuffled, counted] = arrival_order("reorder=0.3,reorder_delay=1");
  CHECK(shuffled.size() == 100);
  CHECK(overtaken(shuffled) > 5);
  CHECK(counted.reordered > 15);
  CHECK(counted.reordered < 45);
  CHECK(counted.delayed == counted.reordered);  // no jitter: only held-back copies are late

  const auto [in_order, calm] = arrival_order("jitter=0.05");  // less than the sending gap
  CHECK(in_order.size() == 100);
  CHECK(overtaken(in_order) == 0);
  CHECK(calm.reordered == 0);
}

TEST_CASE("a partition cuts traffic between groups during its window only") {
  SUBCASE("by id, with the unlisted clients as one more group") {
    // A and B | C and D | E (unlisted), from 10 until 20; every copy travels 1 s.
    const FaultPolicy faults =
        make_delivery_policy(parse_fault_plan("latency=1,partition=1+2|3+4@10-20"), 9);
    AddonNetwork net = make_network(roomy(faults.policy));
    auto at = [&](double t, std::uint32_t from, std::uint32_t to) {
      net.advance_to(t);
      whisper(net, from, to, std::to_string(t) + ":" + kNames[from] + ">" + kNames[to]);
      return std::to_string(t) + ":" + kNames[from] + ">" + kNames[to];
    };
    const std::string before = at(5, A, C);
    const std::string arrives_before = at(8.5, A, C);  // arrives at 9.5
    at(9.5, A, C);                                     // in flight when the partition starts
    at(12, A, C);
    at(12, A, E);
    at(12, E, D);
    const std::string same_group = at(12, A, B);
    const std::string other_group = at(12, D, C);
    const std::string self = at(12, E, E);
    at(19.5, A, C);  // sent during the partition, arrives after it heals
    const std::string healed = at(20, A, C);
    const std::string later = at(25, C, A);

    CHECK(texts(net.collect(100)) ==
          Texts{before, arrives_before, same_group, other_group, self, healed, later});
    CHECK(faults.counters->lost_by_partition == 5);
    CHECK(net.totals().lost == 5);
  }
  SUBCASE("a partition that starts and heals while a copy travels still cuts it") {
    const FaultPolicy faults =
        make_delivery_policy(parse_fault_plan("latency=30,partition=1|2@10-11"), 9);
    AddonNetwork net = make_network(roomy(faults.policy));
    net.advance_to(5);
    whisper(net, A, B, "cut");
    whisper(net, A, C, "A and C are both outside group 2 and apart from group 1");
    net.advance_to(12);
    whisper(net, A, B, "after");
    CHECK(texts(net.collect(100)) == Texts{"after"});
    CHECK(faults.counters->lost_by_partition == 2);
  }
  SUBCASE("by name, ignoring letter case, cutting one client off from everyone") {
    const FaultPolicy faults =
        make_delivery_policy(parse_fault_plan("partition=cassia-silvermoon@10-20"), 9);
    AddonNetwork net = make_network(roomy(faults.policy));
    net.advance_to(12);
    REQUIRE(net.send(A, "TLY", "guild", "GUILD") == R::Success);
    REQUIRE(net.send(C, "TLY", "alone", "GUILD") == R::Success);
    std::set<std::uint32_t> reached;
    for (const auto& d : net.collect(13)) reached.insert(d.receiver);
    CHECK(reached == std::set<std::uint32_t>{B, D, E});
    CHECK(faults.counters->lost_by_partition == 5);  // A -> C, and C -> A, B, D, E
    net.advance_to(21);
    REQUIRE(net.send(C, "TLY", "back", "GUILD") == R::Success);
    CHECK(net.collect(22).size() == 4);
  }
}

// ---- Offline windows ----------------------------------------------------------------------------

TEST_CASE("offline windows take clients offline and back at the right times") {
  const FaultPlan plan = parse_fault_plan(
      "latency=1,offline=2@10-20,offline=Cassia-Silvermoon@15-30,offline=cassia-silvermoon@25-40,"
      "offline=3@35-36");
  const FaultPolicy faults = make_delivery_policy(plan, 1);
  AddonNetwork net = make_network(roomy(faults.policy));
  FaultSchedule schedule(plan);
  auto tick = [&](double t) {
    schedule.apply(net, t);
    return net.collect(t);
  };

  tick(9);
  CHECK(net.client(B).online);
  tick(10);
  CHECK_FALSE(net.client(B).online);
  REQUIRE(net.send(A, "TLY", "while B is away", "GUILD") == R::Success);
  CHECK(net.stats(B).dropped_offline == 1);  // dropped at send
  CHECK(net.send(A, "TLY", "x", "WHISPER", kNames[B]) == R::TargetOffline);
  CHECK(texts(tick(11)) == Texts{"while B is away"});

  net.advance_to(14.5);
  whisper(net, A, C, "in flight");  // due at 15.5, but C goes offline at 15
  tick(15);
  CHECK_FALSE(net.client(C).online);
  CHECK(tick(16).empty());
  CHECK(net.stats(C).dropped_offline == 1);

  tick(20);
  CHECK(net.client(B).online);
  net.set_online(B, false);  // the host's own change stands between the schedule's edges
  tick(21);
  CHECK_FALSE(net.client(B).online);
  net.set_online(B, true);

  // C's windows overlap, named once in each letter case and once by id: C stays offline
  // until the last one ends.
  for (double t : {29.0, 30.0, 36.0, 39.0}) {
    tick(t);
    CHECK_FALSE(net.client(C).online);
  }
  tick(40);
  CHECK(net.client(C).online);
  whisper(net, A, C, "welcome back");
  CHECK(texts(tick(41)) == Texts{"welcome back"});

  SUBCASE("clients the network does not know are errors") {
    FaultSchedule unknown_name(parse_fault_plan("offline=Nobody-Realm@1-2"));
    CHECK_THROWS_WITH_AS(unknown_name.apply(net, 50),
                         "fault schedule: no client named Nobody-Realm", std::invalid_argument);
    FaultSchedule unknown_id(parse_fault_plan("offline=99@1-2"));
    CHECK_THROWS_AS(unknown_id.apply(net, 50), std::out_of_range);
    CHECK_THROWS_AS(schedule.apply(net, std::nan("")), std::invalid_argument);
  }
}

TEST_CASE("allowances still apply first: a refused send never reaches the policy") {
  const FaultPolicy faults = make_delivery_policy(parse_fault_plan("loss=1"), 1);
  NetworkOptions options;
  options.policy = faults.policy;
  AddonNetwork net = make_network(std::move(options));
  for (int i = 0; i < 10; ++i) CHECK(net.send(A, "TLY", "m", "GUILD") == R::Success);
  CHECK(net.send(A, "TLY", "m", "GUILD") == R::AddonMessageThrottle);
  CHECK(net.send(A, "TLZ", std::string(255, 'x'), "GUILD") == R::Success);
  for (int i = 0; i < 12; ++i) net.send(A, "P" + std::to_string(i), std::string(255, 'x'), "GUILD");
  CHECK(net.totals().refused_for(R::ChannelThrottle) > 0);
  CHECK(faults.counters->decided == 4 * net.totals().sent);
  CHECK(faults.counters->lost_by_loss == faults.counters->decided);
  CHECK(net.collect(1).empty());
}
