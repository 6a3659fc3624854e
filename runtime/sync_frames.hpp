// The sync frame layer: messages cut into NUL-free addon-message frames of bounded size
// (self-contained frames for entry lists, chunks for other long messages), and their
// reassembly per sender with bounded buffers, timeouts and drop counters.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "runtime/entry.hpp"
#include "runtime/sync_wire.hpp"

namespace tally {

// ---------------------------------------------------------------------------------------------
// Frames.
//
//   message frame  u8 version, u8 kind, escaped body      (the body of encode_message's bytes)
//   chunk frame    u8 version, u8 kChunkKind, escaped (f16 message id, u8 index, u8 count,
//                  v total bytes, piece)
//
// The version and kind bytes are never 0, so they stay readable in front of the escaped body.
// A chunked message's pieces, in index order, are its whole encode_message bytes.

inline constexpr std::size_t kDefaultMaxFrameBytes = 250;
inline constexpr std::size_t kMinFrameBytes = 48;   // an Advert fits with room to spare
inline constexpr std::size_t kMaxFrameBytes = 255;  // the game's limit on a message's text
inline constexpr std::uint8_t kChunkKind = 0x7f;    // apart from the message kinds, which count up
inline constexpr std::size_t kMaxChunks = 255;

// Escaping is COBS (consistent overhead byte stuffing): the body becomes blocks of a length
// byte and up to 254 non-zero bytes, the zero between blocks implied. It adds exactly one byte
// to any body shorter than 254 bytes, whatever the data, so a frame's size is known before it
// is escaped. Measured (test_sync_wire): 0.4% on full random frame bodies, 0.5% on DKP entry
// frames; the simpler escape 0x00 -> 01 01, 0x01 -> 01 02 would cost 0.75% on random bytes and
// 2.6% on DKP entry frames (small varints, counters and flags are often 0 or 1), and a frame's
// final size would depend on its content.
std::string escape_nul_free(std::span<const std::uint8_t> bytes);
// Reverses escape_nul_free; offsets in errors are counted from `base_offset`.
WireResult<std::vector<std::uint8_t>> unescape_nul_free(std::string_view text,
                                                        std::size_t base_offset = 0);

// The longest message body that fits a frame of `max_frame_bytes`: version, kind and escaping
// take 3 bytes (bodies are under 254 bytes, as frames are at most 255).
constexpr std::size_t max_body_bytes(std::size_t max_frame_bytes) {
  return max_frame_bytes - 3;
}

// One piece of a message too long for a frame.
struct Chunk {
  std::uint16_t message_id = 0;  // per sender
  std::uint8_t index = 0;
  std::uint8_t count = 0;         // at least 2
  std::uint32_t total_bytes = 0;  // of the whole message, so a receiver can reserve or refuse it
  std::vector<std::uint8_t> piece;
};

using DecodedFrame = std::variant<SyncMessage, Chunk>;

// Decodes one frame alone: a whole message, or one chunk. Never throws; error offsets count
// unescaped bytes of the message (or of the chunk header).
WireResult<DecodedFrame> decode_frame(std::string_view frame);

// Turns one sender's messages into frames of at most max_frame_bytes, none holding a NUL byte.
class FrameEncoder {
 public:
  // Throws std::invalid_argument when max_frame_bytes is outside [kMinFrameBytes,
  // kMaxFrameBytes]. Chunk message ids count up from `first_message_id`; a client should start
  // them at a random value, so a reloaded client does not reuse ids of chunks its peers still
  // hold.
  explicit FrameEncoder(std::size_t max_frame_bytes = kDefaultMaxFrameBytes,
                        std::uint16_t first_message_id = 0);

  std::size_t max_frame_bytes() const { return max_frame_bytes_; }

  // RefWeek and Entries go through encode_entry_frames; any other message is one frame, or
  // chunks when it is too long. Throws like encode_message, and std::invalid_argument for a
  // message that would need more than kMaxChunks chunks.
  std::vector<std::string> encode(const SyncMessage& message);

