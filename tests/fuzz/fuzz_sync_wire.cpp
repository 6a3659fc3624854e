// libFuzzer target: sync frames through decode_frame and a Reassembler; what decodes re-encodes.
//
// Input: frames separated by NUL bytes (which no frame holds). Each frame comes from the current
// sender, one second after the previous one; an empty frame (two NULs in a row) passes the turn
// to the next of three senders, so runs of chunks from one sender and interleavings of several
// are both easy for the fuzzer to write. The whole input, NULs and all, is also decoded as one
// frame, so the escaping's refusal of NUL bytes is reached too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"
#include "runtime/sync_frames.hpp"
#include "runtime/sync_wire.hpp"

using tally::fuzz::require;

namespace {

// Small limits, so short inputs reach the evictions and timeouts.
tally::ReassemblyLimits fuzz_limits() {
  tally::ReassemblyLimits limits;
  limits.max_bytes_per_sender = 2048;
  limits.max_open_per_sender = 2;
  limits.timeout_seconds = 8;
  return limits;
}

bool carries_entries(const tally::SyncMessage& m) {
  return std::holds_alternative<tally::RefWeek>(m) || std::holds_alternative<tally::Entries>(m);
}

// Moves the entries out of an entry-carrying message, leaving what every frame repeats.
std::vector<tally::Entry> take_entries(tally::SyncMessage& m) {
  if (auto* w = std::get_if<tally::RefWeek>(&m)) return std::move(w->entries);
  return std::move(std::get<tally::Entries>(m).entries);
}

// A message that decoded must encode without error, as bytes and as frames of the smallest and
// the default size, and decode back to itself.
void check_reencodes(const tally::SyncMessage& message) {
  auto again = tally::decode_message(tally::encode_message(message));
  require(again.ok(), "an encoded message decodes");
  require(again.value() == message, "a message decodes to what was encoded");

  for (std::size_t size : {tally::kMinFrameBytes, tally::kDefaultMaxFrameBytes}) {
    tally::FrameEncoder encoder(size);
    tally::Reassembler receiver;
    std::vector<tally::SyncMessage> received;
    for (const std::string& frame : encoder.encode(message)) {
      require(frame.size() <= size, "every frame fits max_frame_bytes");
      require(frame.find('\0') == std::string::npos, "no frame holds a NUL byte");
      if (auto r = receiver.receive("fuzz", frame, 0)) {
        require(r->ok(), "every frame the encoder writes decodes");
        received.push_back(std::move(r->value()));
      }
    }
    require(receiver.drops().total() == 0, "frames of one message are never dropped");
    if (!carries_entries(message)) {
      require(received.size() == 1 && received[0] == message, "a message comes back whole");
      continue;
    }
    tally::SyncMessage header = message;
    const std::vector<tally::Entry> entries = take_entries(header);
    std::vector<tally::Entry> joined;
    for (tally::SyncMessage& part : received) {
      const std::vector<tally::Entry> some = take_entries(part);
      require(part == header, "every entry frame repeats the message's header");
      joined.insert(joined.end(), some.begin(), some.end());
    }
    require(joined == entries, "entry frames hold the entries in order");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto whole = tally::decode_frame(input);
  if (whole.ok()) {
    if (auto* message = std::get_if<tally::SyncMessage>(&whole.value())) check_reencodes(*message);
  }

  const tally::ReassemblyLimits limits = fuzz_limits();
  tally::Reassembler reassembler(limits);
  static const char* const senders[] = {"Aelric", "Brenna", "Cassia"};
  std::size_t sender = 0;
  double now = 0;

  for (std::size_t begin = 0; begin <= input.size();) {
    std::size_t end = input.find('\0', begin);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view frame = input.substr(begin, end - begin);
    begin = end + 1;
    now += 1;
    if (frame.empty()) {
      sender = (sender + 1) % 3;
      continue;
    }

    auto decoded = tally::decode_frame(frame);
    auto received = reassembler.receive(senders[sender], frame, now);
    if (!decoded.ok()) {
      require(received && !received->ok() && received->error().reason == decoded.error().reason,
              "the reassembler reports a frame's decode error");
    } else if (auto* message = std::get_if<tally::SyncMessage>(&decoded.value())) {
      require(received && received->ok() && received->value() == *message,
              "the reassembler passes a whole message through");
    }
    if (received && received->ok()) check_reencodes(received->value());
    require(reassembler.open_messages(senders[sender]) <= limits.max_open_per_sender,
            "open messages stay within the limit");
    require(reassembler.buffered_bytes(senders[sender]) <= limits.max_bytes_per_sender,
            "buffered bytes stay within the limit");
  }
  reassembler.expire(now + limits.timeout_seconds + 1);
  require(reassembler.senders() == 0, "everything expires");
  return 0;
}
