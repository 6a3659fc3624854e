// The addon-message network: result codes, fan-out, allowances, latency and statistics.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "runtime/addon_network.hpp"

using namespace tally;
using R = SendAddonMessageResult;

namespace {

// Six clients: guild "Ledger Keepers" (A, B, C), guild "Night Watch" (D, F), no guild (E).
// Raid 1 holds A, B (party 11) and D (party 12); E and F form party 21 outside any raid; C is
// ungrouped. Everyone registers "TLY".
enum : std::uint32_t { A = 1, B = 2, C = 3, D = 4, E = 5, F = 6 };

AddonNetwork make_network(NetworkOptions options = {}) {
  AddonNetwork net(std::move(options));
  net.add_client({A, "Aelric-Argent Dawn", "Ledger Keepers", 1, 11, true});
  net.add_client({B, "Brenna-Argent Dawn", "Ledger Keepers", 1, 11, true});
  net.add_client({C, "Cassia-Silvermoon", "Ledger Keepers", 0, 0, true});
  net.add_client({D, "Dagna-Argent Dawn", "Night Watch", 1, 12, true});
  net.add_client({E, "Eldric-Silvermoon", "", 0, 21, true});
  net.add_client({F, "Fenna-Argent Dawn", "Night Watch", 0, 21, true});
  for (std::uint32_t id = A; id <= F; ++id) net.register_prefix(id, "TLY");
  return net;
}

std::vector<std::uint32_t> receivers(const std::vector<Delivery>& deliveries) {
  std::vector<std::uint32_t> ids;
  for (const auto& d : deliveries) ids.push_back(d.receiver);
  return ids;
}

std::vector<std::string> texts(const std::vector<Delivery>& deliveries) {
  std::vector<std::string> out;
  for (const auto& d : deliveries) out.push_back(d.text);
  return out;
}

using Ids = std::vector<std::uint32_t>;
using Texts = std::vector<std::string>;

}  // namespace

TEST_CASE("every result code, with the game's values, is returned and counted") {
  NetworkOptions options;
  options.limits.prefix_burst_messages = 1;  // small allowances make both throttles easy to hit
  options.limits.burst_bytes = 100;
  AddonNetwork net = make_network(std::move(options));
  net.join_channel(A, "TallySync");

  CHECK(net.send(A, "TLY", "x", "GUILD") == R::Success);  // 3 + 1 + 40 = 44 bytes charged
  CHECK(net.send(A, "TLY", "x", "GUILD") == R::AddonMessageThrottle);
  CHECK(net.send(A, "TLX", std::string(60, 'x'), "GUILD") == R::ChannelThrottle);  // 103 > 56
  CHECK(net.send(B, "", "x", "GUILD") == R::InvalidPrefix);
  CHECK(net.send(B, "TLY", std::string(256, 'x'), "GUILD") == R::InvalidMessage);
  CHECK(net.send(B, "TLY", "x", "EMOTE") == R::InvalidChatType);
  CHECK(net.send(C, "TLY", "x", "PARTY") == R::NotInGroup);
  CHECK(net.send(B, "TLY", "x", "WHISPER") == R::TargetRequired);
  CHECK(net.send(B, "TLY", "x", "CHANNEL", "TallySync") == R::InvalidChannel);  // B never joined
  net.set_online(C, false);
  CHECK(net.send(C, "TLY", "x", "GUILD") == R::GeneralError);
  CHECK(net.send(E, "TLY", "x", "GUILD") == R::NotInGuild);
  net.set_lockdown(D, true);
  CHECK(net.send(D, "TLY", "x", "RAID") == R::AddOnMessageLockdown);
  net.set_lockdown(D, false);
  CHECK(net.send(D, "TLY", "x", "WHISPER", "Nobody-Argent Dawn") == R::TargetOffline);

  CHECK(static_cast<int>(R::Success) == 0);
  CHECK(static_cast<int>(R::GeneralError) == 9);
  CHECK(static_cast<int>(R::NotInGuild) == 10);
  CHECK(static_cast<int>(R::AddOnMessageLockdown) == 11);
  CHECK(static_cast<int>(R::TargetOffline) == 12);

  const TrafficStats& all = net.totals();
  CHECK(all.sent == 1);
  CHECK(all.refused_total() == 12);
  for (std::size_t code = 1; code < kSendResultCount; ++code) {
    CAPTURE(code);
    CHECK(all.refused[code] == 1);
  }
  CHECK(net.stats(A).refused_total() == 2);
  CHECK(net.stats(A).refused_for(R::ChannelThrottle) == 1);
  CHECK(net.stats(B).refused_total() == 5);
}

