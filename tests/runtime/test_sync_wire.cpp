// The sync wire format: primitives, escaping, every message kind, frames, sizes and reassembly.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/sync_frames.hpp"
#include "runtime/sync_wire.hpp"

using namespace tally;

namespace {

constexpr std::uint32_t kMax32 = UINT32_MAX;
constexpr std::uint64_t kMax64 = UINT64_MAX;

// A DKP award as guild addons write them.
Entry award(EntryKey key, std::string player, std::int64_t amount, std::string reason) {
  Entry e{key, "award", 1, {}};
  e.payload.set("player", std::move(player)).set("amount", amount).set("reason", std::move(reason));
  return e;
}

// A raid night of awards: a few officers award players in bursts (one creator's awards within a
// second differ by counter), bursts minutes apart.
std::vector<Entry> dkp_batch(std::size_t n, std::uint32_t seed) {
  static const char* players[] = {"Dagna",  "Brannoc", "Thessaly", "Orrin",  "Maelis",
                                  "Kurzak", "Ilyra",   "Fenwick",  "Solvei", "Grimbald",
                                  "Ashka",  "Tormund", "Velanna",  "Quill",  "Haldor"};
  static const char* reasons[] = {"boss kill", "on time", "full raid", "wipe night"};
  std::mt19937 engine(seed);
  auto rng = [&] { return static_cast<std::uint32_t>(engine()); };
  std::vector<Entry> out;
  std::uint32_t ts = 1764000000;
  while (out.size() < n) {
    ts += 60 + rng() % 840;
    const std::uint32_t creator = 5000000 + rng() % 3;
    const std::size_t burst = 1 + rng() % 5;
    for (std::size_t c = 0; c < burst && out.size() < n; ++c) {
      out.push_back(award({ts, static_cast<std::uint8_t>(c), 0, creator}, players[rng() % 15],
                          5 * static_cast<std::int64_t>(1 + rng() % 10), reasons[rng() % 4]));
    }
  }
  return out;
}

std::string error_text(const WireError& e) {
  return std::string(reason_name(e.reason)) + ": " + e.message;
}

// Decodes frames as one receiver would and returns the messages, requiring every one to decode.
std::vector<SyncMessage> receive_all(const std::vector<std::string>& frames) {
  Reassembler reassembler;
  std::vector<SyncMessage> out;
  for (const auto& frame : frames) {
    auto received = reassembler.receive("Peer", frame, 0);
    if (!received) continue;
    REQUIRE_MESSAGE(received->ok(), error_text(received->error()));
    out.push_back(std::move(received->value()));
  }
  CHECK(reassembler.drops().total() == 0);
  return out;
}

void check_frame_limits(const std::vector<std::string>& frames, std::size_t max_frame_bytes) {
  for (const auto& frame : frames) {
    CHECK(frame.size() <= max_frame_bytes);
    CHECK(frame.find('\0') == std::string::npos);
  }
}

// The entries of entry-carrying messages, in order.
std::vector<Entry> joined_entries(const std::vector<SyncMessage>& messages) {
  std::vector<Entry> out;
  for (const auto& m : messages) {
    const auto& list = std::holds_alternative<RefWeek>(m) ? std::get<RefWeek>(m).entries
                                                          : std::get<Entries>(m).entries;
    out.insert(out.end(), list.begin(), list.end());
  }
  return out;
}

// The message with its entry list emptied: what every frame of an entry list repeats.
SyncMessage without_entries(SyncMessage m) {
  if (auto* w = std::get_if<RefWeek>(&m)) w->entries.clear();
  if (auto* e = std::get_if<Entries>(&m)) e->entries.clear();
  return m;
}

bool carries_entries(const SyncMessage& m) {
  return std::holds_alternative<RefWeek>(m) || std::holds_alternative<Entries>(m);
}

// Whole-message bytes and frames of the given size both give back the message.
void check_round_trip(const SyncMessage& m, std::size_t max_frame_bytes = kDefaultMaxFrameBytes) {
  auto bytes = encode_message(m);
  auto back = decode_message(bytes);
  REQUIRE_MESSAGE(back.ok(), error_text(back.error()));
  CHECK(back.value() == m);

  FrameEncoder encoder(max_frame_bytes);
  const auto frames = encoder.encode(m);
  check_frame_limits(frames, max_frame_bytes);
  const auto received = receive_all(frames);
  if (carries_entries(m)) {
    REQUIRE(!received.empty());
    for (const auto& r : received) CHECK(without_entries(r) == without_entries(m));
    CHECK(joined_entries(received) == joined_entries({m}));
  } else {
    REQUIRE(received.size() == 1);
    CHECK(received[0] == m);
  }
}

// Random messages of every kind, for properties that must hold whatever the content.
class Random {
 public:
  explicit Random(std::uint32_t seed) : rng_(seed) {}

  std::uint32_t u32() {
    return pick({0u, 1u, 127u, 128u, kMax32, static_cast<std::uint32_t>(next())});
  }
  std::uint64_t u64() {
    return pick<std::uint64_t>({0, 1, kMax64, (std::uint64_t{next()} << 32) | next()});
  }

  // Strictly ascending keys with repeats of timestamp, creator and realm, as ledgers have.
  std::vector<EntryKey> keys(std::size_t n) {
    std::vector<EntryKey> out;
    EntryKey k{static_cast<std::uint32_t>(next() % 2000000000), 0, 0, 0};
    for (std::size_t i = 0; i < n; ++i) {
      switch (next() % 4) {
        case 0:
          k.timestamp += 1 + next() % 100000;
          break;
        case 1:
          k.timestamp += 1 + next() % 50;
          break;
        case 2:
          if (k.counter < 255) {
            ++k.counter;
            break;
          }
          [[fallthrough]];
        default:
          k.timestamp += 1;
          k.counter = static_cast<std::uint8_t>(next() % 3);
          break;
      }
      k.realm = next() % 4 == 0 ? static_cast<std::uint16_t>(next()) : k.realm;
      k.creator = next() % 3 == 0 ? next() : 100 + next() % 40;
      out.push_back(k);
    }
    return out;
  }

