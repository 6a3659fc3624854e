// libFuzzer target: check_payload and decode_payload on raw bytes agree, and decoding is canonical.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "runtime/entry.hpp"

using tally::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  const std::optional<std::string> error = tally::check_payload(bytes);
  std::optional<tally::Payload> decoded;
  try {
    decoded = tally::decode_payload(bytes);
  } catch (const tally::InvalidEntry&) {
  }
  require(error.has_value() != decoded.has_value(),
          "check_payload reports an error exactly when decode_payload throws");
  if (!decoded) return 0;

  // One payload has one encoding: whatever decodes must be that encoding.
  const std::vector<std::uint8_t> again = tally::encode_payload(*decoded);
  require(std::ranges::equal(again, bytes), "a decoded payload re-encodes to the same bytes");

  // And it is a payload the public API can build (set() validates and normalizes every field).
  tally::Payload rebuilt;
  for (const auto& [name, value] : decoded->fields()) rebuilt.set(name, value);
  require(rebuilt == *decoded, "a decoded payload is what Payload::set builds from its fields");
  return 0;
}
