// Sync messages and their byte encoding: the wire primitives (varints, a bounds-checked reader),
// the message kinds of the reference and tally protocols, and compact entry and key lists.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/entry.hpp"

namespace tally {

// ---------------------------------------------------------------------------------------------
// Errors. Decoding never throws: it returns a WireError naming the reason, the field and the
// byte offset.

enum class WireErrorReason : std::uint8_t {
  UnknownVersion,  // a version this build does not read
  UnknownKind,     // a kind byte this version does not define
  Malformed,       // bytes that no encoder writes: bad flags, order, ranges, trailing bytes
  Truncated,       // the data ends inside a field, or a count needs more bytes than remain
  Oversized,       // a length over a fixed limit (payload, frame)
  InvalidEntry,    // an entry the ledger would refuse (type name, payload)
};
inline constexpr std::size_t kWireErrorReasonCount = 6;
std::string_view reason_name(WireErrorReason reason);

struct WireError {
  WireErrorReason reason = WireErrorReason::Malformed;
  std::string message;
};

// A decoded value or the error that stopped decoding.
template <typename T>
class WireResult {
 public:
  WireResult(T value) : v_(std::move(value)) {}
  WireResult(WireError error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  const WireError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, WireError> v_;
};

// ---------------------------------------------------------------------------------------------
// Primitives. Integers are LEB128 varints (minimal length) unless a field is written fixed-width
// little-endian because its values are uniformly spread (hashes, nonces, absolute times).

class WireWriter {
 public:
  void u8(std::uint8_t v) { bytes_.push_back(v); }
  void fixed16(std::uint16_t v) { fixed(v, 2); }
  void fixed32(std::uint32_t v) { fixed(v, 4); }
  void fixed64(std::uint64_t v) { fixed(v, 8); }
  void varint(std::uint64_t v);
  void zigzag(std::int64_t v);
  void raw(std::span<const std::uint8_t> bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  }
  void raw(std::string_view bytes) { bytes_.insert(bytes_.end(), bytes.begin(), bytes.end()); }
  // Varint length, then the bytes.
  void bytes(std::span<const std::uint8_t> bytes);

  std::size_t size() const { return bytes_.size(); }
  const std::vector<std::uint8_t>& data() const { return bytes_; }
  std::vector<std::uint8_t> take() { return std::move(bytes_); }

 private:
  void fixed(std::uint64_t v, int width);
  std::vector<std::uint8_t> bytes_;
};

std::size_t varint_size(std::uint64_t v);
std::uint64_t zigzag_encode(std::int64_t v);
std::int64_t zigzag_decode(std::uint64_t v);

// Reads fields in order and never past the end. The first failure sticks: it records a
// WireError naming the field and its offset, and every later read returns zero or empty, so a
// decoder checks ok() once at the end (loops stay bounded: count() returns 0 after a failure).
class WireReader {
 public:
  // `base_offset` is added to offsets in messages, for bytes that sit inside a larger message.
  explicit WireReader(std::span<const std::uint8_t> bytes, std::size_t base_offset = 0)
      : bytes_(bytes), base_(base_offset) {}

  std::uint8_t u8(std::string_view field);
  std::uint16_t fixed16(std::string_view field) {
    return static_cast<std::uint16_t>(fixed(field, 2));
  }
  std::uint32_t fixed32(std::string_view field) {
    return static_cast<std::uint32_t>(fixed(field, 4));
  }
  std::uint64_t fixed64(std::string_view field) { return fixed(field, 8); }
  // A minimal-length varint no larger than `max` (Malformed otherwise).
  std::uint64_t varint(std::string_view field, std::uint64_t max = UINT64_MAX);
  std::uint32_t varint32(std::string_view field) {
    return static_cast<std::uint32_t>(varint(field, UINT32_MAX));
  }
  // A zigzag varint of magnitude at most `max_magnitude` (Malformed otherwise).
  std::int64_t zigzag(std::string_view field, std::uint64_t max_magnitude);
  // Exactly `n` bytes.
  std::span<const std::uint8_t> raw(std::string_view field, std::size_t n);
  // A varint length of at most `max_length` (Oversized otherwise), then the bytes.
  std::span<const std::uint8_t> bytes(std::string_view field, std::size_t max_length);
  // An item count, capped by the bytes left: each item takes at least `min_item_bytes`, so a
  // count that cannot fit is Truncated before anything is allocated for it.
  std::size_t count(std::string_view field, std::size_t min_item_bytes);
  // Malformed unless every byte was read.
  void expect_end(std::string_view what);

