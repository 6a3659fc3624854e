// The reference-compatible Adler-32 over entry keys.
#include "runtime/hashes.hpp"

namespace tally {

namespace {
constexpr std::uint32_t kAdlerModulus = 65521;
}

// Bytes are summed unreduced and reduced once per number (as the reference does): at most 16
// bytes pass between reductions, far from overflowing 32 bits, and the result mod 65521 is the
// same as reducing after every byte.
void Adler32::feed_u32(std::uint32_t number) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    a_ += (number >> shift) & 0xff;
    b_ += a_;
  }
  a_ %= kAdlerModulus;
  b_ %= kAdlerModulus;
  fed_ = true;
}

void Adler32::feed_key(const EntryKey& key) {
  feed_u32(key.timestamp);
  feed_u32(key.counter);
  if (key.realm != 0) feed_u32(key.realm);
  feed_u32(key.creator);
}

std::uint32_t adler32_bytes(const std::uint8_t* data, std::size_t size) {
  std::uint32_t a = 1;
  std::uint32_t b = 0;
  for (std::size_t i = 0; i < size; ++i) {
    a = (a + data[i]) % kAdlerModulus;
    b = (b + a) % kAdlerModulus;
  }
  return (b << 16) | a;
}

}  // namespace tally