  // Entry lists as self-contained frames: each decodes alone into a message of the header's
  // kind holding some of the entries, so a lost frame loses only its own entries. An entry too
  // large for one frame (a long string or many fields) travels alone, chunked.
  std::vector<std::string> encode_entry_frames(const EntryListHeader& header,
                                               std::span<const Entry> entries);

 private:
  void append_frames(std::span<const std::uint8_t> message, std::vector<std::string>& out);

  std::size_t max_frame_bytes_;
  std::uint16_t next_message_id_;
};

// ---------------------------------------------------------------------------------------------
// Reassembly

struct ReassemblyLimits {
  std::size_t max_bytes_per_sender = 16 * 1024;  // total size of its incomplete messages
  std::size_t max_open_per_sender = 4;           // its incomplete messages
  double timeout_seconds = 30;                   // since an incomplete message's last new chunk
};

// Everything a Reassembler threw away, by reason.
struct DropCounters {
  // Frames, and reassembled messages, that did not decode.
  std::array<std::uint64_t, kWireErrorReasonCount> rejected{};
  std::uint64_t duplicate_chunks = 0;    // a chunk already held, or of a message already delivered
  std::uint64_t conflicting_chunks = 0;  // disagreed with its message's other chunks (count or
                                         // size): that message was dropped
  std::uint64_t timed_out = 0;           // incomplete messages with no new chunk in the timeout
  std::uint64_t evicted_open_limit = 0;  // oldest incomplete message, dropped for a newer one
  std::uint64_t evicted_byte_limit = 0;  // the same, to stay within max_bytes_per_sender
  std::uint64_t too_large = 0;           // chunks of a message over max_bytes_per_sender alone

  std::uint64_t total() const;
  friend bool operator==(const DropCounters&, const DropCounters&) = default;
};
// "rejected Truncated=1, duplicate_chunks=2": the non-zero counters, or "none".
std::string to_string(const DropCounters& drops);

// One receiver's reassembly of its senders' chunked messages, keyed by the sender name the game
// reports. Time is the caller's (virtual) clock in seconds.
class Reassembler {
 public:
  explicit Reassembler(ReassemblyLimits limits = {});

  // Decodes a frame from `sender`. Returns the message it carries or completes, its decode
  // error, or nothing when it was a chunk that completes no message (pending, or dropped and
  // counted). Never throws.
  std::optional<WireResult<SyncMessage>> receive(std::string_view sender, std::string_view frame,
                                                 double now);

  // Drops every incomplete message whose timeout has passed; call it now and then (a sender's
  // own messages are also checked whenever it sends a frame).
  void expire(double now);

  const DropCounters& drops() const { return drops_; }
  std::size_t open_messages(std::string_view sender) const;
  std::size_t buffered_bytes(std::string_view sender) const;  // reserved for its open messages
  std::size_t senders() const { return senders_.size(); }     // with any state held

 private:
  struct Pending {
    std::uint16_t id;
    std::uint8_t count;
    std::uint32_t total_bytes;
    std::size_t received_bytes = 0;
    std::size_t received_chunks = 0;
    double last_progress;
    std::vector<std::vector<std::uint8_t>> pieces;  // by index; empty until received
  };
  struct Delivered {
    std::uint16_t id;
    double at;
  };
  struct SenderState {
    std::vector<Pending> open;        // oldest first
    std::deque<Delivered> delivered;  // recent, so late duplicates are recognized
    std::size_t reserved_bytes = 0;
  };
  using SenderMap = std::map<std::string, SenderState, std::less<>>;

  std::optional<WireResult<SyncMessage>> add_chunk(SenderState& s, Chunk chunk, double now);
  void expire_sender(SenderState& s, double now);
  void drop(SenderState& s, std::size_t index, std::uint64_t& counter);

  ReassemblyLimits limits_;
  SenderMap senders_;
  DropCounters drops_;
};

}  // namespace tally