  // Records a failure at the current offset (only the first one is kept).
  void fail(WireErrorReason reason, std::string_view what);

  bool ok() const { return !error_; }
  const std::optional<WireError>& error() const { return error_; }
  std::size_t offset() const { return base_ + pos_; }
  std::size_t remaining() const { return bytes_.size() - pos_; }

 private:
  std::uint64_t fixed(std::string_view field, int width);
  bool need(std::string_view field, std::size_t n);

  std::span<const std::uint8_t> bytes_;
  std::size_t base_ = 0;
  std::size_t pos_ = 0;
  std::optional<WireError> error_;
};

// ---------------------------------------------------------------------------------------------
// Messages. Every encoded message starts with the version byte and the kind byte; neither is
// ever 0, which lets the frame layer keep them readable in front of its escaped body.

inline constexpr std::uint8_t kWireVersion = 1;

enum class MessageKind : std::uint8_t {
  RefAdvert = 1,
  RefRequest = 2,
  RefWeek = 3,
  Advert = 4,
  Ranges = 5,
  Need = 6,
  Entries = 7,
  Claim = 8,
};
std::string_view kind_name(MessageKind kind);

// The reference protocol: weekly Adler-32 adverts, week requests and whole weeks.
struct RefAdvertWeek {
  std::uint32_t week = 0;
  std::uint32_t adler = 0;
  std::uint32_t count = 0;
  friend bool operator==(const RefAdvertWeek&, const RefAdvertWeek&) = default;
};
struct RefAdvert {
  std::vector<RefAdvertWeek> weeks;
  friend bool operator==(const RefAdvert&, const RefAdvert&) = default;
};
struct RefRequest {
  std::uint32_t week = 0;
  friend bool operator==(const RefRequest&, const RefRequest&) = default;
};
struct RefWeek {
  std::uint32_t week = 0;
  std::vector<Entry> entries;  // strictly ascending keys
  friend bool operator==(const RefWeek&, const RefWeek&) = default;
};

// The tally protocol: a whole-ledger advert, range reconciliation, requests and entries.
struct Advert {
  std::uint64_t count = 0;
  std::uint64_t fingerprint = 0;
  std::uint32_t newest_timestamp = 0;
  std::uint32_t adler = 0;
  std::uint16_t capabilities = 0;
  friend bool operator==(const Advert&, const Advert&) = default;
};

// The low 32 bits of an entry's content hash: enough to tell two contents of one key apart.
constexpr std::uint32_t content_tag(std::uint64_t content_hash) {
  return static_cast<std::uint32_t>(content_hash);
}

struct RangeSkip {  // the range is known to be equal on both sides
  friend bool operator==(const RangeSkip&, const RangeSkip&) = default;
};
struct RangeFingerprint {
  std::uint32_t count = 0;
  std::uint64_t fingerprint = 0;
  friend bool operator==(const RangeFingerprint&, const RangeFingerprint&) = default;
};
struct RangeId {
  EntryKey key;
  std::uint32_t content_tag = 0;
  friend bool operator==(const RangeId&, const RangeId&) = default;
};
struct RangeIds {
  std::vector<RangeId> ids;  // strictly ascending keys, all inside the item's range
  friend bool operator==(const RangeIds&, const RangeIds&) = default;
};
// One range [previous bound, upper): the previous item's upper bound, or Ranges::lower.
struct RangeItem {
  std::optional<EntryKey> upper;  // exclusive; nothing means the end of the ledger
  std::variant<RangeSkip, RangeFingerprint, RangeIds> content;
  friend bool operator==(const RangeItem&, const RangeItem&) = default;
};
struct Ranges {
  std::uint32_t session = 0;
  EntryKey lower;
  std::vector<RangeItem> items;  // bounds strictly ascending; only the last may be the end
  friend bool operator==(const Ranges&, const Ranges&) = default;
};

struct Need {
  std::uint32_t session = 0;
  std::vector<EntryKey> keys;  // strictly ascending
  friend bool operator==(const Need&, const Need&) = default;
};
struct Entries {
  std::uint32_t session = 0;   // 0: an unsolicited push of new entries
  std::vector<Entry> entries;  // strictly ascending keys
  friend bool operator==(const Entries&, const Entries&) = default;
};
struct Claim {
  std::uint32_t session = 0;
  std::uint32_t responder_nonce = 0;
  friend bool operator==(const Claim&, const Claim&) = default;
};

// Alternatives in MessageKind order: kind byte = index + 1.
using SyncMessage =
    std::variant<RefAdvert, RefRequest, RefWeek, Advert, Ranges, Need, Entries, Claim>;
MessageKind kind_of(const SyncMessage& message);
constexpr bool is_message_kind(std::uint8_t kind) {
  return kind >= 1 && kind <= std::variant_size_v<SyncMessage>;
}

// ---------------------------------------------------------------------------------------------
// Encoding.
//
// Layout after the version and kind bytes ("v" varint, "f" fixed little-endian):
//   RefAdvert  v n, n x (week: v first / zigzag delta after, f32 adler, v count)
//   RefRequest v week
//   RefWeek    v week, entry list
//   Advert     v count, f64 fingerprint, f32 newest timestamp, f32 adler, v capabilities
//   Ranges     v session, key lower, v n, n x (u8 tag, content, key upper unless the end)
//              tag: bits 0-1 content (0 skip, 1 fingerprint, 2 ids), bit 2 upper is the end
//              content: fingerprint v count, f64 sum | ids v m, m x (key, f32 content tag)
//   Need       v session, v n, n x key
//   Entries    v session, entry list
//   Claim      v session, f32 responder nonce
//   entry list v n, n x (key, [v type ref, u8 revision], v payload length, canonical payload)
//
// Keys form one stream per message, each coded against the one before (the first against the
// zero key): v timestamp delta (keys ascend, so it is never negative), then a flags byte:
//   bits 0-4 creator: index into the message's creator table, or 31 = literal v creator
//            follows (appended to the table while it holds fewer than 31)
//   bit 5    u8 counter follows (otherwise 0)
//   bit 6    v realm follows (otherwise the previous key's realm)
//   bit 7    entry lists only: a type ref and revision follow (otherwise the previous entry's);
//            type ref 0 = literal (u8 length, name; appended to the type table), i = table[i-1]
// So an entry of a run with one type, few creators and no counter costs its timestamp delta,
// one flags byte, the payload length and the canonical payload bytes.

// Encodes a whole message as one byte string. Throws InvalidEntry for an entry the ledger would
// refuse, std::invalid_argument for keys out of order or an end-of-ledger bound before the last
// range. RefWeek and Entries are written as one list here; frames split them (sync_frames.hpp).
std::vector<std::uint8_t> encode_message(const SyncMessage& message);

// Decodes one whole message; every byte must belong to it.
WireResult<SyncMessage> decode_message(std::span<const std::uint8_t> bytes);

// What an entry-carrying message holds besides its entries.
struct EntryListHeader {
  MessageKind kind = MessageKind::Entries;  // RefWeek or Entries
  std::uint32_t id = 0;                     // the week or the session
};

// Splits entries into complete messages of `header`'s kind, each at most `max_message_bytes`
// long and decodable alone (its own tables, its first key coded in full). An entry too large
// for any message gets a longer message of its own, which the caller must chunk. Throws like
// encode_message, and std::invalid_argument for a header kind that carries no entries.
std::vector<std::vector<std::uint8_t>> encode_entry_messages(const EntryListHeader& header,
                                                             std::span<const Entry> entries,
                                                             std::size_t max_message_bytes);

}  // namespace tally