TEST_CASE("text may be 255 bytes of anything but NUL; prefixes 1 to 16 bytes") {
  AddonNetwork net = make_network();
  std::string binary;
  for (int i = 0; i < 255; ++i) binary.push_back(static_cast<char>(1 + i % 255));
  CHECK(net.send(A, "TLY", binary, "WHISPER", "Brenna-Argent Dawn") == R::Success);
  CHECK(net.send(A, "TLY", binary + "x", "WHISPER", "Brenna-Argent Dawn") == R::InvalidMessage);
  CHECK(net.send(A, "TLY", "", "WHISPER", "Brenna-Argent Dawn") == R::Success);

  CHECK(net.send(A, "TLY", std::string("a\0b", 3), "GUILD") == R::InvalidMessage);
  CHECK(net.send(A, "TLY", std::string("ab\0", 3), "GUILD") == R::InvalidMessage);
  CHECK(net.send(A, std::string("T\0Y", 3), "x", "GUILD") == R::InvalidPrefix);
  CHECK(net.send(A, std::string(16, 'P'), "x", "GUILD") == R::Success);
  CHECK(net.send(A, std::string(17, 'P'), "x", "GUILD") == R::InvalidPrefix);
  CHECK(net.totals().refused_for(R::InvalidMessage) == 3);
  CHECK(net.totals().refused_for(R::InvalidPrefix) == 2);

  auto got = net.collect(1);
  REQUIRE(got.size() == 2);  // nobody registered the 16-byte prefix
  CHECK(got[0].text == binary);
  CHECK(got[1].text.empty());
}

TEST_CASE("only receivers that registered the prefix get the message") {
  NetworkOptions options;
  options.limits.max_prefixes = 2;
  AddonNetwork net = make_network(std::move(options));
  CHECK(net.register_prefix(A, "TLY") == RegisterPrefixResult::DuplicatePrefix);
  CHECK(net.register_prefix(A, "") == RegisterPrefixResult::InvalidPrefix);
  CHECK(net.register_prefix(A, std::string(17, 'P')) == RegisterPrefixResult::InvalidPrefix);
  CHECK(net.register_prefix(A, "Other") == RegisterPrefixResult::Success);
  CHECK(net.register_prefix(A, "Third") == RegisterPrefixResult::MaxPrefixes);
  CHECK(net.is_prefix_registered(A, "Other"));
  CHECK_FALSE(net.is_prefix_registered(A, "other"));  // prefixes are byte-exact
  CHECK_FALSE(net.is_prefix_registered(A, "Third"));

  // Sending needs no registration; receiving does, checked when the copy arrives.
  CHECK(net.send(D, "Other", "hello", "RAID") == R::Success);  // raid: A, B
  CHECK(net.register_prefix(B, "Other") == RegisterPrefixResult::Success);
  auto got = net.collect(1);
  CHECK(receivers(got) == Ids{A, B});
  CHECK(net.send(D, "Unheard", "hello", "RAID") == R::Success);
  CHECK(net.collect(2).empty());
  CHECK(net.stats(A).unregistered == 1);
  CHECK(net.stats(B).unregistered == 1);
  CHECK(net.totals().delivered == 2);
}

