// The replay state hash: the reference design's Adler-32 over applied keys (runtime/hashes.hpp),
// fed a batch of records at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "bindings/replay_batch.hpp"

namespace tally {

// Gives the same value as Adler32::feed_key over the same keys (timestamp, counter, realm when
// non-zero, creator; 4 big-endian bytes each). Adler32 reduces modulo 65521 after every number;
// here the sums run unreduced in 64 bits and are reduced once per run of keys, which gives the
// same residues (the sums are linear) at a fraction of the cost: feeding the 4 bytes x0..x3 of
// a number adds x0 + x1 + x2 + x3 to a and 4a + 4x0 + 3x1 + 2x2 + x3 to b.
class ReplayHash {
 public:
  // Per key, a grows by at most 16 * 255 and b by at most 16 * a + 40 * 255: with a reduce()
  // at least every kMaxUnreduced keys, both stay far below 2^64.
  static constexpr std::size_t kMaxUnreduced = 4096;

  void add(const ReplayRecord& r) {
    feed_u32(r.timestamp);
    feed_u32(r.counter);
    if (r.realm != 0) feed_u32(r.realm);
    feed_u32(r.creator);
    fed_ = true;
  }
  void reduce() {
    a_ %= kModulus;
    b_ %= kModulus;
  }
  void feed(const ReplayRecord* records, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      add(records[i]);
      if (i % kMaxUnreduced == kMaxUnreduced - 1) reduce();
    }
    reduce();
  }

  // b * 65536 + a; 0 over no keys, as the reference reports.
  std::uint32_t value() const { return fed_ ? static_cast<std::uint32_t>((b_ << 16) | a_) : 0; }

 private:
  static constexpr std::uint64_t kModulus = 65521;

  void feed_u32(std::uint32_t n) {
    std::uint64_t x0 = n >> 24, x1 = (n >> 16) & 0xff, x2 = (n >> 8) & 0xff, x3 = n & 0xff;
    b_ += 4 * a_ + 4 * x0 + 3 * x1 + 2 * x2 + x3;
    a_ += x0 + x1 + x2 + x3;
  }

  std::uint64_t a_ = 1;
  std::uint64_t b_ = 0;
  bool fed_ = false;
};

}  // namespace tally
