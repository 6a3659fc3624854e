// Append-only storage for encoded payloads: fixed-size chunks, so growth never copies or doubles.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

namespace tally {

class PayloadArena {
 public:
  // 1 MiB chunks; a payload never straddles two (the tail of a chunk is skipped instead).
  static constexpr std::uint32_t kChunkShift = 20;
  static constexpr std::uint32_t kChunkSize = 1u << kChunkShift;

  // Copies bytes in and returns their offset. Offsets are 32-bit: 4 GiB of payloads at most.
  std::uint32_t append(std::span<const std::uint8_t> bytes) {
    if (bytes.size() > kChunkSize) throw std::length_error("payload larger than an arena chunk");
    std::uint64_t in_chunk = next_ & (kChunkSize - 1);
    if (in_chunk + bytes.size() > kChunkSize) next_ += kChunkSize - in_chunk;
    if ((next_ >> kChunkShift) >= chunks_.size()) {
      if (next_ + kChunkSize > (std::uint64_t{1} << 32)) {
        throw std::length_error("payload arena is full (4 GiB)");
      }
      chunks_.push_back(std::make_unique_for_overwrite<std::uint8_t[]>(kChunkSize));
    }
    auto offset = static_cast<std::uint32_t>(next_);
    if (!bytes.empty()) std::memcpy(at(offset), bytes.data(), bytes.size());
    next_ += bytes.size();
    used_ += bytes.size();
    return offset;
  }

  std::span<const std::uint8_t> get(std::uint32_t offset, std::uint32_t size) const {
    return {chunks_[offset >> kChunkShift].get() + (offset & (kChunkSize - 1)), size};
  }

  std::size_t used_bytes() const { return used_; }
  std::size_t reserved_bytes() const { return chunks_.size() * std::size_t{kChunkSize}; }

 private:
  std::uint8_t* at(std::uint32_t offset) {
    return chunks_[offset >> kChunkShift].get() + (offset & (kChunkSize - 1));
  }

  std::vector<std::unique_ptr<std::uint8_t[]>> chunks_;
  std::uint64_t next_ = 0;
  std::size_t used_ = 0;
};

}  // namespace tally