TEST_CASE("GUILD, RAID, PARTY, WHISPER and CHANNEL reach the right clients") {
  AddonNetwork net = make_network();
  auto one_send = [&](std::uint32_t from, std::string_view chat, std::string_view target = {}) {
    REQUIRE(net.send(from, "TLY", "m", chat, target) == R::Success);
    return net.collect(net.now() + 1);
  };

  SUBCASE("GUILD: the sender's guild, never the sender") {
    auto got = one_send(A, "GUILD");
    CHECK(receivers(got) == Ids{B, C});
    CHECK(got[0].channel == "GUILD");
    CHECK(got[0].sender_name == "Aelric-Argent Dawn");
    CHECK(got[0].target.empty());
    CHECK(receivers(one_send(F, "guild")) == Ids{D});  // chat types ignore letter case
  }
  SUBCASE("RAID and PARTY: the raid, the party") {
    CHECK(receivers(one_send(A, "RAID")) == Ids{B, D});
    CHECK(receivers(one_send(A, "PARTY")) == Ids{B});
    CHECK(receivers(one_send(D, "RAID")) == Ids{A, B});
    CHECK(one_send(D, "PARTY").empty());  // alone in its subgroup: accepted, nobody to hear
  }
  SUBCASE("RAID outside a raid falls back to the party") {
    auto got = one_send(E, "RAID");
    CHECK(receivers(got) == Ids{F});
    CHECK(got[0].channel == "PARTY");
    CHECK(net.send(C, "TLY", "m", "RAID") == R::NotInGroup);
    CHECK(net.send(C, "TLY", "m", "PARTY") == R::NotInGroup);
  }
  SUBCASE("WHISPER: the one named client") {
    auto got = one_send(A, "WHISPER", "Dagna-Argent Dawn");
    CHECK(receivers(got) == Ids{D});
    CHECK(got[0].channel == "WHISPER");
    CHECK(got[0].target == "Dagna-Argent Dawn");
  }
  SUBCASE("CHANNEL: the members of a joined channel") {
    net.join_channel(A, "TallySync");
    net.join_channel(C, "tallysync");
    net.join_channel(F, "TALLYSYNC");
    auto got = one_send(A, "CHANNEL", "tallySync");
    CHECK(receivers(got) == Ids{C, F});
    CHECK(got[0].channel == "CHANNEL");
    CHECK(got[0].target == "tallySync");
    net.leave_channel(C, "TallySync");
    CHECK(receivers(one_send(A, "CHANNEL", "TallySync")) == Ids{F});
  }
  SUBCASE("membership changes apply to later sends") {
    net.set_guild(E, "Ledger Keepers");
    net.set_group(C, 1, 12);
    CHECK(receivers(one_send(A, "GUILD")) == Ids{B, C, E});
    CHECK(receivers(one_send(D, "PARTY")) == Ids{C});
    CHECK(net.client(C).raid_id == 1);
  }
}

TEST_CASE("whispers match names ignoring letter case and refuse offline targets") {
  AddonNetwork net = make_network();
  CHECK(net.send(A, "TLY", "1", "WHISPER", "bRENNA-argent dAWN") == R::Success);
  CHECK(net.send(A, "TLY", "2", "WHISPER", "aelric-argent dawn") == R::Success);  // to oneself
  CHECK(net.send(A, "TLY", "3", "WHISPER", "Brenna") == R::TargetOffline);  // names carry realms
  net.set_online(C, false);
  CHECK(net.send(A, "TLY", "4", "WHISPER", "Cassia-Silvermoon") == R::TargetOffline);
  CHECK(net.totals().refused_for(R::TargetOffline) == 2);

  auto got = net.collect(1);
  CHECK(receivers(got) == Ids{B, A});
  CHECK(got[0].target == "Brenna-Argent Dawn");  // the receiver's own spelling

  // A target that logs off while the whisper travels does not get it.
  CHECK(net.send(A, "TLY", "5", "WHISPER", "Brenna-Argent Dawn") == R::Success);
  net.set_online(B, false);
  CHECK(net.collect(2).empty());
  CHECK(net.stats(B).dropped_offline == 1);
}

