// State hashes: the reference design's Adler-32 over entry keys, and Tally's content fingerprint.
#pragma once

#include <cstdint>

#include "runtime/entry.hpp"

namespace tally {

// The reference design's running Adler-32. Each key number is fed as 4 big-endian bytes in the
// order timestamp, counter, realm (only when non-zero, so realm-less ledgers hash exactly as the
// reference does), creator. Bit-compatible with zlib's adler32 over those bytes.
class Adler32 {
 public:
  void feed_u32(std::uint32_t number);
  void feed_key(const EntryKey& key);

  // b * 65536 + a. The reference reports 0, not 1, for a hash over no entries.
  std::uint32_t value() const { return fed_ ? (b_ << 16) | a_ : 0; }

 private:
  std::uint32_t a_ = 1;
  std::uint32_t b_ = 0;
  bool fed_ = false;
};

// Adler-32 of any byte string, zlib's definition (used to check the key feed above).
std::uint32_t adler32_bytes(const std::uint8_t* data, std::size_t size);

// An order-independent fingerprint of a set of entries: the count and the wrapping sum of their
// content hashes. Two sets with equal keys but one different content differ in `sum`; sets can
// be combined and split (subtraction) so ranges are maintained incrementally.
struct Fingerprint {
  std::uint64_t count = 0;
  std::uint64_t sum = 0;

  void add(std::uint64_t content_hash) {
    ++count;
    sum += content_hash;
  }
  void remove(std::uint64_t content_hash) {
    --count;
    sum -= content_hash;
  }
  Fingerprint& operator+=(const Fingerprint& o) {
    count += o.count;
    sum += o.sum;
    return *this;
  }
  friend bool operator==(const Fingerprint&, const Fingerprint&) = default;
};

}  // namespace tally
