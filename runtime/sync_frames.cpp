// Sync frames: COBS escaping, frame and chunk encoding, and per-sender reassembly.
#include "runtime/sync_frames.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace tally {

// ---------------------------------------------------------------------------------------------
// Escaping

namespace {
constexpr std::uint8_t kFullBlock = 0xff;  // a block of 254 bytes with no zero after it
}  // namespace

std::string escape_nul_free(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() + 1 + bytes.size() / 254);
  std::size_t code_at = 0;
  std::uint8_t code = 1;
  out.push_back('\0');  // the first block's length, filled in when the block ends
  auto end_block = [&] {
    out[code_at] = static_cast<char>(code);
    code_at = out.size();
    out.push_back('\0');
    code = 1;
  };
  for (std::uint8_t b : bytes) {
    if (b == 0) {
      end_block();
      continue;
    }
    out.push_back(static_cast<char>(b));
    if (++code == kFullBlock) end_block();
  }
  out[code_at] = static_cast<char>(code);
  return out;
}

WireResult<std::vector<std::uint8_t>> unescape_nul_free(std::string_view text,
                                                        std::size_t base_offset) {
  if (text.empty()) {
    return WireError{WireErrorReason::Truncated,
                     "byte " + std::to_string(base_offset) + ": the escaped body is missing"};
  }
  auto nul_at = [&](std::size_t j) {
    return WireError{WireErrorReason::Malformed,
                     "frame byte " + std::to_string(base_offset + j) + " is NUL"};
  };
  std::vector<std::uint8_t> out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto code = static_cast<std::uint8_t>(text[i]);
    if (code == 0) return nul_at(i);
    const std::size_t end = i + code;
    if (end > text.size()) {
      return WireError{WireErrorReason::Truncated,
                       "frame byte " + std::to_string(base_offset + i) + ": escaped block of " +
                           std::to_string(code - 1) + " bytes runs past the end"};
    }
    for (std::size_t j = i + 1; j < end; ++j) {
      if (text[j] == '\0') return nul_at(j);
      out.push_back(static_cast<std::uint8_t>(text[j]));
    }
    i = end;
    if (code != kFullBlock && i < text.size()) out.push_back(0);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Frames

namespace {

std::string make_frame(std::uint8_t kind, std::span<const std::uint8_t> body) {
  std::string frame;
  frame.push_back(static_cast<char>(kWireVersion));
  frame.push_back(static_cast<char>(kind));
  frame += escape_nul_free(body);
  return frame;
}

}  // namespace

WireResult<DecodedFrame> decode_frame(std::string_view frame) {
  if (frame.size() > kMaxFrameBytes) {
    return WireError{WireErrorReason::Oversized, "frame of " + std::to_string(frame.size()) +
                                                     " bytes exceeds " +
                                                     std::to_string(kMaxFrameBytes)};
  }
  if (frame.empty()) return WireError{WireErrorReason::Truncated, "empty frame"};
  const auto version = static_cast<std::uint8_t>(frame[0]);
  if (version != kWireVersion) {
    return WireError{WireErrorReason::UnknownVersion, "frame version " + std::to_string(version) +
                                                          "; this build reads version " +
                                                          std::to_string(kWireVersion)};
  }
  if (frame.size() < 2) return WireError{WireErrorReason::Truncated, "frame ends before its kind"};
  const auto kind = static_cast<std::uint8_t>(frame[1]);
  if (kind != kChunkKind && !is_message_kind(kind)) {
    return WireError{WireErrorReason::UnknownKind, "frame kind " + std::to_string(kind) +
                                                       " is not defined in version " +
                                                       std::to_string(kWireVersion)};
  }
  auto body = unescape_nul_free(frame.substr(2), 2);
  if (!body.ok()) return body.error();

  if (kind != kChunkKind) {
    std::vector<std::uint8_t>& message = body.value();
    message.insert(message.begin(), {version, kind});
    auto decoded = decode_message(message);
    if (!decoded.ok()) return decoded.error();
    return DecodedFrame{std::move(decoded.value())};
  }

  WireReader r(body.value());
  Chunk chunk;
  chunk.message_id = r.fixed16("chunk message id");
  chunk.index = r.u8("chunk index");
  chunk.count = r.u8("chunk count");
  if (r.ok() && (chunk.count < 2 || chunk.index >= chunk.count)) {
    r.fail(WireErrorReason::Malformed,
           "chunk " + std::to_string(chunk.index) + " of " + std::to_string(chunk.count));
  }
  chunk.total_bytes = r.varint32("chunk total bytes");
  auto piece = r.raw("chunk piece", r.remaining());
  chunk.piece.assign(piece.begin(), piece.end());
  // Every piece holds at least one byte and at most a frame's worth.
  if (r.ok() &&
      (piece.empty() || piece.size() > chunk.total_bytes || chunk.total_bytes < chunk.count ||
       chunk.total_bytes > chunk.count * kMaxFrameBytes)) {
    r.fail(WireErrorReason::Malformed, "chunk piece of " + std::to_string(piece.size()) +
                                           " bytes does not fit a message of " +
                                           std::to_string(chunk.total_bytes) + " bytes in " +
                                           std::to_string(chunk.count) + " chunks");
  }
  if (!r.ok()) return WireError{r.error()->reason, "chunk: " + r.error()->message};
  return DecodedFrame{std::move(chunk)};
}

FrameEncoder::FrameEncoder(std::size_t max_frame_bytes, std::uint16_t first_message_id)
    : max_frame_bytes_(max_frame_bytes), next_message_id_(first_message_id) {
  if (max_frame_bytes < kMinFrameBytes || max_frame_bytes > kMaxFrameBytes) {
    throw std::invalid_argument("max_frame_bytes " + std::to_string(max_frame_bytes) +
                                " is outside [" + std::to_string(kMinFrameBytes) + ", " +
                                std::to_string(kMaxFrameBytes) + "]");
  }
}

std::vector<std::string> FrameEncoder::encode(const SyncMessage& message) {
  if (const auto* week = std::get_if<RefWeek>(&message)) {
    return encode_entry_frames({MessageKind::RefWeek, week->week}, week->entries);
  }
  if (const auto* entries = std::get_if<Entries>(&message)) {
    return encode_entry_frames({MessageKind::Entries, entries->session}, entries->entries);
  }
  std::vector<std::string> frames;
  append_frames(encode_message(message), frames);
  return frames;
}

std::vector<std::string> FrameEncoder::encode_entry_frames(const EntryListHeader& header,
                                                           std::span<const Entry> entries) {
  std::vector<std::string> frames;
  const std::size_t max_message_bytes = 2 + max_body_bytes(max_frame_bytes_);
  for (const auto& message : encode_entry_messages(header, entries, max_message_bytes)) {
    append_frames(message, frames);
  }
  return frames;
}

void FrameEncoder::append_frames(std::span<const std::uint8_t> message,
                                 std::vector<std::string>& out) {
  const std::size_t body_budget = max_body_bytes(max_frame_bytes_);
  if (message.size() - 2 <= body_budget) {
    out.push_back(make_frame(message[1], message.subspan(2)));
    return;
  }
  // The chunk header: message id, index, count, total bytes.
  const std::size_t piece_budget = body_budget - 4 - varint_size(message.size());
  const std::size_t count = (message.size() + piece_budget - 1) / piece_budget;
  if (count > kMaxChunks) {
    throw std::invalid_argument(std::string(kind_name(static_cast<MessageKind>(message[1]))) +
                                " message of " + std::to_string(message.size()) + " bytes needs " +
                                std::to_string(count) + " chunks; at most " +
                                std::to_string(kMaxChunks) + " are allowed");
  }
  const std::uint16_t id = next_message_id_++;
  for (std::size_t i = 0; i < count; ++i) {
    WireWriter w;
    w.fixed16(id);
    w.u8(static_cast<std::uint8_t>(i));
    w.u8(static_cast<std::uint8_t>(count));
    w.varint(message.size());
    w.raw(message.subspan(i * piece_budget,
                          std::min(piece_budget, message.size() - i * piece_budget)));
    out.push_back(make_frame(kChunkKind, w.data()));
  }
}

// ---------------------------------------------------------------------------------------------
// Reassembly

namespace {
// Ids of delivered messages remembered per sender, to recognize their late duplicate chunks.
constexpr std::size_t kRememberedDeliveries = 16;
}  // namespace

std::uint64_t DropCounters::total() const {
  std::uint64_t sum = duplicate_chunks + conflicting_chunks + timed_out + evicted_open_limit +
                      evicted_byte_limit + too_large;
  for (std::uint64_t n : rejected) sum += n;
  return sum;
}

std::string to_string(const DropCounters& drops) {
  std::string out;
  auto add = [&](std::string_view name, std::uint64_t n) {
    if (n == 0) return;
    if (!out.empty()) out += ", ";
    out += std::string(name) + "=" + std::to_string(n);
  };
  for (std::size_t i = 0; i < kWireErrorReasonCount; ++i) {
    add("rejected " + std::string(reason_name(static_cast<WireErrorReason>(i))), drops.rejected[i]);
  }
  add("duplicate_chunks", drops.duplicate_chunks);
  add("conflicting_chunks", drops.conflicting_chunks);
  add("timed_out", drops.timed_out);
  add("evicted_open_limit", drops.evicted_open_limit);
  add("evicted_byte_limit", drops.evicted_byte_limit);
  add("too_large", drops.too_large);
  return out.empty() ? "none" : out;
}

Reassembler::Reassembler(ReassemblyLimits limits) : limits_(limits) {}

std::optional<WireResult<SyncMessage>> Reassembler::receive(std::string_view sender,
                                                            std::string_view frame, double now) {
  auto decoded = decode_frame(frame);
  if (!decoded.ok()) {
    ++drops_.rejected[static_cast<std::size_t>(decoded.error().reason)];
    return decoded.error();
  }
  if (auto* message = std::get_if<SyncMessage>(&decoded.value())) return std::move(*message);

  auto it = senders_.find(sender);
  if (it == senders_.end()) it = senders_.emplace(std::string(sender), SenderState{}).first;
  auto result = add_chunk(it->second, std::move(std::get<Chunk>(decoded.value())), now);
  if (it->second.open.empty() && it->second.delivered.empty()) senders_.erase(it);
  return result;
}

std::optional<WireResult<SyncMessage>> Reassembler::add_chunk(SenderState& s, Chunk chunk,
                                                              double now) {
  expire_sender(s, now);
  if (std::any_of(s.delivered.begin(), s.delivered.end(),
                  [&](const Delivered& d) { return d.id == chunk.message_id; })) {
    ++drops_.duplicate_chunks;
    return std::nullopt;
  }

  auto it = std::find_if(s.open.begin(), s.open.end(),
                         [&](const Pending& p) { return p.id == chunk.message_id; });
  if (it != s.open.end() && (it->count != chunk.count || it->total_bytes != chunk.total_bytes)) {
    // Most likely a restarted sender reusing the id: the old message cannot complete.
    drop(s, static_cast<std::size_t>(it - s.open.begin()), drops_.conflicting_chunks);
    it = s.open.end();
  }
  if (it == s.open.end()) {
    if (chunk.total_bytes > limits_.max_bytes_per_sender) {
      ++drops_.too_large;
      return std::nullopt;
    }
    while (!s.open.empty() && s.open.size() >= limits_.max_open_per_sender) {
      drop(s, 0, drops_.evicted_open_limit);
    }
    while (!s.open.empty() && s.reserved_bytes + chunk.total_bytes > limits_.max_bytes_per_sender) {
      drop(s, 0, drops_.evicted_byte_limit);
    }
    s.open.push_back(Pending{chunk.message_id, chunk.count, chunk.total_bytes, 0, 0, now,
                             std::vector<std::vector<std::uint8_t>>(chunk.count)});
    s.reserved_bytes += chunk.total_bytes;
    it = s.open.end() - 1;
  }

  Pending& p = *it;
  if (!p.pieces[chunk.index].empty()) {
    ++drops_.duplicate_chunks;
    return std::nullopt;
  }
  if (p.received_bytes + chunk.piece.size() > p.total_bytes) {
    drop(s, static_cast<std::size_t>(it - s.open.begin()), drops_.conflicting_chunks);
    return std::nullopt;
  }
  p.received_bytes += chunk.piece.size();
  p.pieces[chunk.index] = std::move(chunk.piece);
  p.last_progress = now;
  if (++p.received_chunks < p.count) return std::nullopt;

  const std::size_t total = p.total_bytes;
  std::vector<std::uint8_t> message;
  message.reserve(total);
  for (const auto& piece : p.pieces) message.insert(message.end(), piece.begin(), piece.end());
  s.reserved_bytes -= total;
  s.delivered.push_back({p.id, now});
  if (s.delivered.size() > kRememberedDeliveries) s.delivered.pop_front();
  s.open.erase(it);

  WireResult<SyncMessage> result =
      message.size() == total
          ? decode_message(message)
          : WireError{WireErrorReason::Truncated, "chunks hold " + std::to_string(message.size()) +
                                                      " of the " + std::to_string(total) +
                                                      " bytes their message announced"};
  if (!result.ok()) ++drops_.rejected[static_cast<std::size_t>(result.error().reason)];
  return result;
}

void Reassembler::drop(SenderState& s, std::size_t index, std::uint64_t& counter) {
  s.reserved_bytes -= s.open[index].total_bytes;
  s.open.erase(s.open.begin() + static_cast<std::ptrdiff_t>(index));
  ++counter;
}

void Reassembler::expire_sender(SenderState& s, double now) {
  for (std::size_t i = s.open.size(); i-- > 0;) {
    if (now - s.open[i].last_progress > limits_.timeout_seconds) drop(s, i, drops_.timed_out);
  }
  while (!s.delivered.empty() && now - s.delivered.front().at > limits_.timeout_seconds) {
    s.delivered.pop_front();
  }
}

void Reassembler::expire(double now) {
  for (auto it = senders_.begin(); it != senders_.end();) {
    expire_sender(it->second, now);
    if (it->second.open.empty() && it->second.delivered.empty()) {
      it = senders_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t Reassembler::open_messages(std::string_view sender) const {
  auto it = senders_.find(sender);
  return it == senders_.end() ? 0 : it->second.open.size();
}

std::size_t Reassembler::buffered_bytes(std::string_view sender) const {
  auto it = senders_.find(sender);
  return it == senders_.end() ? 0 : it->second.reserved_bytes;
}

}  // namespace tally