TEST_CASE("bandwidth: a 4000-byte burst, then 800 bytes per second") {
  AddonNetwork net = make_network();
  // Distinct prefixes keep the per-prefix allowance out of the way; each send costs
  // 3 + 157 + 40 = 200 bytes.
  const std::string text(157, 'x');
  auto prefix = [](int i) { return "P" + std::to_string(10 + i); };
  for (int i = 0; i < 20; ++i) {
    CAPTURE(i);
    CHECK(net.send(A, prefix(i), text, "GUILD") == R::Success);
  }
  CHECK(net.send(A, prefix(20), text, "GUILD") == R::ChannelThrottle);
  CHECK(net.send(A, prefix(20), text, "WHISPER", "Cassia-Silvermoon") == R::ChannelThrottle);
  CHECK(net.send(B, prefix(20), text, "GUILD") == R::Success);  // allowances are per sender

  // Ten steps of 0.1 s make 0.9999999999999999 s: 800 bytes come back all the same.
  double t = 0;
  for (int step = 0; step < 10; ++step) net.advance_to(t += 0.1);
  for (int i = 0; i < 4; ++i) CHECK(net.send(A, prefix(21 + i), text, "GUILD") == R::Success);
  CHECK(net.send(A, prefix(25), text, "GUILD") == R::ChannelThrottle);

  net.advance_to(1.1);  // 80 bytes back: not enough, and the refusal costs nothing
  CHECK(net.send(A, prefix(26), text, "GUILD") == R::ChannelThrottle);
  net.advance_to(1.25);
  CHECK(net.send(A, prefix(27), text, "GUILD") == R::Success);
  CHECK(net.send(A, prefix(28), text, "GUILD") == R::ChannelThrottle);

  // A long idle refills the burst, not more.
  net.advance_to(1000);
  for (int i = 0; i < 20; ++i) CHECK(net.send(A, prefix(40 + i), text, "GUILD") == R::Success);
  CHECK(net.send(A, prefix(60), text, "GUILD") == R::ChannelThrottle);

  const TrafficStats& a = net.stats(A);
  CHECK(a.sent == 45);
  CHECK(a.charged_bytes == 45 * 200);
  CHECK(a.bytes_sent == 45 * 160);
  CHECK(a.refused_for(R::ChannelThrottle) == 6);
}

TEST_CASE("per prefix: 10 messages, then one per second") {
  AddonNetwork net = make_network();
  for (int i = 0; i < 10; ++i) CHECK(net.send(A, "TLY", "m", "GUILD") == R::Success);
  CHECK(net.send(A, "TLY", "m", "PARTY") == R::AddonMessageThrottle);  // every chat type
  CHECK(net.send(A, "TLZ", "m", "GUILD") == R::Success);                // other prefixes
  CHECK(net.send(B, "TLY", "m", "GUILD") == R::Success);                // other senders
  net.advance_to(0.5);
  CHECK(net.send(A, "TLY", "m", "GUILD") == R::AddonMessageThrottle);
  net.advance_to(1.0);
  CHECK(net.send(A, "TLY", "m", "GUILD") == R::Success);
  CHECK(net.send(A, "TLY", "m", "GUILD") == R::AddonMessageThrottle);
  net.advance_to(4.0);
  for (int i = 0; i < 3; ++i) CHECK(net.send(A, "TLY", "m", "GUILD") == R::Success);
  CHECK(net.send(A, "TLY", "m", "GUILD") == R::AddonMessageThrottle);
  CHECK(net.stats(A).refused_for(R::AddonMessageThrottle) == 4);
}

