// Decodes canonical payloads for the replay loop: field values as numbers, strings as ids
// interned once per ledger, and the field layout ("shape") of each entry as a small id.
//
// The per-entry path (ReplayDecoder::decode on a known layout, StringIds::intern of a known
// string) is defined in this header so that it is inlined into the fetch loop; first sightings
// of layouts and strings go to the .cpp.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/entry.hpp"
#include "runtime/payload_arena.hpp"

namespace tally {

// The field layout of one kind of entry: its type, schema revision and its fields' names and
// kinds. Entries of one type at different revisions have different shapes, so the Lua side
// decides per shape (not per entry) whether an entry needs upcasting.
struct ReplayShape {
  std::uint16_t type_id;
  std::uint8_t revision;
  std::vector<std::string> fields;
  std::vector<ValueKind> kinds;
};

namespace replay_bytes {

static_assert(std::endian::native == std::endian::little, "Number values are read as stored");

inline std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline std::uint32_t load32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Byte equality for short runs: overlapping loads instead of a call.
inline bool same_bytes(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) {
  if (n > 16) return std::memcmp(a, b, n) == 0;
  if (n >= 8) return load64(a) == load64(b) && load64(a + n - 8) == load64(b + n - 8);
  if (n >= 4) return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
  return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

inline std::uint64_t read_varint(const std::uint8_t*& p) {
  std::uint64_t value = 0;
  for (int shift = 0;; shift += 7) {
    std::uint8_t b = *p++;
    value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return value;
  }
}

// The first 16 bytes of a string, zero-padded, read with a few loads instead of a loop.
inline void read_head(const std::uint8_t* p, std::size_t n, std::uint64_t head[2]) {
  if (n >= 16) {
    head[0] = load64(p);
    head[1] = load64(p + 8);
  } else if (n > 8) {
    head[0] = load64(p);
    head[1] = load64(p + n - 8) >> (8 * (16 - n));  // drops the bytes that overlap head[0]
  } else if (n == 8) {
    head[0] = load64(p);
    head[1] = 0;
  } else if (n >= 4) {
    head[0] = load32(p) | (std::uint64_t{load32(p + n - 4)} << (8 * (n - 4)));
    head[1] = 0;
  } else {
    head[0] = 0;
    for (std::size_t i = 0; i < n; ++i) head[0] |= std::uint64_t{p[i]} << (8 * i);
    head[1] = 0;
  }
}

}  // namespace replay_bytes

// Strings interned to ids 1, 2, ...: an open-addressing table whose slots hold the first 16
// bytes of their string, so a lookup reads one slot, allocates nothing and, for strings of up
// to 16 bytes (names, most values), compares two words.
class StringIds {
 public:
  StringIds();
  std::uint32_t intern(const std::uint8_t* bytes, std::size_t size) {
    std::uint64_t head[2];
    replay_bytes::read_head(bytes, size, head);
    std::size_t i = hash(head, bytes, size) & mask_;
    const Slot& slot = slots_[i];
    if (slot.id != 0 && slot.head[0] == head[0] && slot.head[1] == head[1] && slot.size == size && size <= 16) {
      return slot.id;
    }
    return probe(bytes, size, head, i);
  }
  std::size_t size() const { return texts_.size(); }
  // The text of id (1-based); valid while the table lives.
  std::string_view text(std::uint32_t id) const { return texts_[id - 1]; }

 private:
  // 32 bytes, aligned: a lookup touches one cache line.
  struct alignas(32) Slot {
    std::uint64_t head[2];  // the first 16 bytes, zero-padded
    std::uint32_t size;
    std::uint32_t id;       // 0: empty
  };
  std::uint64_t hash(const std::uint64_t head[2], const std::uint8_t* bytes, std::size_t size) const {
    if (size > 16) return long_hash(bytes, size);
    // Up to 16 bytes the head is the whole string: one 64x64->128-bit multiply mixes it.
    __extension__ using Wide = unsigned __int128;
    Wide product = static_cast<Wide>(head[0] ^ seed_) * (head[1] ^ size ^ 0x9e3779b97f4a7c15u);
    return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
  }
  std::uint64_t long_hash(const std::uint8_t* bytes, std::size_t size) const;
  // From slot i on: finds the string or adds it.
  std::uint32_t probe(const std::uint8_t* bytes, std::size_t size, const std::uint64_t head[2], std::size_t i);
  void grow();