  Payload payload() {
    Payload p;
    const std::size_t fields = next() % 6;
    for (std::size_t i = 0; i < fields; ++i) {
      const std::string name = pick<std::string>({"amount", "player", "note", "ratio", "ok", "x"});
      switch (next() % 4) {
        case 0:
          p.set(name, next() % 2 == 0);
          break;
        case 1:
          p.set(name, static_cast<std::int64_t>(next()) - (1 << 30));
          break;
        case 2:
          p.set(name, static_cast<double>(next() % 1000) / 7.0 + 0.5);
          break;
        default: {
          std::string s(next() % 40, '\0');
          for (auto& c : s) c = static_cast<char>(next() % 4 == 0 ? 0 : next());
          p.set(name, s);
        }
      }
    }
    return p;
  }

  std::vector<Entry> entries(std::size_t n) {
    std::vector<Entry> out;
    for (const auto& key : keys(n)) {
      out.push_back(Entry{key, pick<std::string>({"award", "spend", "decay", "Item_2"}),
                          static_cast<std::uint8_t>(next() % 3 == 0 ? next() : 1), payload()});
    }
    return out;
  }

  Ranges ranges(std::size_t n) {
    Ranges r{u32(), {}, {}};
    const auto k = keys(n * 4 + 1);
    r.lower = k[0];
    std::size_t at = 1;
    for (std::size_t i = 0; i < n; ++i) {
      RangeItem item;
      switch (next() % 3) {
        case 0:
          item.content = RangeSkip{};
          break;
        case 1:
          item.content = RangeFingerprint{u32(), u64()};
          break;
        default: {
          RangeIds ids;
          const std::size_t m = next() % 3;
          for (std::size_t j = 0; j < m; ++j) ids.ids.push_back({k[at++], u32()});
          item.content = ids;
        }
      }
      if (i + 1 < n || next() % 2 == 0) item.upper = k[at++];
      r.items.push_back(std::move(item));
    }
    return r;
  }

  SyncMessage message() {
    const std::size_t n = next() % 30;
    switch (next() % 8) {
      case 0: {
        RefAdvert m;
        for (std::size_t i = 0; i < n % 17; ++i) m.weeks.push_back({u32(), u32(), u32()});
        return m;
      }
      case 1:
        return RefRequest{u32()};
      case 2:
        return RefWeek{u32(), entries(n)};
      case 3:
        return Advert{u64(), u64(), u32(), u32(), static_cast<std::uint16_t>(u32())};
      case 4:
        return ranges(n);
      case 5:
        return Need{u32(), keys(n * 5)};
      case 6:
        return Entries{u32(), entries(n)};
      default:
        return Claim{u32(), u32()};
    }
  }