TEST_CASE("copies arrive after the latency, by delivery time then send order") {
  SUBCASE("the default: 50 ms for every copy") {
    AddonNetwork net = make_network();
    REQUIRE(net.send(A, "TLY", "first", "PARTY") == R::Success);
    CHECK(net.in_flight() == 1);
    CHECK(net.collect(0.049).empty());
    auto got = net.collect(0.05);
    REQUIRE(got.size() == 1);
    CHECK(got[0].time == 0.05);
    net.advance_to(0.1);
    REQUIRE(net.send(A, "TLY", "second", "PARTY") == R::Success);
    CHECK(net.next_delivery_time() == 0.15);  // rounded to the microsecond: exactly 0.15
    CHECK(texts(net.collect(0.15)) == Texts{"second"});
    CHECK(net.in_flight() == 0);
    CHECK_FALSE(net.next_delivery_time().has_value());
  }
  SUBCASE("a policy decides each copy's delay, loss and duplicates") {
    NetworkOptions options;
    options.policy = [](const Transmission& t) -> std::vector<double> {
      if (t.text == "slow") return {0.3};
      if (t.text == "lost") return {};
      if (t.text == "twice") return {0.1, 0.2};
      return {0.1};
    };
    AddonNetwork net = make_network(std::move(options));
    REQUIRE(net.send(A, "TLY", "slow", "WHISPER", "Brenna-Argent Dawn") == R::Success);
    REQUIRE(net.send(A, "TLY", "fast", "GUILD") == R::Success);  // to B and C
    REQUIRE(net.send(D, "TLY", "also fast", "WHISPER", "Brenna-Argent Dawn") == R::Success);
    REQUIRE(net.send(A, "TLY", "lost", "WHISPER", "Brenna-Argent Dawn") == R::Success);
    REQUIRE(net.send(A, "TLY", "twice", "WHISPER", "Brenna-Argent Dawn") == R::Success);
    auto got = net.collect(1);
    CHECK(texts(got) == Texts{"fast", "fast", "also fast", "twice", "twice", "slow"});
    CHECK(receivers(got) == Ids{B, C, B, B, B, B});
    CHECK(got[3].time == doctest::Approx(0.1));
    CHECK(got[4].time == doctest::Approx(0.2));
    CHECK(net.stats(B).lost == 1);
    CHECK(net.stats(B).delivered == 5);
  }
  SUBCASE("a bad delay is refused before anything changes") {
    NetworkOptions options;
    options.policy = [](const Transmission&) { return std::vector<double>{-1}; };
    AddonNetwork net = make_network(std::move(options));
    CHECK_THROWS_AS(net.send(A, "TLY", "m", "GUILD"), std::invalid_argument);
    CHECK(net.totals().sent == 0);
    CHECK(net.in_flight() == 0);
  }
}

TEST_CASE("offline clients neither send nor receive") {
  AddonNetwork net = make_network();
  net.set_online(B, false);
  CHECK(net.send(B, "TLY", "m", "GUILD") == R::GeneralError);
  CHECK(net.send(A, "TLY", "m", "GUILD") == R::Success);  // B dropped now, C in flight
  CHECK(net.stats(B).dropped_offline == 1);
  CHECK(net.in_flight() == 1);
  net.set_online(C, false);  // C logs off before the copy arrives
  CHECK(net.collect(1).empty());
  CHECK(net.stats(C).dropped_offline == 1);

  net.set_online(B, true);
  net.set_online(C, true);
  CHECK(net.send(A, "TLY", "m", "GUILD") == R::Success);
  CHECK(receivers(net.collect(2)) == Ids{B, C});
  CHECK(net.totals().dropped_offline == 2);
}

