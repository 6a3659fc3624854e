// Sync messages: the wire primitives and the encoding and decoding of every message kind.
#include "runtime/sync_wire.hpp"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

namespace tally {

std::string_view reason_name(WireErrorReason reason) {
  switch (reason) {
    case WireErrorReason::UnknownVersion:
      return "UnknownVersion";
    case WireErrorReason::UnknownKind:
      return "UnknownKind";
    case WireErrorReason::Malformed:
      return "Malformed";
    case WireErrorReason::Truncated:
      return "Truncated";
    case WireErrorReason::Oversized:
      return "Oversized";
    case WireErrorReason::InvalidEntry:
      return "InvalidEntry";
  }
  return "unknown reason";
}

std::string_view kind_name(MessageKind kind) {
  switch (kind) {
    case MessageKind::RefAdvert:
      return "RefAdvert";
    case MessageKind::RefRequest:
      return "RefRequest";
    case MessageKind::RefWeek:
      return "RefWeek";
    case MessageKind::Advert:
      return "Advert";
    case MessageKind::Ranges:
      return "Ranges";
    case MessageKind::Need:
      return "Need";
    case MessageKind::Entries:
      return "Entries";
    case MessageKind::Claim:
      return "Claim";
  }
  return "unknown kind";
}

MessageKind kind_of(const SyncMessage& message) {
  return static_cast<MessageKind>(message.index() + 1);
}

// ---------------------------------------------------------------------------------------------
// Primitives

void WireWriter::varint(std::uint64_t v) {
  while (v >= 0x80) {
    bytes_.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  bytes_.push_back(static_cast<std::uint8_t>(v));
}

void WireWriter::zigzag(std::int64_t v) {
  varint(zigzag_encode(v));
}

void WireWriter::bytes(std::span<const std::uint8_t> bytes) {
  varint(bytes.size());
  raw(bytes);
}

void WireWriter::fixed(std::uint64_t v, int width) {
  for (int i = 0; i < width; ++i) bytes_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

std::uint64_t zigzag_encode(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t zigzag_decode(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

namespace {

std::string quoted(std::string_view field) {
  return "'" + std::string(field) + "'";
}

}  // namespace

void WireReader::fail(WireErrorReason reason, std::string_view what) {
  if (error_) return;
  error_ = WireError{reason, "byte " + std::to_string(offset()) + ": " + std::string(what)};
  pos_ = bytes_.size();  // nothing more can be read
}

bool WireReader::need(std::string_view field, std::size_t n) {
  if (error_) return false;
  if (remaining() >= n) return true;
  fail(WireErrorReason::Truncated, quoted(field) + " needs " + std::to_string(n) + " bytes, " +
                                       std::to_string(remaining()) + " remain");
  return false;
}

std::uint8_t WireReader::u8(std::string_view field) {
  if (!need(field, 1)) return 0;
  return bytes_[pos_++];
}

std::uint64_t WireReader::fixed(std::string_view field, int width) {
  if (!need(field, static_cast<std::size_t>(width))) return 0;
  std::uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = (v << 8) | bytes_[pos_ + static_cast<std::size_t>(i)];
  pos_ += static_cast<std::size_t>(width);
  return v;
}

std::uint64_t WireReader::varint(std::string_view field, std::uint64_t max) {
  const std::size_t start = pos_;
  std::uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    if (!need(field, 1)) return 0;
    const std::uint8_t b = bytes_[pos_];
    if (shift == 63 && b > 1) {
      pos_ = start;
      fail(WireErrorReason::Malformed, quoted(field) + " overflows 64 bits");
      return 0;
    }
    ++pos_;
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      if (b == 0 && shift > 0) {
        pos_ = start;
        fail(WireErrorReason::Malformed, quoted(field) + " is a varint of non-minimal length");
        return 0;
      }
      break;
    }
  }
  if (v > max) {
    pos_ = start;
    fail(WireErrorReason::Malformed,
         quoted(field) + " is " + std::to_string(v) + ", above its maximum " + std::to_string(max));
    return 0;
  }
  return v;
}

std::int64_t WireReader::zigzag(std::string_view field, std::uint64_t max_magnitude) {
  const std::uint64_t max_raw = max_magnitude > (UINT64_MAX >> 1) ? UINT64_MAX : 2 * max_magnitude;
  return zigzag_decode(varint(field, max_raw));
}

std::span<const std::uint8_t> WireReader::raw(std::string_view field, std::size_t n) {
  if (!need(field, n)) return {};
  auto out = bytes_.subspan(pos_, n);
  pos_ += n;
  return out;
}

std::span<const std::uint8_t> WireReader::bytes(std::string_view field, std::size_t max_length) {
  const std::size_t start = pos_;
  const std::uint64_t length = varint(field);
  if (!ok()) return {};
  if (length > max_length) {
    pos_ = start;
    fail(WireErrorReason::Oversized, quoted(field) + " of " + std::to_string(length) +
                                         " bytes exceeds " + std::to_string(max_length));
    return {};
  }
  return raw(field, static_cast<std::size_t>(length));
}

std::size_t WireReader::count(std::string_view field, std::size_t min_item_bytes) {
  const std::size_t start = pos_;
  const std::uint64_t n = varint(field);
  if (!ok()) return 0;
  if (n > remaining() / min_item_bytes) {
    const std::string what = quoted(field) + " of " + std::to_string(n) + " needs at least " +
                             std::to_string(min_item_bytes) + " bytes each, " +
                             std::to_string(remaining()) + " remain";
    pos_ = start;
    fail(WireErrorReason::Truncated, what);
    return 0;
  }
  return static_cast<std::size_t>(n);
}

void WireReader::expect_end(std::string_view what) {
  if (ok() && remaining() > 0) {
    fail(WireErrorReason::Malformed,
         std::to_string(remaining()) + " trailing bytes after " + std::string(what));
  }
}

// ---------------------------------------------------------------------------------------------
// Key streams

namespace {

constexpr std::uint8_t kCreatorMask = 0x1f;
constexpr std::uint8_t kCreatorLiteral = 31;
constexpr std::size_t kCreatorTableSize = 31;
constexpr std::uint8_t kCounterFlag = 0x20;
constexpr std::uint8_t kRealmFlag = 0x40;
constexpr std::uint8_t kTypeFlag = 0x80;

// Smallest encodings, used to cap counts by the bytes left.
constexpr std::size_t kMinKeyBytes = 2;    // timestamp delta, flags
constexpr std::size_t kMinEntryBytes = 4;  // key, payload length, field count
constexpr std::size_t kMinRangeIdBytes = kMinKeyBytes + 4;
constexpr std::size_t kMinRefAdvertWeekBytes = 6;  // week, adler, count
constexpr std::size_t kMinRangeItemBytes = 1;      // tag of a skip to the end

// What a key must keep against the one before it in its stream.
enum class Order { First, Above, AtLeast };

bool in_order(const EntryKey& previous, const EntryKey& key, Order order) {
  switch (order) {
    case Order::First:
      return true;
    case Order::Above:
      return key > previous;
    case Order::AtLeast:
      return key >= previous;
  }
  return false;
}

std::string order_problem(const EntryKey& previous, const EntryKey& key, Order order) {
  return "key " + to_string(key) + (order == Order::Above ? " is not above " : " is below ") +
         to_string(previous);
}

// The state both ends keep while coding the keys of one message.
struct KeyStream {
  EntryKey previous;
  std::vector<std::uint32_t> creators;

  void remember(std::uint32_t creator) {
    if (creators.size() < kCreatorTableSize) creators.push_back(creator);
  }
};

// Writes `key` after checking it keeps `order`; `what` names it in the error.
void write_key(WireWriter& w, KeyStream& s, const EntryKey& key, Order order,
               std::uint8_t extra_flags, std::string_view what) {
  if (!in_order(s.previous, key, order)) {
    throw std::invalid_argument(std::string(what) + ": " + order_problem(s.previous, key, order));
  }
  auto it = std::find(s.creators.begin(), s.creators.end(), key.creator);
  const bool literal = it == s.creators.end();
  std::uint8_t flags = extra_flags;
  flags |= literal ? kCreatorLiteral : static_cast<std::uint8_t>(it - s.creators.begin());
  if (key.counter != 0) flags |= kCounterFlag;
  if (key.realm != s.previous.realm) flags |= kRealmFlag;
  // Never negative: keys ascend, and a First key is coded against the zero key.
  w.varint(key.timestamp - s.previous.timestamp);
  w.u8(flags);
  if (key.counter != 0) w.u8(key.counter);
  if (key.realm != s.previous.realm) w.varint(key.realm);
  if (literal) {
    w.varint(key.creator);
    s.remember(key.creator);
  }
  s.previous = key;
}

// Reads a key that must keep `order`; `allowed_flags` are the context's own bits (kTypeFlag in
// entry lists), returned through `extra_flags`.
EntryKey read_key(WireReader& r, KeyStream& s, Order order, std::uint8_t allowed_flags,
                  std::uint8_t& extra_flags) {
  const std::uint64_t delta = r.varint("key timestamp delta", UINT32_MAX);
  const std::uint8_t flags = r.u8("key flags");
  const std::uint64_t timestamp = s.previous.timestamp + delta;
  if (timestamp > UINT32_MAX) r.fail(WireErrorReason::Malformed, "key timestamp overflows 32 bits");
  constexpr std::uint8_t kKeyFlags = kCreatorMask | kCounterFlag | kRealmFlag;
  if ((flags & ~(kKeyFlags | allowed_flags)) != 0) {
    r.fail(WireErrorReason::Malformed, "key flags " + std::to_string(flags) + " set unused bits");
  }
  EntryKey key;
  key.timestamp = static_cast<std::uint32_t>(timestamp);
  key.counter = (flags & kCounterFlag) != 0 ? r.u8("key counter") : std::uint8_t{0};
  key.realm = (flags & kRealmFlag) != 0 ? static_cast<std::uint16_t>(r.varint("key realm", 0xffff))
                                        : s.previous.realm;
  const std::uint8_t ref = flags & kCreatorMask;
  if (ref == kCreatorLiteral) {
    key.creator = r.varint32("key creator");
    if (r.ok()) s.remember(key.creator);
  } else if (ref < s.creators.size()) {
    key.creator = s.creators[ref];
  } else {
    r.fail(WireErrorReason::Malformed, "creator index " + std::to_string(ref) +
                                           " but the table holds " +
                                           std::to_string(s.creators.size()));
  }
  if (r.ok() && !in_order(s.previous, key, order)) {
    r.fail(WireErrorReason::Malformed, order_problem(s.previous, key, order));
  }
  extra_flags = flags & allowed_flags;
  s.previous = key;
  return key;
}

// ---------------------------------------------------------------------------------------------
// Entry lists

struct EntryWriteState {
  KeyStream keys;
  std::vector<std::string_view> types;  // views into the entries being written
  std::string_view type;                // the previous entry's type and revision
  std::uint8_t revision = 0;
  bool has_type = false;
};

void write_entry(WireWriter& w, EntryWriteState& s, const Entry& e, Order order,
                 std::string_view what, std::vector<std::uint8_t>& scratch) {
  const bool type_changes = !s.has_type || e.type != s.type || e.revision != s.revision;
  write_key(w, s.keys, e.key, order, type_changes ? kTypeFlag : 0, what);
  if (type_changes) {
    auto it = std::find(s.types.begin(), s.types.end(), e.type);
    if (it == s.types.end()) {
      validate_type_name(e.type);
      w.varint(0);
      w.u8(static_cast<std::uint8_t>(e.type.size()));
      w.raw(e.type);
      s.types.push_back(e.type);
    } else {
      w.varint(static_cast<std::uint64_t>(it - s.types.begin()) + 1);
    }
    w.u8(e.revision);
    s.type = e.type;
    s.revision = e.revision;
    s.has_type = true;
  }
  scratch.clear();
  encode_payload_into(e.payload, scratch);
  w.bytes(scratch);
}

std::string entry_name(MessageKind kind, std::size_t i) {
  return std::string(kind_name(kind)) + " entry " + std::to_string(i);
}

void write_entries(WireWriter& w, MessageKind kind, std::span<const Entry> entries) {
  w.varint(entries.size());
  EntryWriteState state;
  std::vector<std::uint8_t> scratch;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    write_entry(w, state, entries[i], i == 0 ? Order::First : Order::Above, entry_name(kind, i),
                scratch);
  }
}

std::vector<Entry> read_entries(WireReader& r) {
  const std::size_t n = r.count("entry count", kMinEntryBytes);
  std::vector<Entry> out;
  out.reserve(n);
  KeyStream keys;
  std::vector<std::string> types;
  std::string type;
  std::uint8_t revision = 0;
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    Entry e;
    std::uint8_t flags = 0;
    e.key = read_key(r, keys, i == 0 ? Order::First : Order::Above, kTypeFlag, flags);
    if ((flags & kTypeFlag) != 0) {
      const std::uint64_t ref = r.varint("entry type ref", types.size());
      if (ref == 0) {
        const std::uint8_t length = r.u8("entry type length");
        auto name = r.raw("entry type name", length);
        type.assign(name.begin(), name.end());
        try {
          validate_type_name(type);
        } catch (const tally::InvalidEntry& err) {
          r.fail(WireErrorReason::InvalidEntry, err.what());
        }
        types.push_back(type);
      } else {
        type = types[static_cast<std::size_t>(ref - 1)];
      }
      revision = r.u8("entry revision");
    } else if (i == 0) {
      r.fail(WireErrorReason::Malformed, "the first entry does not name its type");
    }
    auto payload = r.bytes("entry payload", kMaxPayloadBytes);
    if (!r.ok()) break;
    try {
      e.payload = decode_payload(payload);
    } catch (const tally::InvalidEntry& err) {
      r.fail(WireErrorReason::InvalidEntry, "entry " + to_string(e.key) + ": " + err.what());
      break;
    }
    e.type = type;
    e.revision = revision;
    out.push_back(std::move(e));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Message bodies

void write_body(WireWriter& w, const RefAdvert& m) {
  w.varint(m.weeks.size());
  for (std::size_t i = 0; i < m.weeks.size(); ++i) {
    const RefAdvertWeek& week = m.weeks[i];
    if (i == 0) {
      w.varint(week.week);
    } else {
      w.zigzag(static_cast<std::int64_t>(week.week) - m.weeks[i - 1].week);
    }
    w.fixed32(week.adler);
    w.varint(week.count);
  }
}

void read_body(WireReader& r, RefAdvert& m) {
  const std::size_t n = r.count("week count", kMinRefAdvertWeekBytes);
  m.weeks.reserve(n);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    RefAdvertWeek week;
    if (i == 0) {
      week.week = r.varint32("week");
    } else {
      const std::int64_t v = m.weeks.back().week + r.zigzag("week delta", UINT32_MAX);
      if (v < 0 || v > UINT32_MAX) r.fail(WireErrorReason::Malformed, "week delta leaves 32 bits");
      week.week = static_cast<std::uint32_t>(v);
    }
    week.adler = r.fixed32("week adler");
    week.count = r.varint32("week entry count");
    m.weeks.push_back(week);
  }
}

void write_body(WireWriter& w, const RefRequest& m) {
  w.varint(m.week);
}
void read_body(WireReader& r, RefRequest& m) {
  m.week = r.varint32("week");
}

void write_body(WireWriter& w, const RefWeek& m) {
  w.varint(m.week);
  write_entries(w, MessageKind::RefWeek, m.entries);
}
void read_body(WireReader& r, RefWeek& m) {
  m.week = r.varint32("week");
  m.entries = read_entries(r);
}

void write_body(WireWriter& w, const Advert& m) {
  w.varint(m.count);
  w.fixed64(m.fingerprint);
  w.fixed32(m.newest_timestamp);
  w.fixed32(m.adler);
  w.varint(m.capabilities);
}
void read_body(WireReader& r, Advert& m) {
  m.count = r.varint("count");
  m.fingerprint = r.fixed64("fingerprint");
  m.newest_timestamp = r.fixed32("newest timestamp");
  m.adler = r.fixed32("adler");
  m.capabilities = static_cast<std::uint16_t>(r.varint("capabilities", 0xffff));
}

// Range items: the tag's low bits are the content's index in RangeItem::content.
constexpr std::uint8_t kRangeContentMask = 0x03;
constexpr std::uint8_t kRangeEndFlag = 0x04;

void write_body(WireWriter& w, const Ranges& m) {
  w.varint(m.session);
  KeyStream keys;
  write_key(w, keys, m.lower, Order::First, 0, "Ranges lower bound");
  w.varint(m.items.size());
  for (std::size_t i = 0; i < m.items.size(); ++i) {
    const RangeItem& item = m.items[i];
    const std::string what = "Ranges item " + std::to_string(i);
    if (!item.upper && i + 1 != m.items.size()) {
      throw std::invalid_argument(what + ": only the last range may reach the end of the ledger");
    }
    w.u8(static_cast<std::uint8_t>(item.content.index() | (item.upper ? 0 : kRangeEndFlag)));
    if (const auto* fp = std::get_if<RangeFingerprint>(&item.content)) {
      w.varint(fp->count);
      w.fixed64(fp->fingerprint);
    } else if (const auto* ids = std::get_if<RangeIds>(&item.content)) {
      w.varint(ids->ids.size());
      for (std::size_t j = 0; j < ids->ids.size(); ++j) {
        // The first id may sit on the range's lower bound; ids and bounds otherwise ascend.
        write_key(w, keys, ids->ids[j].key, j == 0 ? Order::AtLeast : Order::Above, 0,
                  what + " id " + std::to_string(j));
        w.fixed32(ids->ids[j].content_tag);
      }
    }
    if (item.upper) write_key(w, keys, *item.upper, Order::Above, 0, what + " upper bound");
  }
}

void read_body(WireReader& r, Ranges& m) {
  m.session = r.varint32("session");
  KeyStream keys;
  std::uint8_t unused = 0;
  m.lower = read_key(r, keys, Order::First, 0, unused);
  const std::size_t n = r.count("range count", kMinRangeItemBytes);
  m.items.reserve(n);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    RangeItem item;
    const std::uint8_t tag = r.u8("range tag");
    const bool end = (tag & kRangeEndFlag) != 0;
    if ((tag & ~(kRangeContentMask | kRangeEndFlag)) != 0 || (tag & kRangeContentMask) == 3) {
      r.fail(WireErrorReason::Malformed, "range tag " + std::to_string(tag) + " is not defined");
    } else if (end && i + 1 != n) {
      r.fail(WireErrorReason::Malformed,
             "range " + std::to_string(i) + " reaches the end of the ledger but is not the last");
    }
    switch (tag & kRangeContentMask) {
      case 1: {
        RangeFingerprint fp;
        fp.count = r.varint32("range fingerprint count");
        fp.fingerprint = r.fixed64("range fingerprint");
        item.content = fp;
        break;
      }
      case 2: {
        RangeIds ids;
        const std::size_t m_ids = r.count("range id count", kMinRangeIdBytes);
        ids.ids.reserve(m_ids);
        for (std::size_t j = 0; j < m_ids && r.ok(); ++j) {
          RangeId id;
          id.key = read_key(r, keys, j == 0 ? Order::AtLeast : Order::Above, 0, unused);
          id.content_tag = r.fixed32("range id content tag");
          ids.ids.push_back(id);
        }
        item.content = std::move(ids);
        break;
      }
      default:
        break;  // a skip has no content
    }
    if (!end) item.upper = read_key(r, keys, Order::Above, 0, unused);
    m.items.push_back(std::move(item));
  }
}

void write_body(WireWriter& w, const Need& m) {
  w.varint(m.session);
  w.varint(m.keys.size());
  KeyStream keys;
  for (std::size_t i = 0; i < m.keys.size(); ++i) {
    write_key(w, keys, m.keys[i], i == 0 ? Order::First : Order::Above, 0,
              "Need key " + std::to_string(i));
  }
}
void read_body(WireReader& r, Need& m) {
  m.session = r.varint32("session");
  const std::size_t n = r.count("key count", kMinKeyBytes);
  m.keys.reserve(n);
  KeyStream keys;
  std::uint8_t unused = 0;
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    m.keys.push_back(read_key(r, keys, i == 0 ? Order::First : Order::Above, 0, unused));
  }
}

void write_body(WireWriter& w, const Entries& m) {
  w.varint(m.session);
  write_entries(w, MessageKind::Entries, m.entries);
}
void read_body(WireReader& r, Entries& m) {
  m.session = r.varint32("session");
  m.entries = read_entries(r);
}

void write_body(WireWriter& w, const Claim& m) {
  w.varint(m.session);
  w.fixed32(m.responder_nonce);
}
void read_body(WireReader& r, Claim& m) {
  m.session = r.varint32("session");
  m.responder_nonce = r.fixed32("responder nonce");
}

// Reads the body of alternative `I`, or the one the kind byte names.
template <std::size_t I = 0>
SyncMessage read_kind(WireReader& r, std::size_t index) {
  if constexpr (I + 1 < std::variant_size_v<SyncMessage>) {
    if (index != I) return read_kind<I + 1>(r, index);
  }
  std::variant_alternative_t<I, SyncMessage> m;
  read_body(r, m);
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Messages

std::vector<std::uint8_t> encode_message(const SyncMessage& message) {
  WireWriter w;
  w.u8(kWireVersion);
  w.u8(static_cast<std::uint8_t>(kind_of(message)));
  std::visit([&](const auto& m) { write_body(w, m); }, message);
  return w.take();
}

WireResult<SyncMessage> decode_message(std::span<const std::uint8_t> bytes) {
  WireReader r(bytes);
  const std::uint8_t version = r.u8("version");
  const std::uint8_t kind = r.u8("kind");
  if (!r.ok()) return *r.error();
  if (version != kWireVersion) {
    return WireError{WireErrorReason::UnknownVersion, "version " + std::to_string(version) +
                                                          "; this build reads version " +
                                                          std::to_string(kWireVersion)};
  }
  if (!is_message_kind(kind)) {
    return WireError{WireErrorReason::UnknownKind, "kind " + std::to_string(kind) +
                                                       " is not a message of version " +
                                                       std::to_string(kWireVersion)};
  }
  const auto name = kind_name(static_cast<MessageKind>(kind));
  SyncMessage message = read_kind(r, kind - 1u);
  r.expect_end(name);
  if (!r.ok()) return WireError{r.error()->reason, std::string(name) + ": " + r.error()->message};
  return message;
}

std::vector<std::vector<std::uint8_t>> encode_entry_messages(const EntryListHeader& header,
                                                             std::span<const Entry> entries,
                                                             std::size_t max_message_bytes) {
  if (header.kind != MessageKind::RefWeek && header.kind != MessageKind::Entries) {
    throw std::invalid_argument(std::string(kind_name(header.kind)) + " carries no entries");
  }
  WireWriter prefix;
  prefix.u8(kWireVersion);
  prefix.u8(static_cast<std::uint8_t>(header.kind));
  prefix.varint(header.id);

  std::vector<std::vector<std::uint8_t>> messages;
  WireWriter list;
  EntryWriteState state;
  std::size_t n = 0;
  auto size_with = [&](std::size_t count, std::size_t list_bytes) {
    return prefix.size() + varint_size(count) + list_bytes;
  };
  auto flush = [&] {
    WireWriter m;
    m.raw(prefix.data());
    m.varint(n);
    m.raw(list.data());
    messages.push_back(m.take());
    list = {};
    state = {};
    n = 0;
  };

  std::vector<std::uint8_t> scratch;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    // The order check spans message boundaries, so it is made here on the whole list.
    if (i > 0 && !(entries[i].key > entries[i - 1].key)) {
      throw std::invalid_argument(entry_name(header.kind, i) + ": " +
                                  order_problem(entries[i - 1].key, entries[i].key, Order::Above));
    }
    // Written on a copy of the state, so an entry that does not fit leaves no trace.
    EntryWriteState next = state;
    WireWriter one;
    write_entry(one, next, entries[i], n == 0 ? Order::First : Order::Above,
                entry_name(header.kind, i), scratch);
    if (n > 0 && size_with(n + 1, list.size() + one.size()) > max_message_bytes) {
      flush();
      next = state;
      one = {};
      write_entry(one, next, entries[i], Order::First, entry_name(header.kind, i), scratch);
    }
    list.raw(one.data());
    state = std::move(next);
    ++n;
    if (size_with(n, list.size()) > max_message_bytes) flush();  // an oversized entry, alone
  }
  if (n > 0 || messages.empty()) flush();
  return messages;
}

}  // namespace tally