 private:
  std::uint32_t next() { return static_cast<std::uint32_t>(rng_()); }
  template <typename T>
  T pick(std::initializer_list<T> options) {
    return *(options.begin() + next() % options.size());
  }
  std::mt19937 rng_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Primitives

TEST_CASE("varints and zigzag round-trip their boundary values") {
  const std::uint64_t values[] = {0, 1, 127, 128, 16383, 16384, kMax32, kMax32 + 1ull, kMax64};
  WireWriter w;
  for (auto v : values) w.varint(v);
  const std::int64_t signed_values[] = {0, -1, 1, INT64_MIN, INT64_MAX};
  for (auto v : signed_values) w.zigzag(v);
  WireReader r(w.data());
  for (auto v : values) CHECK(r.varint("v") == v);
  for (auto v : signed_values) CHECK(r.zigzag("z", kMax64) == v);
  r.expect_end("values");
  CHECK(r.ok());

  CHECK(varint_size(0) == 1);
  CHECK(varint_size(127) == 1);
  CHECK(varint_size(128) == 2);
  CHECK(varint_size(kMax32) == 5);
  CHECK(varint_size(kMax64) == 10);
  CHECK(zigzag_encode(-1) == 1);
  CHECK(zigzag_encode(1) == 2);
  CHECK(zigzag_decode(zigzag_encode(INT64_MIN)) == INT64_MIN);
}

TEST_CASE("the reader stops at the first error and names the field and the offset") {
  SUBCASE("truncated fixed field") {
    const std::uint8_t bytes[] = {7, 1, 2};
    WireReader r(bytes, 10);
    CHECK(r.u8("kind") == 7);
    CHECK(r.fixed32("adler") == 0);
    REQUIRE(!r.ok());
    CHECK(r.error()->reason == WireErrorReason::Truncated);
    CHECK(r.error()->message == "byte 11: 'adler' needs 4 bytes, 2 remain");
    CHECK(r.u8("later") == 0);  // the first error sticks
    CHECK(r.error()->message.find("adler") != std::string::npos);
  }
  SUBCASE("non-minimal and overflowing varints") {
    const std::uint8_t padded[] = {0x81, 0x00};
    WireReader r(padded);
    r.varint("week");
    CHECK(r.error()->reason == WireErrorReason::Malformed);
    CHECK(r.error()->message == "byte 0: 'week' is a varint of non-minimal length");
    const std::uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    WireReader r2(huge);
    r2.varint("count");
    CHECK(r2.error()->message == "byte 0: 'count' overflows 64 bits");
    WireReader r3(
        std::span<const std::uint8_t>(huge).subspan(4));  // 0xff... 0x02: 6 bytes, about 2^36
    r3.varint32("session");
    CHECK(r3.error()->message.find("above its maximum 4294967295") != std::string::npos);
  }
  SUBCASE("counts are capped by the bytes left, lengths by their limits") {
    WireWriter w;
    w.varint(1000000);
    w.raw(std::string(20, 'x'));
    WireReader r(w.data());
    CHECK(r.count("key count", 2) == 0);
    CHECK(r.error()->reason == WireErrorReason::Truncated);
    CHECK(r.error()->message ==
          "byte 0: 'key count' of 1000000 needs at least 2 bytes each, 20 remain");
    WireWriter w2;
    w2.bytes(std::vector<std::uint8_t>(300, 1));
    WireReader r2(w2.data());
    CHECK(r2.bytes("payload", 255).empty());
    CHECK(r2.error()->reason == WireErrorReason::Oversized);
    CHECK(r2.error()->message == "byte 0: 'payload' of 300 bytes exceeds 255");
  }
  SUBCASE("trailing bytes") {
    const std::uint8_t bytes[] = {1, 2, 3};
    WireReader r(bytes);
    r.u8("one");
    r.expect_end("Claim");
    CHECK(r.error()->message == "byte 1: 2 trailing bytes after Claim");
  }
}

// ---------------------------------------------------------------------------------------------
// Escaping

TEST_CASE("escaping removes every NUL, adds one byte per short body and round-trips") {
  std::mt19937 rng(7);
  for (std::size_t n = 0; n < 700; n += 1 + n / 50) {
    for (int density : {0, 1, 4, 256}) {  // share of zero bytes: none, all, 1/4, random
      std::vector<std::uint8_t> body(n);
      for (auto& b : body) {
        b = density == 0   ? static_cast<std::uint8_t>(1 + rng() % 255)
            : density == 1 ? 0
            : density == 4 ? static_cast<std::uint8_t>(rng() % 4 == 0 ? 0 : rng())
                           : static_cast<std::uint8_t>(rng());
      }
      const std::string text = escape_nul_free(body);
      CHECK(text.find('\0') == std::string::npos);
      CHECK(text.size() <= n + 1 + n / 254);
      if (n < 254) CHECK(text.size() == n + 1);
      auto back = unescape_nul_free(text);
      REQUIRE(back.ok());
      CHECK(back.value() == body);
    }
  }
  CHECK(escape_nul_free({}) == "\x01");
  CHECK(escape_nul_free(std::vector<std::uint8_t>{0, 0}) == "\x01\x01\x01");
}

TEST_CASE("unescaping refuses NUL bytes and blocks that run past the end") {
  auto nul = unescape_nul_free(std::string("\x03\x05\0", 3), 2);
  REQUIRE(!nul.ok());
  CHECK(nul.error().reason == WireErrorReason::Malformed);
  CHECK(nul.error().message == "frame byte 4 is NUL");
  auto overrun = unescape_nul_free("\x05\x01\x02");
  REQUIRE(!overrun.ok());
  CHECK(overrun.error().reason == WireErrorReason::Truncated);
  CHECK(overrun.error().message == "frame byte 0: escaped block of 4 bytes runs past the end");
  CHECK(!unescape_nul_free("").ok());
}

// ---------------------------------------------------------------------------------------------
// Messages

TEST_CASE("every message kind round-trips, with boundary values") {
  const EntryKey top{kMax32, 255, 0xffff, kMax32};

  SUBCASE("reference protocol") {
    check_round_trip(RefAdvert{});
    RefAdvert advert;
    const std::uint32_t weeks[] = {2911, 2910, 2911, 0, kMax32, 0, 2900, 2900};
    for (auto week : weeks) advert.weeks.push_back({week, kMax32, kMax32});
    advert.weeks.push_back({5, 0, 0});
    check_round_trip(advert);
    check_round_trip(RefRequest{0});
    check_round_trip(RefRequest{kMax32});
    check_round_trip(RefWeek{kMax32, {}});
    check_round_trip(RefWeek{2911, dkp_batch(40, 1)});
  }
  SUBCASE("advert and claim") {
    check_round_trip(Advert{});
    check_round_trip(Advert{kMax64, kMax64, kMax32, kMax32, 0xffff});
    check_round_trip(Claim{});
    check_round_trip(Claim{kMax32, kMax32});
  }
  SUBCASE("ranges") {
    check_round_trip(Ranges{});
    check_round_trip(Ranges{kMax32, top, {RangeItem{std::nullopt, RangeSkip{}}}});
    Ranges r{7, {1764000000, 0, 0, 101}, {}};
    // The first id of a range may sit on its lower bound; ids of 40 creators overflow the table.
    RangeIds ids;
    ids.ids.push_back({r.lower, kMax32});
    for (std::uint32_t i = 1; i <= 40; ++i) ids.ids.push_back({{1764000000 + i, 0, 0, 200 + i}, i});
    r.items.push_back({EntryKey{1764000100, 0, 0, 0}, ids});
    r.items.push_back({EntryKey{1764000100, 1, 0, 0}, RangeIds{}});
    r.items.push_back({EntryKey{1764000100, 1, 0, 1}, RangeFingerprint{kMax32, kMax64}});
    r.items.push_back({top, RangeSkip{}});
    check_round_trip(r);
    r.items.push_back({std::nullopt, RangeIds{{{top, 0}}}});  // an id on the last bound
    check_round_trip(r);
  }
  SUBCASE("need") {
    check_round_trip(Need{});
    check_round_trip(Need{kMax32, {EntryKey{}, top}});
    Random random(3);
    check_round_trip(Need{9, random.keys(600)});  // chunked
  }
  SUBCASE("entries") {
    check_round_trip(Entries{});
    check_round_trip(Entries{0, dkp_batch(100, 2)});
    Entry wide{{100, 1, 2, 3}, std::string(32, 'T'), 255, {}};
    for (int i = 0; i < 32; ++i) wide.payload.set("f" + std::to_string(i), std::int64_t{i});
    Entry named{{100, 2, 2, 3}, "named", 0, {}};
    for (int i = 0; i < 32; ++i) {
      named.payload.set(std::string(24, 'n') + std::to_string(10 + i), i % 2 == 0);
    }
    Entry longest{{101, 0, 0xffff, kMax32}, "note", 1, {}};
    longest.payload.set("text", std::string(255, '\0'));
    Entry binary{{top.timestamp, 0, 0, 0}, "award", 1, {}};
    binary.payload.set("s", std::string(255, '\x01')).set("n", -kMaxSafeInteger).set("d", 0.25);
    Entry last{top, "award", 1, {}};
    Entries m{kMax32, {wide, named, longest, binary, last}};
    check_round_trip(m);
    check_round_trip(m, kMinFrameBytes);
    check_round_trip(m, kMaxFrameBytes);
  }
}

TEST_CASE("random messages round-trip in frames of every size, all within the limit") {
  Random random(11);
  for (int i = 0; i < 400; ++i) {
    const SyncMessage m = random.message();
    for (std::size_t size :
         {kMinFrameBytes, std::size_t{100}, kDefaultMaxFrameBytes, kMaxFrameBytes}) {
      CAPTURE(i);
      CAPTURE(size);
      check_round_trip(m, size);
    }
  }
}

TEST_CASE("entry frames are self-contained: each decodes alone, a lost one loses only its own") {
  const auto entries = dkp_batch(100, 5);
  FrameEncoder encoder;
  const auto frames = encoder.encode(Entries{42, entries});
  REQUIRE(frames.size() > 10);
  std::vector<Entry> kept;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto decoded = decode_frame(frames[i]);
    REQUIRE_MESSAGE(decoded.ok(), error_text(decoded.error()));
    const auto& message = std::get<Entries>(std::get<SyncMessage>(decoded.value()));
    CHECK(message.session == 42);
    CHECK(!message.entries.empty());
    if (i % 3 != 1) kept.insert(kept.end(), message.entries.begin(), message.entries.end());
  }
  // Every third frame lost: the rest still give their entries, in order.
  std::vector<Entry> expected;
  std::size_t at = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto n =
        std::get<Entries>(std::get<SyncMessage>(decode_frame(frames[i]).value())).entries.size();
    if (i % 3 != 1) expected.insert(expected.end(), entries.begin() + at, entries.begin() + at + n);
    at += n;
  }
  CHECK(at == entries.size());
  CHECK(kept == expected);
}