TEST_CASE("statistics per client add up to the totals") {
  AddonNetwork net = make_network();
  CHECK(net.send(A, "TLY", "hello", "GUILD") == R::Success);           // to B, C
  CHECK(net.send(D, "TLY", "hi", "WHISPER", "aelric-argent dawn") == R::Success);
  CHECK(net.send(E, "TLY", "nope", "GUILD") == R::NotInGuild);
  CHECK(net.send(F, "XYZ", "unheard", "PARTY") == R::Success);  // E never registered XYZ
  net.collect(1);

  CHECK(net.stats(A).sent == 1);
  CHECK(net.stats(A).bytes_sent == 8);
  CHECK(net.stats(A).charged_bytes == 48);
  CHECK(net.stats(A).delivered == 1);
  CHECK(net.stats(A).bytes_delivered == 5);
  CHECK(net.stats(B).delivered == 1);
  CHECK(net.stats(B).bytes_delivered == 8);
  CHECK(net.stats(E).refused_for(R::NotInGuild) == 1);
  CHECK(net.stats(E).unregistered == 1);

  TrafficStats sum;
  for (std::uint32_t id = A; id <= F; ++id) {
    const TrafficStats& s = net.stats(id);
    sum.sent += s.sent;
    sum.bytes_sent += s.bytes_sent;
    sum.charged_bytes += s.charged_bytes;
    sum.delivered += s.delivered;
    sum.bytes_delivered += s.bytes_delivered;
    sum.unregistered += s.unregistered;
    for (std::size_t code = 0; code < kSendResultCount; ++code) sum.refused[code] += s.refused[code];
  }
  const TrafficStats& all = net.totals();
  CHECK(all.sent == 3);
  CHECK(sum.sent == all.sent);
  CHECK(sum.bytes_sent == all.bytes_sent);
  CHECK(sum.charged_bytes == all.charged_bytes);
  CHECK(all.delivered == 3);
  CHECK(sum.delivered == all.delivered);
  CHECK(sum.bytes_delivered == all.bytes_delivered);
  CHECK(sum.unregistered == all.unregistered);
  CHECK(sum.refused == all.refused);
}

TEST_CASE("echo to sender is an option, off by default") {
  NetworkOptions options;
  options.echo_to_sender = true;
  AddonNetwork net = make_network(std::move(options));
  CHECK(net.send(A, "TLY", "m", "GUILD") == R::Success);
  CHECK(receivers(net.collect(1)) == Ids{A, B, C});
  CHECK(net.send(A, "TLY", "m", "PARTY") == R::Success);
  CHECK(receivers(net.collect(2)) == Ids{A, B});
  CHECK(net.send(A, "TLY", "m", "WHISPER", "Cassia-Silvermoon") == R::Success);
  CHECK(receivers(net.collect(3)) == Ids{C});
}

TEST_CASE("the same sends give the same deliveries") {
  auto run = [] {
    NetworkOptions options;
    std::uint64_t state = 42;  // a seeded generator inside the policy
    options.policy = [state](const Transmission&) mutable {
      state = state * 6364136223846793005u + 1442695040888963407u;
      return std::vector<double>{static_cast<double>(state >> 44) / 1e7};
    };
    AddonNetwork net = make_network(std::move(options));
    for (int i = 0; i < 8; ++i) {
      REQUIRE(net.send(i % 2 ? A : D, "TLY", std::to_string(i), "RAID") == R::Success);
    }
    std::vector<std::string> trace;
    for (const auto& d : net.collect(10)) {
      trace.push_back(std::to_string(d.receiver) + ":" + d.text + "@" + std::to_string(d.time));
    }
    return trace;
  };
  auto first = run();
  CHECK(first.size() == 16);
  CHECK(first == run());
}

TEST_CASE("misuse is refused") {
  AddonNetwork net = make_network();
  CHECK_THROWS_AS(net.add_client({A, "Someone-Else", "", 0, 0, true}), std::invalid_argument);
  CHECK_THROWS_AS(net.add_client({99, "AELRIC-argent dawn", "", 0, 0, true}),
                  std::invalid_argument);
  CHECK_THROWS_AS(net.add_client({99, "", "", 0, 0, true}), std::invalid_argument);
  CHECK_THROWS_AS(net.send(99, "TLY", "m", "GUILD"), std::out_of_range);
  CHECK_THROWS_AS(net.stats(99), std::out_of_range);
  net.advance_to(5);
  CHECK_THROWS_AS(net.advance_to(4), std::invalid_argument);
  CHECK_THROWS_AS(net.collect(std::nan("")), std::invalid_argument);
  CHECK(net.now() == 5);

  NetworkOptions bad;
  bad.latency_seconds = -0.01;
  CHECK_THROWS_AS(AddonNetwork{bad}, std::invalid_argument);
}
