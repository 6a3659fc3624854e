// Ledger entries: their key and total order, typed payload fields, canonical encoding and content hash.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tally {

// ---------------------------------------------------------------------------------------------
// Limits. Entries travel in 255-byte addon messages, so they are kept small.

inline constexpr std::size_t kMaxTypeNameLength = 32;
inline constexpr std::size_t kMaxFieldNameLength = 32;
inline constexpr std::size_t kMaxFields = 32;
inline constexpr std::size_t kMaxStringLength = 255;
inline constexpr std::size_t kMaxPayloadBytes = 1024;
// Integers are exact in a Lua number (a double) only up to 2^53.
inline constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53);

// Thrown when an entry, a field or an encoded payload is malformed. The message names the
// problem and the place (field name, byte offset).
class InvalidEntry : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------------------------
// The key: identifies an entry and gives the total order of the ledger.

struct EntryKey {
  std::uint32_t timestamp = 0;  // server Unix seconds
  std::uint8_t counter = 0;     // disambiguates entries of one creator within one second
  std::uint16_t realm = 0;      // 0 when unused
  std::uint32_t creator = 0;    // player id

  // The reference design's order: timestamp, counter, realm, creator.
  friend constexpr auto operator<=>(const EntryKey& a, const EntryKey& b) {
    if (auto c = a.timestamp <=> b.timestamp; c != 0) return c;
    if (auto c = a.counter <=> b.counter; c != 0) return c;
    if (auto c = a.realm <=> b.realm; c != 0) return c;
    return a.creator <=> b.creator;
  }
  friend constexpr bool operator==(const EntryKey&, const EntryKey&) = default;
};

// The Unix week of a timestamp, as the reference design numbers them (1-based).
constexpr std::uint32_t week_of(std::uint32_t timestamp) { return 1 + timestamp / 604800; }
constexpr std::uint32_t week_start(std::uint32_t week) { return (week - 1) * 604800; }

std::string to_string(const EntryKey& key);

// ---------------------------------------------------------------------------------------------
// Payload: a small set of named fields with scalar values.

enum class ValueKind : std::uint8_t { Boolean = 1, Integer = 2, Number = 3, String = 4 };

using Value = std::variant<bool, std::int64_t, double, std::string>;

std::string_view kind_name(ValueKind kind);
ValueKind kind_of(const Value& value);

// Fields sorted by name, names unique; the only shape a Payload can have.
class Payload {
 public:
  Payload() = default;

  // Sets a field, replacing an existing one of that name. Doubles with an integral value
  // within the safe range become integers (Lua cannot tell them apart, so neither do we).
  // Throws InvalidEntry on a bad name, a non-finite number, an unsafe integer or a long string.
  Payload& set(std::string_view name, Value value);

  const Value* find(std::string_view name) const;
  const std::vector<std::pair<std::string, Value>>& fields() const { return fields_; }
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

  friend bool operator==(const Payload&, const Payload&) = default;

 private:
  std::vector<std::pair<std::string, Value>> fields_;
};

// ---------------------------------------------------------------------------------------------
// A whole entry, owning its data: what callers build and what lookups return.

struct Entry {
  EntryKey key;
  std::string type;            // short name such as "award"; interned by the ledger
  std::uint8_t revision = 1;   // schema revision of the type, for upcasters
  Payload payload;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// Throws InvalidEntry naming the problem when the type name or payload is not acceptable.
void validate_type_name(std::string_view type);
void validate_field_name(std::string_view name);

// ---------------------------------------------------------------------------------------------
// Canonical encoding: the byte form of a payload used in memory, in the journal and in hashes.
//
//   u8 field count, then per field in name order:
//   u8 name length, name bytes, u8 kind, value
//   value: Boolean u8 0/1 | Integer zigzag varint | Number 8 bytes IEEE-754 little-endian |
//          String varint length + bytes
//
// One payload has exactly one encoding, so equal payloads give equal bytes and hashes.

std::vector<std::uint8_t> encode_payload(const Payload& payload);
void encode_payload_into(const Payload& payload, std::vector<std::uint8_t>& out);

// Decodes and fully validates (order, uniqueness, limits, canonical form). Throws InvalidEntry
// naming the byte offset and the problem.
Payload decode_payload(std::span<const std::uint8_t> bytes);

// Checks an encoded payload without building it; returns the error text, or nothing if valid.
std::optional<std::string> check_payload(std::span<const std::uint8_t> bytes);

// ---------------------------------------------------------------------------------------------
// Content hash: 64-bit XXH3 over key, type name, revision and encoded payload. Two entries with
// the same key but different content have (almost surely) different content hashes; the type
// name, not a local interned id, goes in, so every client computes the same value.

std::uint64_t content_hash(const EntryKey& key, std::string_view type, std::uint8_t revision,
                           std::span<const std::uint8_t> encoded_payload);
std::uint64_t content_hash(const Entry& entry);

}  // namespace tally