TEST_CASE("sizes: a typical DKP entry and the cost of escaping") {
  const auto entries = dkp_batch(100, 9);
  FrameEncoder encoder;
  const auto frames = encoder.encode(Entries{12345, entries});
  std::size_t bytes = 0;
  for (const auto& f : frames) bytes += f.size();
  const double per_entry = static_cast<double>(bytes) / 100.0;
  const auto payload = encode_payload(award({}, "Name", 10, "boss kill").payload);
  MESSAGE("100 DKP awards: " << frames.size() << " frames, " << bytes << " bytes, " << per_entry
                             << " bytes per entry (canonical payload of {player=\"Name\", "
                             << "amount=10, reason=\"boss kill\"}: " << payload.size()
                             << " bytes)");
  CHECK(payload.size() == 41);
  CHECK(per_entry < 60);
  CHECK(bytes <= frames.size() * kDefaultMaxFrameBytes);

  // The escape costs 1 byte per frame; 0x00 -> 01 01, 0x01 -> 01 02 would cost one per 0 or 1.
  auto naive_cost = [](std::span<const std::uint8_t> body) {
    return static_cast<std::size_t>(
        std::count_if(body.begin(), body.end(), [](auto b) { return b <= 1; }));
  };
  std::size_t body_bytes = 0;
  std::size_t naive = 0;
  for (const auto& message : encode_entry_messages({MessageKind::Entries, 12345}, entries,
                                                   2 + max_body_bytes(kDefaultMaxFrameBytes))) {
    const auto body = std::span(message).subspan(2);
    body_bytes += body.size();
    naive += naive_cost(body);
    CHECK(escape_nul_free(body).size() == body.size() + 1);
  }
  std::mt19937 rng(1);
  std::vector<std::uint8_t> random_body(247 * 1000);
  for (auto& b : random_body) b = static_cast<std::uint8_t>(rng());
  const double random_naive = 100.0 * static_cast<double>(naive_cost(random_body)) /
                              static_cast<double>(random_body.size());
  const double entry_naive = 100.0 * static_cast<double>(naive) / static_cast<double>(body_bytes);
  const double cobs = 100.0 * static_cast<double>(frames.size()) / static_cast<double>(body_bytes);
  MESSAGE("escaping overhead: COBS " << cobs << "% on entry frames (1 byte per frame, "
                                     << 100.0 / 247 << "% on full random frames); 0x00/0x01 escape "
                                     << entry_naive << "% on entry frames, " << random_naive
                                     << "% on random bytes");
  CHECK(cobs < 1.0);

  // Control messages over the same ledger: one frame each for the usual shapes.
  auto next32 = [&] { return static_cast<std::uint32_t>(rng()); };
  RefAdvert weeks;
  for (std::uint32_t w = 0; w < 16; ++w) {  // 8 recent weeks, 8 older ones
    weeks.weeks.push_back({2911 - w * (w < 8 ? 1 : 4), next32(), 600});
  }
  Ranges buckets{next32(), entries.front().key, {}};
  Ranges ids{next32(), entries.front().key, {}};
  Need need{next32(), {}};
  for (std::size_t i = 6; i < 100; i += 6) {
    buckets.items.push_back(
        {entries[i].key, RangeFingerprint{6, (std::uint64_t{next32()} << 32) | next32()}});
    ids.items.push_back({entries[i].key, RangeIds{{{entries[i - 6].key, next32()}}}});
    if (need.keys.size() < 10) need.keys.push_back(entries[i].key);
  }
  for (const auto& [name, message] :
       {std::pair<const char*, SyncMessage>{"RefAdvert of 16 weeks", weeks},
        {"Ranges of 16 fingerprints", buckets},
        {"Ranges of 16 one-id ranges", ids},
        {"Need of 10 keys", need}}) {
    const auto control = encoder.encode(message);
    MESSAGE(std::string(name) << ": " << control.size() << " frame(s), " << control[0].size()
                              << " bytes");
    CHECK(control.size() == 1);
  }

  // The advert fits a frame comfortably even at its largest.
  FrameEncoder small(kMinFrameBytes);
  const auto advert = small.encode(Advert{kMax64, kMax64, kMax32, kMax32, 0xffff});
  REQUIRE(advert.size() == 1);
  MESSAGE("largest Advert frame: " << advert[0].size() << " bytes");
  CHECK(advert[0].size() <= 40);
}

