// ReplayDecoder: payloads to numbers and string ids, with a per-type fast path for the layout.
#include "bindings/replay_decoder.hpp"

// Inlined: the library call costs more than the hash itself for short strings.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <random>
#include <stdexcept>

namespace tally {

using namespace replay_bytes;

namespace {

// Past one value of `kind` (the payload was validated).
const std::uint8_t* skip_value(ValueKind kind, const std::uint8_t* p) {
  switch (kind) {
    case ValueKind::Boolean: return p + 1;
    case ValueKind::Integer: read_varint(p); return p;
    case ValueKind::Number: return p + 8;
    case ValueKind::String: {
      std::uint64_t size = read_varint(p);
      return p + size;
    }
  }
  return p;
}

}  // namespace

StringIds::StringIds()
    : seed_((std::uint64_t{std::random_device{}()} << 32) | std::random_device{}()), slots_(64), mask_(63) {}

std::uint64_t StringIds::long_hash(const std::uint8_t* bytes, std::size_t size) const {
  return XXH3_64bits_withSeed(bytes, size, seed_);
}

std::uint32_t StringIds::probe(const std::uint8_t* bytes, std::size_t size, const std::uint64_t head[2], std::size_t i) {
  for (;; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.id == 0) break;
    if (slot.head[0] == head[0] && slot.head[1] == head[1] && slot.size == size &&
        (size <= 16 || std::memcmp(texts_[slot.id - 1].data() + 16, bytes + 16, size - 16) == 0)) {
      return slot.id;
    }
  }
  std::span<const std::uint8_t> kept = arena_.get(arena_.append({bytes, size}), static_cast<std::uint32_t>(size));
  texts_.emplace_back(reinterpret_cast<const char*>(kept.data()), size);
  auto id = static_cast<std::uint32_t>(texts_.size());
  slots_[i] = {{head[0], head[1]}, static_cast<std::uint32_t>(size), id};
  grow();
  return id;
}

void StringIds::grow() {
  // At most a quarter full while small (most lookups then decide on their first slot), half
  // full beyond 64K slots (2 MB), where memory matters more.
  std::size_t limit = slots_.size() < 65536 ? slots_.size() / 4 : slots_.size() / 2;
  if (texts_.size() <= limit) return;
  std::vector<Slot> slots(slots_.size() * 2);
  std::size_t mask = slots.size() - 1;
  for (const Slot& slot : slots_) {
    if (slot.id == 0) continue;
    std::string_view text = texts_[slot.id - 1];
    std::size_t i = hash(slot.head, reinterpret_cast<const std::uint8_t*>(text.data()), text.size()) & mask;
    while (slots[i].id != 0) i = (i + 1) & mask;
    slots[i] = slot;
  }
  slots_ = std::move(slots);
  mask_ = mask;
}

std::uint16_t ReplayDecoder::decode_new_layout(std::uint16_t type_id, std::uint8_t revision,
                                                std::span<const std::uint8_t> payload, double* values) {
  Layout layout;
  const std::uint8_t* p = payload.data();
  layout.field_count = *p++;
  layout.revision_and_count = static_cast<std::uint16_t>(revision << 8 | layout.field_count);
  ReplayShape shape{type_id, revision, {}, {}};
  for (std::uint8_t f = 0; f < layout.field_count; ++f) {
    std::uint8_t name_size = *p;
    auto kind = static_cast<ValueKind>(p[1 + name_size]);
    FieldHeader h{{0, 0}, {0, 0}, static_cast<std::uint16_t>(layout.headers.size()), static_cast<std::uint8_t>(name_size + 2), kind};
    for (std::size_t b = 0; b < h.size && b < 16; ++b) {
      h.word[b / 8] |= std::uint64_t{p[b]} << (8 * (b % 8));
      h.mask[b / 8] |= std::uint64_t{0xff} << (8 * (b % 8));
    }
    layout.headers.insert(layout.headers.end(), p, p + h.size);
    layout.fields.push_back(h);
    shape.fields.emplace_back(reinterpret_cast<const char*>(p + 1), name_size);
    shape.kinds.push_back(kind);
    p = skip_value(kind, p + h.size);
  }
  std::string signature(reinterpret_cast<const char*>(&type_id), sizeof type_id);
  signature.push_back(static_cast<char>(revision));
  signature.append(layout.headers.begin(), layout.headers.end());
  auto [it, added] = shape_ids_.try_emplace(std::move(signature), static_cast<std::uint16_t>(shape_ids_.size() + 1));
  if (added) {
    if (shape_ids_.size() > 0xffff) {
      shape_ids_.erase(it);
      throw std::length_error("more than 65535 entry shapes in one ledger");
    }
    new_shapes_.emplace_back(it->second, std::move(shape));
  }
  layout.shape_id = it->second;
  if (type_id >= layouts_.size()) layouts_.resize(type_id + 1u);
  layouts_[type_id] = std::move(layout);
  return decode_with(layouts_[type_id], revision, payload, values);
}

std::vector<std::string_view> ReplayDecoder::take_new_strings() {
  std::vector<std::string_view> out;
  for (std::size_t id = strings_sent_ + 1; id <= strings_.size(); ++id) out.push_back(strings_.text(static_cast<std::uint32_t>(id)));
  strings_sent_ = strings_.size();
  return out;
}

std::vector<std::pair<std::uint16_t, ReplayShape>> ReplayDecoder::take_new_shapes() {
  std::vector<std::pair<std::uint16_t, ReplayShape>> out;
  out.swap(new_shapes_);
  return out;
}

}  // namespace tally
