// Entry keys, payload rules, the canonical encoding and content hashes.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "runtime/entry.hpp"

using namespace tally;

TEST_CASE("keys order by timestamp, counter, realm, creator") {
  EntryKey a{100, 0, 0, 9};
  EntryKey b{100, 1, 0, 1};
  EntryKey c{100, 1, 2, 0};
  EntryKey d{101, 0, 0, 0};
  CHECK(a < b);
  CHECK(b < c);
  CHECK(c < d);
  CHECK(EntryKey{100, 1, 0, 1} == b);
  CHECK(week_of(0) == 1);
  CHECK(week_of(604799) == 1);
  CHECK(week_of(604800) == 2);
  CHECK(week_start(2) == 604800);
}

TEST_CASE("payload fields are sorted, replaced by name and normalized") {
  Payload p;
  p.set("zeta", std::string("z")).set("alpha", true).set("mid", 2.0).set("neg", -0.0);
  REQUIRE(p.size() == 4);
  CHECK(p.fields()[0].first == "alpha");
  CHECK(p.fields()[3].first == "zeta");
  CHECK(std::holds_alternative<std::int64_t>(*p.find("mid")));  // integral double -> integer
  CHECK(std::get<std::int64_t>(*p.find("neg")) == 0);
  p.set("mid", 2.5);
  CHECK(std::get<double>(*p.find("mid")) == 2.5);
  CHECK(p.size() == 4);
  CHECK(p.find("missing") == nullptr);
}

TEST_CASE("bad fields are refused with a message naming them") {
  Payload p;
  auto message = [&](auto&& fn) {
    try {
      fn();
    } catch (const InvalidEntry& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message([&] { p.set("1abc", true); }).find("\"1abc\" is not a name") != std::string::npos);
  CHECK(message([&] { p.set("", true); }).find("is not a name") != std::string::npos);
  CHECK(message([&] { p.set(std::string(33, 'a'), true); }).find("longer than 32") !=
        std::string::npos);
  CHECK(message([&] { p.set("x", std::nan("")); }).find("field 'x': number must be finite") !=
        std::string::npos);
  CHECK(message([&] { p.set("x", std::numeric_limits<double>::infinity()); })
            .find("finite") != std::string::npos);
  CHECK(message([&] { p.set("big", kMaxSafeInteger + 1); }).find("field 'big'") !=
        std::string::npos);
  CHECK(message([&] { p.set("s", std::string(256, 'x')); }).find("256 bytes exceeds 255") !=
        std::string::npos);
  CHECK(message([&] {
          Payload q;
          for (int i = 0; i < 33; ++i) q.set("f" + std::to_string(i), true);
        }).find("more than 32 fields") != std::string::npos);
  CHECK(message([&] { validate_type_name("has space"); }).find("entry type") != std::string::npos);
  CHECK(p.empty());
}

TEST_CASE("a payload over the byte limit cannot be encoded") {
  Payload p;
  for (int i = 0; i < 5; ++i) p.set("s" + std::to_string(i), std::string(250, 'x'));
  CHECK_THROWS_WITH_AS(encode_payload(p), doctest::Contains("more than 1024 bytes"), InvalidEntry);
}

TEST_CASE("encoding round-trips every value kind and is canonical") {
  Payload p;
  p.set("b", false).set("i", std::int64_t{-1234567}).set("n", 0.1).set("s", std::string("a\0b", 3));
  p.set("max", kMaxSafeInteger).set("min", -kMaxSafeInteger).set("t", true).set("e", std::string());
  auto bytes = encode_payload(p);
  CHECK(decode_payload(bytes) == p);
  CHECK_FALSE(check_payload(bytes).has_value());

  // Same fields set in another order: the same bytes.
  Payload q;
  q.set("e", std::string()).set("t", true).set("min", -kMaxSafeInteger).set("max", kMaxSafeInteger);
  q.set("s", std::string("a\0b", 3)).set("n", 0.1).set("i", std::int64_t{-1234567}).set("b", false);
  CHECK(encode_payload(q) == bytes);
}

TEST_CASE("malformed encodings are refused with the byte offset") {
  Payload p;
  p.set("a", std::int64_t{5}).set("b", std::string("hi"));
  auto good = encode_payload(p);

  auto err = [](std::vector<std::uint8_t> bytes) {
    auto e = check_payload(bytes);
    return e ? *e : std::string("valid");
  };
  CHECK(err({}).find("missing field count") != std::string::npos);
  auto truncated = good;
  truncated.pop_back();
  CHECK(err(truncated).find("bad string length") != std::string::npos);
  auto trailing = good;
  trailing.push_back(0);
  CHECK(err(trailing).find("trailing bytes") != std::string::npos);
  auto bad_kind = good;
  bad_kind[3] = 9;  // kind byte of field "a"
  CHECK(err(bad_kind).find("unknown value kind 9") != std::string::npos);
  // Fields out of order: swap the names.
  auto unordered = good;
  unordered[2] = 'c';
  CHECK(err(unordered).find("strict name order") != std::string::npos);
  // An integral number stored as a double is not canonical.
  std::vector<std::uint8_t> integral_double = {1, 1, 'x', 3, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
  CHECK(err(integral_double).find("non-canonical number") != std::string::npos);
  // Overlong varint.
  std::vector<std::uint8_t> overlong = {1, 1, 'x', 2, 0x80, 0x00};
  CHECK(err(overlong).find("bad integer") != std::string::npos);
  // A ten-byte varint whose last byte has bits past bit 63: they would be dropped, decoding to 0
  // (found by fuzz_payload: it re-encoded to other bytes).
  std::vector<std::uint8_t> overflowing = {1, 1, 'x', 2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20};
  CHECK(err(overflowing).find("bad integer") != std::string::npos);
  CHECK_THROWS_WITH_AS(decode_payload(trailing), doctest::Contains("payload byte"), InvalidEntry);
}

TEST_CASE("content hash covers key, type, revision and payload") {
  Entry e{{1700000000, 1, 0, 42}, "award", 1, {}};
  e.payload.set("player", std::string("Alice")).set("amount", std::int64_t{10});
  std::uint64_t h = content_hash(e);
  CHECK(h == content_hash(e));
  Entry other = e;
  other.payload.set("amount", std::int64_t{11});
  CHECK(content_hash(other) != h);
  other = e;
  other.type = "spend";
  CHECK(content_hash(other) != h);
  other = e;
  other.revision = 2;
  CHECK(content_hash(other) != h);
  other = e;
  other.key.realm = 1;
  CHECK(content_hash(other) != h);
}