// ---------------------------------------------------------------------------------------------
// Refusals

TEST_CASE("every prefix of a valid frame is refused as truncated") {
  Random random(21);
  FrameEncoder encoder;
  int prefixes = 0;
  for (int i = 0; i < 60; ++i) {
    for (const auto& frame : encoder.encode(random.message())) {
      // A chunk cut short is still a chunk: its message fails when reassembled (tested below).
      if (static_cast<std::uint8_t>(frame[1]) == kChunkKind) continue;
      for (std::size_t n = 0; n < frame.size(); ++n) {
        auto decoded = decode_frame(std::string_view(frame).substr(0, n));
        REQUIRE(!decoded.ok());
        CAPTURE(decoded.error().message);
        CHECK(decoded.error().reason == WireErrorReason::Truncated);
        ++prefixes;
      }
    }
  }
  CHECK(prefixes > 1000);
}

TEST_CASE("random garbage is refused without a crash, and what decodes re-encodes") {
  std::mt19937 rng(99);
  std::map<WireErrorReason, int> reasons;
  int accepted = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string frame(rng() % 260, '\0');
    for (auto& c : frame) c = static_cast<char>(rng());
    // Two in three look like frames: a version and a kind, then random bytes without NUL, or
    // random bytes escaped, which reach the message decoders.
    if (i % 3 != 0 && frame.size() >= 3) {
      const char kind = static_cast<char>(i % 5 == 0 ? kChunkKind : 1 + rng() % 8);
      if (i % 3 == 1) {
        for (auto& c : frame) c = c == '\0' ? '\x01' : c;
        frame[1] = kind;
      } else {
        std::vector<std::uint8_t> body(frame.begin(), frame.end() - 3);
        frame = std::string{'\x01', kind} + escape_nul_free(body);
      }
      frame[0] = '\x01';
    }
    auto decoded = decode_frame(frame);
    if (!decoded.ok()) {
      ++reasons[decoded.error().reason];
      continue;
    }
    ++accepted;
    if (auto* m = std::get_if<SyncMessage>(&decoded.value())) {
      auto again = decode_message(encode_message(*m));
      REQUIRE(again.ok());
      CHECK(again.value() == *m);
    }
  }
  std::string histogram;
  for (auto [reason, n] : reasons)
    histogram += " " + std::string(reason_name(reason)) + "=" + std::to_string(n);
  MESSAGE("accepted " << accepted << " of 30000 random frames; refused:" << histogram);
  CHECK(accepted < 3000);
  CHECK(reasons[WireErrorReason::UnknownVersion] > 9000);
  CHECK(reasons[WireErrorReason::UnknownKind] > 0);
  CHECK(reasons[WireErrorReason::Truncated] > 1000);
  CHECK(reasons[WireErrorReason::Malformed] > 1000);
  CHECK(reasons[WireErrorReason::Oversized] > 0);
}

namespace {

WireWriter message_head(MessageKind kind) {
  WireWriter w;
  w.u8(kWireVersion);
  w.u8(static_cast<std::uint8_t>(kind));
  return w;
}

}  // namespace

