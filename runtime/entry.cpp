// Entry keys, payload validation, the canonical payload encoding and content hashes.
#include "runtime/entry.hpp"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace tally {

std::string to_string(const EntryKey& key) {
  return "(ts=" + std::to_string(key.timestamp) + ", counter=" + std::to_string(key.counter) +
         ", realm=" + std::to_string(key.realm) + ", creator=" + std::to_string(key.creator) + ")";
}

std::string_view kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::Boolean: return "boolean";
    case ValueKind::Integer: return "integer";
    case ValueKind::Number: return "number";
    case ValueKind::String: return "string";
  }
  return "unknown";
}

ValueKind kind_of(const Value& value) {
  return static_cast<ValueKind>(value.index() + 1);
}

// ------------------------------------------------------------------------------------------
// Names and values

namespace {

bool is_identifier(std::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!alpha(s[0])) return false;
  return std::all_of(s.begin() + 1, s.end(), [&](char c) { return alpha(c) || digit(c); });
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 40)) {
    auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (s.size() > 40) out += "...";
  return out + "\"";
}

// Normalizes a value in place; throws naming the field on a value no client could agree on.
void normalize_value(std::string_view field, Value& value) {
  if (auto* d = std::get_if<double>(&value)) {
    if (!std::isfinite(*d)) {
      throw InvalidEntry("field '" + std::string(field) + "': number must be finite");
    }
    if (std::trunc(*d) == *d && std::fabs(*d) <= static_cast<double>(kMaxSafeInteger)) {
      value = static_cast<std::int64_t>(*d);  // also folds -0.0 into 0
    }
  } else if (auto* i = std::get_if<std::int64_t>(&value)) {
    if (*i > kMaxSafeInteger || *i < -kMaxSafeInteger) {
      throw InvalidEntry("field '" + std::string(field) + "': integer " + std::to_string(*i) +
                         " is outside the safe range +-2^53");
    }
  } else if (auto* s = std::get_if<std::string>(&value)) {
    if (s->size() > kMaxStringLength) {
      throw InvalidEntry("field '" + std::string(field) + "': string of " +
                         std::to_string(s->size()) + " bytes exceeds " +
                         std::to_string(kMaxStringLength));
    }
  }
}

}  // namespace

void validate_type_name(std::string_view type) {
  if (type.size() > kMaxTypeNameLength) {
    throw InvalidEntry("entry type " + quoted(type) + " is longer than " +
                       std::to_string(kMaxTypeNameLength) + " bytes");
  }
  if (!is_identifier(type)) {
    throw InvalidEntry("entry type " + quoted(type) +
                       " is not a name (letters, digits, '_', not starting with a digit)");
  }
}

void validate_field_name(std::string_view name) {
  if (name.size() > kMaxFieldNameLength) {
    throw InvalidEntry("field name " + quoted(name) + " is longer than " +
                       std::to_string(kMaxFieldNameLength) + " bytes");
  }
  if (!is_identifier(name)) {
    throw InvalidEntry("field name " + quoted(name) +
                       " is not a name (letters, digits, '_', not starting with a digit)");
  }
}

Payload& Payload::set(std::string_view name, Value value) {
  validate_field_name(name);
  normalize_value(name, value);
  auto it = std::lower_bound(fields_.begin(), fields_.end(), name,
                             [](const auto& field, std::string_view n) { return field.first < n; });
  if (it != fields_.end() && it->first == name) {
    it->second = std::move(value);
    return *this;
  }
  if (fields_.size() >= kMaxFields) {
    throw InvalidEntry("payload has more than " + std::to_string(kMaxFields) + " fields");
  }
  fields_.emplace(it, std::string(name), std::move(value));
  return *this;
}

const Value* Payload::find(std::string_view name) const {
  auto it = std::lower_bound(fields_.begin(), fields_.end(), name,
                             [](const auto& field, std::string_view n) { return field.first < n; });
  return (it != fields_.end() && it->first == name) ? &it->second : nullptr;
}

// ------------------------------------------------------------------------------------------
// Encoding

namespace {

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Reads the canonical encoding, checking every rule; with `out` null it only validates.
class PayloadReader {
 public:
  explicit PayloadReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  // Returns an error text or nothing.
  std::optional<std::string> read(Payload* out) {
    if (bytes_.size() > kMaxPayloadBytes) {
      return "payload of " + std::to_string(bytes_.size()) + " bytes exceeds " +
             std::to_string(kMaxPayloadBytes);
    }
    std::uint8_t count = 0;
    if (!byte(count)) return fail("missing field count");
    if (count > kMaxFields) return fail("field count " + std::to_string(count) + " exceeds limit");
    std::string_view previous;
    for (unsigned i = 0; i < count; ++i) {
      std::uint8_t name_len = 0;
      if (!byte(name_len)) return fail("truncated field name length");
      if (name_len == 0 || name_len > kMaxFieldNameLength) return fail("bad field name length");
      if (pos_ + name_len > bytes_.size()) return fail("truncated field name");
      std::string_view name(reinterpret_cast<const char*>(bytes_.data() + pos_), name_len);
      pos_ += name_len;
      if (!is_identifier(name)) return fail("field name " + quoted(name) + " is not a name");
      if (i > 0 && !(previous < name)) return fail("fields not in strict name order");
      previous = name;
      std::uint8_t kind = 0;
      if (!byte(kind)) return fail("truncated value kind");
      Value value;
      if (auto err = read_value(kind, name, value)) return err;
      if (out != nullptr) out->set(name, std::move(value));
    }
    if (pos_ != bytes_.size()) return fail("trailing bytes after the last field");
    return std::nullopt;
  }

