// Adler-32 compatibility with the reference design, and content fingerprints.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "runtime/hashes.hpp"

using namespace tally;

TEST_CASE("adler32 of bytes matches zlib's published values") {
  const std::string wiki = "Wikipedia";
  CHECK(adler32_bytes(reinterpret_cast<const std::uint8_t*>(wiki.data()), wiki.size()) ==
        0x11E60398u);
  CHECK(adler32_bytes(nullptr, 0) == 1u);
  // Long run of 0xff bytes: exercises the modulus many times.
  std::vector<std::uint8_t> ff(100000, 0xff);
  // Reference value computed with byte-by-byte reduction, independently below.
  std::uint32_t a = 1, b = 0;
  for (auto byte : ff) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  CHECK(adler32_bytes(ff.data(), ff.size()) == ((b << 16) | a));
}

TEST_CASE("key feed equals adler32 over the big-endian bytes of each number") {
  EntryKey key{1700000000, 3, 0, 0xDEADBEEF};
  Adler32 h;
  h.feed_key(key);
  std::uint8_t bytes[] = {0x65, 0x53, 0xF1, 0x00, 0, 0, 0, 3, 0xDE, 0xAD, 0xBE, 0xEF};
  CHECK(h.value() == adler32_bytes(bytes, sizeof bytes));

  // A realm is fed between counter and creator only when it is used.
  EntryKey with_realm{1700000000, 3, 7, 0xDEADBEEF};
  Adler32 r;
  r.feed_key(with_realm);
  std::uint8_t realm_bytes[] = {0x65, 0x53, 0xF1, 0x00, 0, 0, 0, 3, 0, 0, 0, 7, 0xDE, 0xAD, 0xBE, 0xEF};
  CHECK(r.value() == adler32_bytes(realm_bytes, sizeof realm_bytes));
}

TEST_CASE("an empty feed hashes to 0 as in the reference") {
  CHECK(Adler32{}.value() == 0u);
}

// tests/data/reference_adler_vectors.txt is produced by tests/lua/reference_adler.lua, a
// re-statement of the reference library's integer checksum coroutine run under LuaJIT (ctest
// regenerates and compares it). Each line: timestamp counter creator ... = expected hash.
TEST_CASE("state hashes equal the reference library's for recorded vectors") {
  std::ifstream in(std::string(TALLY_TEST_DATA_DIR) + "/reference_adler_vectors.txt");
  REQUIRE(in.good());
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    REQUIRE(eq != std::string::npos);
    std::istringstream numbers(line.substr(0, eq));
    std::uint32_t expected = static_cast<std::uint32_t>(std::stoul(line.substr(eq + 1)));
    Adler32 h;
    std::uint32_t ts = 0, counter = 0, creator = 0;
    while (numbers >> ts >> counter >> creator) h.feed_key(EntryKey{ts, static_cast<std::uint8_t>(counter), 0, creator});
    CHECK_MESSAGE(h.value() == expected, line);
    ++cases;
  }
  CHECK(cases >= 10);
}

TEST_CASE("fingerprints are order independent and see content") {
  Fingerprint a, b;
  a.add(1);
  a.add(0xFFFFFFFFFFFFFFFFull);
  a.add(77);
  b.add(77);
  b.add(0xFFFFFFFFFFFFFFFFull);
  b.add(1);
  CHECK(a == b);
  b.remove(77);
  b.add(78);
  CHECK_FALSE(a == b);
  Fingerprint c;
  c.add(5);
  Fingerprint d = c;
  d += a;
  d.remove(5);
  CHECK(d == a);
}