TEST_CASE("malformed messages are refused with a reason and a message naming the problem") {
  auto check = [](const std::vector<std::uint8_t>& message, WireErrorReason reason,
                  const std::string& text) {
    auto decoded = decode_message(message);
    REQUIRE(!decoded.ok());
    const WireError& e = decoded.error();
    CHECK(e.reason == reason);
    CHECK_MESSAGE(e.message.find(text) != std::string::npos, e.message);
  };

  SUBCASE("version, kind, size") {
    auto d = decode_frame("\x02\x04\x01");
    CHECK(d.error().reason == WireErrorReason::UnknownVersion);
    CHECK(d.error().message == "frame version 2; this build reads version 1");
    d = decode_frame("\x01\x09\x01");
    CHECK(d.error().reason == WireErrorReason::UnknownKind);
    CHECK(d.error().message == "frame kind 9 is not defined in version 1");
    const std::vector<std::uint8_t> message = {1, 0x7f};
    CHECK(decode_message(message).error().message == "kind 127 is not a message of version 1");
    d = decode_frame(std::string(256, '\x01'));
    CHECK(d.error().reason == WireErrorReason::Oversized);
    CHECK(decode_frame("").error().reason == WireErrorReason::Truncated);
  }
  SUBCASE("trailing bytes") {
    auto m = encode_message(Claim{1, 2});
    m.push_back(9);
    check(m, WireErrorReason::Malformed, "Claim: byte 7: 1 trailing bytes after Claim");
  }
  SUBCASE("counts beyond the data") {
    auto w = message_head(MessageKind::Need);
    w.varint(1);
    w.varint(kMax32);
    check(w.take(), WireErrorReason::Truncated, "'key count' of 4294967295 needs at least 2");
  }
  SUBCASE("keys out of order, unknown creators, flags") {
    auto w = message_head(MessageKind::Need);
    w.varint(1);
    w.varint(2);
    w.varint(100);
    w.u8(31);
    w.varint(7);
    w.varint(0);
    w.u8(31);
    w.varint(6);  // same second, lower creator
    check(w.take(), WireErrorReason::Malformed, "is not above");
    auto w2 = message_head(MessageKind::Need);
    w2.varint(1);
    w2.varint(1);
    w2.varint(100);
    w2.u8(3);  // creator index 3 of an empty table
    check(w2.take(), WireErrorReason::Malformed, "creator index 3 but the table holds 0");
    auto w3 = message_head(MessageKind::Need);
    w3.varint(1);
    w3.varint(1);
    w3.varint(100);
    w3.u8(0x80 | 31);  // the type flag outside an entry list
    w3.varint(7);
    check(w3.take(), WireErrorReason::Malformed, "key flags 159 set unused bits");
    auto w4 = message_head(MessageKind::Need);
    w4.varint(1);
    w4.varint(2);
    w4.varint(kMax32);
    w4.u8(31);
    w4.varint(7);
    w4.varint(1);
    w4.u8(0);
    check(w4.take(), WireErrorReason::Malformed, "key timestamp overflows 32 bits");
  }
  SUBCASE("ranges") {
    auto w = message_head(MessageKind::Ranges);
    w.varint(1);
    w.varint(100);
    w.u8(31);
    w.varint(7);
    w.varint(1);
    w.u8(3);
    check(w.take(), WireErrorReason::Malformed, "range tag 3 is not defined");
    auto w2 = message_head(MessageKind::Ranges);
    w2.varint(1);
    w2.varint(100);
    w2.u8(31);
    w2.varint(7);
    w2.varint(2);
    w2.u8(4);
    w2.u8(4);
    check(w2.take(), WireErrorReason::Malformed,
          "range 0 reaches the end of the ledger but is not the last");
  }
  SUBCASE("entries the ledger would refuse") {
    auto entry_list = [](std::string_view type, std::vector<std::uint8_t> payload,
                         std::uint8_t flags) {
      auto w = message_head(MessageKind::Entries);
      w.varint(0);
      w.varint(1);
      w.varint(100);
      w.u8(flags);
      w.varint(7);
      if ((flags & 0x80) != 0) {
        w.varint(0);
        w.u8(static_cast<std::uint8_t>(type.size()));
        w.raw(type);
        w.u8(1);
      }
      w.bytes(payload);
      return w.take();
    };
    check(entry_list("1bad", {0}, 0x80 | 31), WireErrorReason::InvalidEntry,
          "entry type \"1bad\" is not a name");
    check(entry_list("award", {1, 1, 'a', 9}, 0x80 | 31), WireErrorReason::InvalidEntry,
          "unknown value kind 9 in field 'a'");
    check(entry_list("award", std::vector<std::uint8_t>(1100, 1), 0x80 | 31),
          WireErrorReason::Oversized, "'entry payload' of 1100 bytes exceeds 1024");
    check(entry_list("award", {0}, 31), WireErrorReason::Malformed,
          "the first entry does not name its type");
  }
}