  std::uint64_t seed_;            // random per table: collisions cannot be prepared in advance
  std::vector<Slot> slots_;       // a power of two; see grow() for the load
  std::size_t mask_;              // slots_.size() - 1
  std::vector<std::string_view> texts_;  // by id - 1, into arena_
  PayloadArena arena_;                   // string bytes; never moves them
};

class ReplayDecoder {
 public:
  // Decodes a payload that the ledger validated into `values` (one per field; strings as ids)
  // and returns its shape id (from 1), which tells the type, revision and field layout. Allocates only for a string or shape never seen before.
  // Forced inline (with decode_with): as calls, they cost about 2 of the ~20 ns per entry of
  // the fetch loop, which then keeps its state on the stack.
  [[gnu::always_inline]] std::uint16_t decode(std::uint16_t type_id, std::uint8_t revision,
                                              std::span<const std::uint8_t> payload, double* values) {
    // Most entries have the revision and layout of the previous entry of their type.
    if (type_id < layouts_.size()) {
      if (std::uint16_t shape = decode_with(layouts_[type_id], revision, payload, values)) return shape;
    }
    return decode_new_layout(type_id, revision, payload, values);
  }

  // Whether strings or shapes are waiting for take_new_strings / take_new_shapes.
  bool has_news() const { return strings_sent_ < strings_.size() || !new_shapes_.empty(); }
  // Strings interned since the last call, in id order.
  std::vector<std::string_view> take_new_strings();
  std::vector<std::pair<std::uint16_t, ReplayShape>> take_new_shapes();

 private:
  // One field header (name length, name, kind) of a layout: its first 16 bytes as two masked
  // words, so that a payload's header is checked with two loads.
  struct FieldHeader {
    std::uint64_t word[2];
    std::uint64_t mask[2];
    std::uint16_t offset;  // of the whole header in Layout::headers
    std::uint8_t size;
    ValueKind kind;
  };
  // The last shape seen for one entry type, so that the next entry of the type is matched by
  // comparing its field headers instead of looking its shape up.
  struct Layout {
    std::uint16_t shape_id = 0;
    // revision << 8 | field count, compared with the entry's in one go; no layout yet: 0xffff,
    // which no entry has (at most kMaxFields fields).
    std::uint16_t revision_and_count = 0xffff;
    std::uint8_t field_count = 0;
    std::vector<FieldHeader> fields;
    std::vector<std::uint8_t> headers;  // as they appear in the payload
  };

  // Decodes with `layout` and returns its shape id, or 0 when the payload's layout differs
  // (`values` may then be partly written).
  std::uint16_t decode_with(const Layout& layout, std::uint8_t revision, std::span<const std::uint8_t> payload,
                            double* values);
  // Finds (or makes) the shape of a payload whose revision or layout differs from its type's
  // last one.
  std::uint16_t decode_new_layout(std::uint16_t type_id, std::uint8_t revision, std::span<const std::uint8_t> payload,
                                  double* values);

  StringIds strings_;
  std::size_t strings_sent_ = 0;
  std::vector<Layout> layouts_;  // by type id
  std::unordered_map<std::string, std::uint16_t> shape_ids_;  // by type id + revision + field headers
  std::vector<std::pair<std::uint16_t, ReplayShape>> new_shapes_;
};

[[gnu::always_inline]] inline std::uint16_t ReplayDecoder::decode_with(const Layout& layout, std::uint8_t revision,
                                                                       std::span<const std::uint8_t> payload,
                                                                       double* values) {
  using namespace replay_bytes;
  const std::uint8_t* p = payload.data();
  const std::uint8_t* end = p + payload.size();
  if ((static_cast<unsigned>(revision) << 8 | *p++) != layout.revision_and_count) return 0;
  for (std::uint8_t f = 0; f < layout.field_count; ++f) {
    const FieldHeader& h = layout.fields[f];
    auto left = static_cast<std::size_t>(end - p);
    bool same;
    if (left >= 16) {
      // Reads past the header, but within the payload.
      std::uint64_t diff = ((load64(p) ^ h.word[0]) & h.mask[0]) | ((load64(p + 8) ^ h.word[1]) & h.mask[1]);
      same = diff == 0 &&
             (h.size <= 16 || (left >= h.size && std::memcmp(p + 16, layout.headers.data() + h.offset + 16, h.size - 16) == 0));
    } else {
      same = left >= h.size && same_bytes(p, layout.headers.data() + h.offset, h.size);
    }
    if (!same) return 0;
    p += h.size;
    switch (h.kind) {
      case ValueKind::Boolean: values[f] = *p++; break;
      case ValueKind::Integer: {
        std::uint64_t raw = *p < 0x80 ? *p++ : read_varint(p);
        values[f] = static_cast<double>(static_cast<std::int64_t>(raw >> 1) ^ -static_cast<std::int64_t>(raw & 1));
        break;
      }
      case ValueKind::Number: {
        double number;
        std::memcpy(&number, p, sizeof number);
        values[f] = number;
        p += 8;
        break;
      }
      case ValueKind::String: {
        std::uint64_t size = *p < 0x80 ? *p++ : read_varint(p);
        values[f] = strings_.intern(p, size);
        p += size;
        break;
      }
    }
  }
  return layout.shape_id;
}

}  // namespace tally