 private:
  std::optional<std::string> read_value(std::uint8_t kind, std::string_view name, Value& value) {
    switch (static_cast<ValueKind>(kind)) {
      case ValueKind::Boolean: {
        std::uint8_t b = 0;
        if (!byte(b) || b > 1) return fail("bad boolean in field '" + std::string(name) + "'");
        value = b == 1;
        return std::nullopt;
      }
      case ValueKind::Integer: {
        std::uint64_t raw = 0;
        if (!varint(raw)) return fail("bad integer in field '" + std::string(name) + "'");
        std::int64_t v = unzigzag(raw);
        if (v > kMaxSafeInteger || v < -kMaxSafeInteger) {
          return fail("integer out of range in field '" + std::string(name) + "'");
        }
        value = v;
        return std::nullopt;
      }
      case ValueKind::Number: {
        if (pos_ + 8 > bytes_.size()) return fail("truncated number in '" + std::string(name) + "'");
        std::uint64_t bits = 0;
        for (int i = 7; i >= 0; --i) bits = (bits << 8) | bytes_[pos_ + static_cast<size_t>(i)];
        pos_ += 8;
        double d = std::bit_cast<double>(bits);
        bool integral = std::trunc(d) == d && std::fabs(d) <= static_cast<double>(kMaxSafeInteger);
        if (!std::isfinite(d) || integral) {
          return fail("non-canonical number in field '" + std::string(name) + "'");
        }
        value = d;
        return std::nullopt;
      }
      case ValueKind::String: {
        std::uint64_t len = 0;
        if (!varint(len) || len > kMaxStringLength || pos_ + len > bytes_.size()) {
          return fail("bad string length in field '" + std::string(name) + "'");
        }
        value = std::string(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
        pos_ += len;
        return std::nullopt;
      }
    }
    return fail("unknown value kind " + std::to_string(kind) + " in field '" + std::string(name) +
                "'");
  }

  bool byte(std::uint8_t& b) {
    if (pos_ >= bytes_.size()) return false;
    b = bytes_[pos_++];
    return true;
  }

  // Minimal-length varints only, so each value has one encoding.
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b = 0;
      if (!byte(b)) return false;
      // The tenth byte holds bit 63 only: more would be dropped, giving a second encoding.
      if (shift == 63 && b > 1) return false;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return !(b == 0 && shift > 0);
    }
    return false;
  }

  std::string fail(const std::string& what) const {
    return "payload byte " + std::to_string(pos_) + ": " + what;
  }

  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

}  // namespace

void encode_payload_into(const Payload& payload, std::vector<std::uint8_t>& out) {
  std::size_t start = out.size();
  out.push_back(static_cast<std::uint8_t>(payload.size()));
  for (const auto& [name, value] : payload.fields()) {
    out.push_back(static_cast<std::uint8_t>(name.size()));
    out.insert(out.end(), name.begin(), name.end());
    out.push_back(static_cast<std::uint8_t>(kind_of(value)));
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) {
            out.push_back(v ? 1 : 0);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            put_varint(out, zigzag(v));
          } else if constexpr (std::is_same_v<T, double>) {
            auto bits = std::bit_cast<std::uint64_t>(v);
            for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
          } else {
            put_varint(out, v.size());
            out.insert(out.end(), v.begin(), v.end());
          }
        },
        value);
  }
  if (out.size() - start > kMaxPayloadBytes) {
    out.resize(start);
    throw InvalidEntry("payload encodes to more than " + std::to_string(kMaxPayloadBytes) +
                       " bytes");
  }
}

std::vector<std::uint8_t> encode_payload(const Payload& payload) {
  std::vector<std::uint8_t> out;
  encode_payload_into(payload, out);
  return out;
}

Payload decode_payload(std::span<const std::uint8_t> bytes) {
  Payload payload;
  if (auto err = PayloadReader(bytes).read(&payload)) throw InvalidEntry(*err);
  return payload;
}

std::optional<std::string> check_payload(std::span<const std::uint8_t> bytes) {
  return PayloadReader(bytes).read(nullptr);
}

// ------------------------------------------------------------------------------------------
// Content hash

std::uint64_t content_hash(const EntryKey& key, std::string_view type, std::uint8_t revision,
                           std::span<const std::uint8_t> encoded_payload) {
  // Fixed-width big-endian key, then length-prefixed type, revision and payload, hashed in one
  // call from one buffer (the streaming API costs several times more for inputs this small).
  std::uint8_t buf[12 + 1 + kMaxTypeNameLength + 1 + kMaxPayloadBytes];
  std::size_t n = 0;
  auto be = [&](std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) buf[n++] = static_cast<std::uint8_t>(v >> (8 * i));
  };
  be(key.timestamp, 4);
  be(key.counter, 1);
  be(key.realm, 2);
  be(key.creator, 4);
  std::size_t type_len = std::min(type.size(), kMaxTypeNameLength);
  buf[n++] = static_cast<std::uint8_t>(type_len);
  std::memcpy(buf + n, type.data(), type_len);
  n += type_len;
  buf[n++] = revision;
  std::size_t payload_len = std::min(encoded_payload.size(), kMaxPayloadBytes);
  std::memcpy(buf + n, encoded_payload.data(), payload_len);
  n += payload_len;
  return XXH3_64bits(buf, n);
}

std::uint64_t content_hash(const Entry& entry) {
  auto bytes = encode_payload(entry.payload);
  return content_hash(entry.key, entry.type, entry.revision, bytes);
}

}  // namespace tally