TEST_CASE("the encoder refuses what no receiver would accept") {
  EntryKey a{100, 0, 0, 1};
  EntryKey b{100, 0, 0, 2};
  CHECK_THROWS_WITH_AS(encode_message(Need{1, {b, a}}),
                       "Need key 1: key (ts=100, counter=0, realm=0, creator=1) is not above "
                       "(ts=100, counter=0, realm=0, creator=2)",
                       std::invalid_argument);
  CHECK_THROWS_AS(encode_message(Need{1, {a, a}}), std::invalid_argument);
  Ranges r{1, a, {RangeItem{std::nullopt, RangeSkip{}}, RangeItem{b, RangeSkip{}}}};
  CHECK_THROWS_WITH_AS(encode_message(r),
                       "Ranges item 0: only the last range may reach the end of the ledger",
                       std::invalid_argument);
  Ranges below{1, b, {RangeItem{std::nullopt, RangeIds{{{a, 0}}}}}};
  CHECK_THROWS_WITH_AS(encode_message(below), doctest::Contains("Ranges item 0 id 0: key"),
                       std::invalid_argument);
  FrameEncoder encoder;
  Entries unsorted{0, {award(b, "x", 1, "y"), award(a, "x", 1, "y")}};
  CHECK_THROWS_WITH_AS(encoder.encode(unsorted), doctest::Contains("Entries entry 1: key"),
                       std::invalid_argument);
  CHECK_THROWS_AS(encoder.encode(Entries{0, {Entry{a, "bad type", 1, {}}}}), InvalidEntry);
  CHECK_THROWS_WITH_AS(FrameEncoder(kMinFrameBytes - 1), "max_frame_bytes 47 is outside [48, 255]",
                       std::invalid_argument);
  CHECK_THROWS_AS(FrameEncoder(256), std::invalid_argument);
  CHECK_THROWS_WITH_AS(encoder.encode_entry_frames({MessageKind::Need, 1}, {}),
                       "Need carries no entries", std::invalid_argument);
  Random random(1);
  CHECK_THROWS_WITH_AS(FrameEncoder(kMinFrameBytes).encode(Need{1, random.keys(5000)}),
                       doctest::Contains("chunks; at most 255 are allowed"), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Chunks and reassembly

namespace {

// A Need of `keys` random keys: about 6 bytes each, so 50 or more need chunks.
Need long_need(std::uint32_t session, std::size_t keys, std::uint32_t seed) {
  Random random(seed);
  return Need{session, random.keys(keys)};
}

}  // namespace

TEST_CASE("chunks reassemble despite reordering and duplicates; late duplicates are ignored") {
  FrameEncoder encoder(kDefaultMaxFrameBytes, 65534);  // ids wrap around
  const Need need = long_need(3, 400, 1);
  auto frames = encoder.encode(need);
  REQUIRE(frames.size() >= 4);
  for (const auto& f : frames) CHECK(static_cast<std::uint8_t>(f[1]) == kChunkKind);

  std::vector<std::string> delivered = frames;
  delivered.insert(delivered.end(), frames.begin(), frames.begin() + 2);  // two duplicates
  std::shuffle(delivered.begin(), delivered.end(), std::mt19937(4));
  Reassembler reassembler;
  std::vector<SyncMessage> got;
  double now = 0;
  for (const auto& f : delivered) {
    if (auto r = reassembler.receive("Dagna-Argent Dawn", f, now += 0.5)) {
      REQUIRE(r->ok());
      got.push_back(r->value());
    }
  }
  REQUIRE(got.size() == 1);
  CHECK(std::get<Need>(got[0]) == need);
  CHECK(reassembler.drops().duplicate_chunks == 2);
  CHECK(reassembler.open_messages("Dagna-Argent Dawn") == 0);
  CHECK(reassembler.buffered_bytes("Dagna-Argent Dawn") == 0);

  // After the whole message arrived, a repeat of any of its chunks is a duplicate, not a new one.
  CHECK(!reassembler.receive("Dagna-Argent Dawn", frames[0], now += 1));
  CHECK(reassembler.drops().duplicate_chunks == 3);
  CHECK(reassembler.open_messages("Dagna-Argent Dawn") == 0);

  // The next two messages get the next ids, 65535 and 0.
  for (int i = 0; i < 2; ++i) {
    std::optional<WireResult<SyncMessage>> last;
    for (const auto& f : encoder.encode(need))
      last = reassembler.receive("Dagna-Argent Dawn", f, now);
    REQUIRE(last);
    CHECK(last->ok());
  }
  CHECK(to_string(reassembler.drops()) == "duplicate_chunks=3");
  reassembler.expire(now + 31);
  CHECK(reassembler.senders() == 0);
}

TEST_CASE("a lost chunk leaves the message open until it times out") {
  FrameEncoder encoder;
  const auto frames = encoder.encode(long_need(1, 300, 2));
  REQUIRE(frames.size() >= 3);
  ReassemblyLimits limits;
  limits.timeout_seconds = 30;
  Reassembler reassembler(limits);
  // Progress resets the clock: chunks 25 s apart still complete a message.
  for (std::size_t i = 0; i + 1 < frames.size(); ++i) {
    CHECK(!reassembler.receive("Brannoc", frames[i], 25.0 * static_cast<double>(i)));
  }
  const double last = 25.0 * static_cast<double>(frames.size() - 2);
  CHECK(reassembler.open_messages("Brannoc") == 1);
  CHECK(reassembler.buffered_bytes("Brannoc") > 0);
  reassembler.expire(last + 30);
  CHECK(reassembler.open_messages("Brannoc") == 1);
  reassembler.expire(last + 30.5);
  CHECK(reassembler.open_messages("Brannoc") == 0);
  CHECK(reassembler.senders() == 0);
  CHECK(reassembler.drops().timed_out == 1);
  // The missing chunk, late, opens a message of its own that never completes either.
  CHECK(!reassembler.receive("Brannoc", frames.back(), last + 31));
  CHECK(reassembler.open_messages("Brannoc") == 1);
  // A sender's own expired messages are dropped when it sends another chunk.
  CHECK(!reassembler.receive("Brannoc", frames[0], last + 100));
  CHECK(reassembler.drops().timed_out == 2);
}

TEST_CASE("senders are kept apart and each is bounded in open messages and bytes") {
  ReassemblyLimits limits;
  limits.max_open_per_sender = 2;
  limits.max_bytes_per_sender = 4000;
  Reassembler reassembler(limits);

  SUBCASE("same message ids from two senders") {
    FrameEncoder a(kDefaultMaxFrameBytes, 9);
    FrameEncoder b(kDefaultMaxFrameBytes, 9);
    const Need na = long_need(1, 200, 3);
    const Need nb{2, na.keys};
    const auto fa = a.encode(na);
    const auto fb = b.encode(nb);
    REQUIRE(fa.size() == fb.size());
    std::vector<SyncMessage> got;
    for (std::size_t i = 0; i < fa.size(); ++i) {
      for (auto [sender, frame] : {std::pair{"A", fa[i]}, std::pair{"B", fb[i]}}) {
        if (auto r = reassembler.receive(sender, frame, 0)) got.push_back(r->value());
      }
    }
    REQUIRE(got.size() == 2);
    CHECK(std::get<Need>(got[0]) == na);
    CHECK(std::get<Need>(got[1]) == nb);
    CHECK(reassembler.drops().total() == 0);
  }
  SUBCASE("a third open message evicts the oldest") {
    FrameEncoder a;
    std::vector<std::vector<std::string>> messages;
    for (std::uint32_t i = 0; i < 3; ++i) messages.push_back(a.encode(long_need(i, 150, i)));
    for (const auto& m : messages) CHECK(!reassembler.receive("A", m[0], 0));
    CHECK(reassembler.drops().evicted_open_limit == 1);
    CHECK(reassembler.open_messages("A") == 2);
    // Another sender is not affected.
    FrameEncoder b;
    CHECK(!reassembler.receive("B", b.encode(long_need(9, 150, 9))[0], 0));
    CHECK(reassembler.open_messages("B") == 1);
    // The evicted message's later chunks open it again; completed ones deliver.
    int delivered = 0;
    for (std::size_t i = 1; i < messages[2].size(); ++i) {
      if (auto r = reassembler.receive("A", messages[2][i], 1)) delivered += r->ok();
    }
    CHECK(delivered == 1);
  }
  SUBCASE("bytes: older messages make room, a message over the limit alone is refused") {
    FrameEncoder a;
    const Need first = long_need(1, 400, 5);
    const Need second = long_need(2, 400, 6);
    const Need huge = long_need(3, 1000, 7);
    const std::size_t first_bytes = encode_message(first).size();
    REQUIRE(first_bytes + encode_message(second).size() > limits.max_bytes_per_sender);
    REQUIRE(encode_message(second).size() <= limits.max_bytes_per_sender);
    REQUIRE(encode_message(huge).size() > limits.max_bytes_per_sender);
    CHECK(!reassembler.receive("A", a.encode(first)[0], 0));
    CHECK(reassembler.buffered_bytes("A") == first_bytes);
    CHECK(!reassembler.receive("A", a.encode(second)[0], 0));
    CHECK(reassembler.drops().evicted_byte_limit == 1);
    CHECK(reassembler.open_messages("A") == 1);
    CHECK(reassembler.buffered_bytes("A") == encode_message(second).size());
    CHECK(!reassembler.receive("A", a.encode(huge)[0], 0));
    CHECK(reassembler.drops().too_large == 1);
    CHECK(reassembler.open_messages("A") == 1);
  }
}

TEST_CASE("chunks that disagree with their message drop it; a bad message is counted") {
  auto chunk = [](std::uint16_t id, std::uint8_t index, std::uint8_t count, std::uint32_t total,
                  std::vector<std::uint8_t> piece) {
    WireWriter w;
    w.fixed16(id);
    w.u8(index);
    w.u8(count);
    w.varint(total);
    w.raw(piece);
    return std::string{static_cast<char>(kWireVersion), static_cast<char>(kChunkKind)} +
           escape_nul_free(w.data());
  };
  Reassembler reassembler;
  const auto claim = encode_message(Claim{5, 6});  // 7 bytes
  const std::vector<std::uint8_t> head(claim.begin(), claim.begin() + 3);
  const std::vector<std::uint8_t> tail(claim.begin() + 3, claim.end());

  // The same id with another count: a restarted sender; the old message is dropped.
  CHECK(!reassembler.receive("A", chunk(1, 0, 3, 7, head), 0));
  CHECK(!reassembler.receive("A", chunk(1, 1, 2, 7, tail), 0));
  CHECK(reassembler.drops().conflicting_chunks == 1);
  auto done = reassembler.receive("A", chunk(1, 0, 2, 7, head), 0);
  REQUIRE(done);
  REQUIRE(done->ok());
  CHECK(std::get<Claim>(done->value()) == Claim{5, 6});

  // Pieces longer than the announced total.
  CHECK(!reassembler.receive("A", chunk(2, 0, 2, 5, {1, 2, 3}), 0));
  CHECK(!reassembler.receive("A", chunk(2, 1, 2, 5, {1, 2, 3}), 0));
  CHECK(reassembler.drops().conflicting_chunks == 2);
  CHECK(reassembler.open_messages("A") == 0);

  // Pieces shorter than the total, then a whole message that does not decode.
  CHECK(!reassembler.receive("A", chunk(3, 0, 2, 9, head), 0));
  auto short_one = reassembler.receive("A", chunk(3, 1, 2, 9, tail), 0);
  REQUIRE(short_one);
  CHECK(short_one->error().message == "chunks hold 7 of the 9 bytes their message announced");
  CHECK(!reassembler.receive("A", chunk(4, 0, 2, 4, {1, 0x7f}), 0));
  auto nested = reassembler.receive("A", chunk(4, 1, 2, 4, {1, 2}), 0);
  REQUIRE(nested);
  CHECK(nested->error().reason == WireErrorReason::UnknownKind);

  // Chunk headers that cannot be right are refused as frames.
  CHECK(decode_frame(chunk(5, 2, 2, 10, {1})).error().message == "chunk: byte 4: chunk 2 of 2");
  CHECK(decode_frame(chunk(5, 0, 2, 1, {1})).error().message ==
        "chunk: byte 6: chunk piece of 1 bytes does not fit a message of 1 bytes in 2 chunks");
  CHECK(decode_frame(chunk(5, 0, 1, 10, {1})).error().reason == WireErrorReason::Malformed);
  CHECK(decode_frame(chunk(5, 0, 2, 1, {1})).error().reason == WireErrorReason::Malformed);
  CHECK(decode_frame(chunk(5, 0, 2, 10, {})).error().reason == WireErrorReason::Malformed);
  CHECK(reassembler.drops().rejected[static_cast<std::size_t>(WireErrorReason::Truncated)] == 1);
  CHECK(reassembler.drops().rejected[static_cast<std::size_t>(WireErrorReason::UnknownKind)] == 1);
  CHECK(to_string(reassembler.drops()) ==
        "rejected UnknownKind=1, rejected Truncated=1, conflicting_chunks=2");
}
