// SyncLink: framing, pacing and reassembly between a sync protocol and the network.
#include "runtime/sync_link.hpp"

#include <algorithm>
#include <stdexcept>

namespace tally {

namespace {

// Prefix and text together stay within 254 bytes (the stricter reading of the game's limit).
std::size_t frame_bytes_for(const std::string& prefix) {
  return std::min<std::size_t>(kDefaultMaxFrameBytes, 254 - std::min<std::size_t>(prefix.size(), 254 - kMinFrameBytes));
}

}  // namespace

namespace {

std::vector<std::string> lane_prefixes(const std::string& prefix, std::size_t lanes) {
  if (lanes < 1 || lanes > SyncLink::kMaxLanes) throw std::invalid_argument("sync: lanes must be 1..9");
  std::vector<std::string> out{prefix};
  for (std::size_t i = 2; i <= lanes; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

}  // namespace

SyncLink::SyncLink(std::unique_ptr<SyncEndpoint> endpoint, std::string prefix, std::uint32_t client_id,
                   std::uint16_t first_message_id, std::size_t lanes)
    : endpoint_(std::move(endpoint)),
      prefixes_(lane_prefixes(prefix, lanes)),
      client_id_(client_id),
      encoder_(frame_bytes_for(prefixes_.back()), first_message_id) {}

bool SyncLink::handles(std::string_view prefix) const {
  return std::find(prefixes_.begin(), prefixes_.end(), prefix) != prefixes_.end();
}

void SyncLink::on_frame(const std::string& sender, std::string_view text, double now) {
  ++counters_.frames_received;
  counters_.bytes_received += prefix().size() + text.size();
  auto result = reassembler_.receive(sender, text, now);
  if (!result || !result->ok()) return;  // a pending chunk, or a drop the reassembler counted
  ++counters_.messages_decoded;
  endpoint_->receive(sender, result->value(), now);
}

void SyncLink::enqueue(const OutgoingMessage& out) {
  std::vector<std::string> frames;
  try {
    if (const auto* e = std::get_if<Entries>(&out.message)) {
      frames = encoder_.encode_entry_frames({MessageKind::Entries, e->session}, e->entries);
    } else if (const auto* w = std::get_if<RefWeek>(&out.message)) {
      frames = encoder_.encode_entry_frames({MessageKind::RefWeek, w->week}, w->entries);
    } else {
      frames = encoder_.encode(out.message);
    }
  } catch (const std::exception&) {
    ++counters_.encode_failures;
    return;
  }
  for (std::string& text : frames) queue_.push_back({std::move(text), out.channel, out.target});
  while (queue_.size() > kMaxQueuedFrames) {
    queue_.pop_front();
    ++counters_.frames_dropped;
  }
}

void SyncLink::pump(AddonNetwork& network, double now) {
  last_pump_ = now;
  endpoint_->set_backlog(queue_.size());
  endpoint_->tick(now);
  for (const OutgoingMessage& out : endpoint_->take_outgoing()) enqueue(out);
  while (!queue_.empty()) {
    const Frame& f = queue_.front();
    auto lane = std::find_if(prefixes_.begin(), prefixes_.end(),
                             [&](const std::string& p) { return network.allows(client_id_, p, f.text.size()); });
    if (lane == prefixes_.end()) break;  // every lane is throttled: wait for allowance
    auto result = network.send(client_id_, *lane, f.text, f.channel, f.target);
    if (result == SendAddonMessageResult::AddonMessageThrottle || result == SendAddonMessageResult::ChannelThrottle) break;
    if (result == SendAddonMessageResult::Success) {
      ++counters_.frames_sent;
      counters_.bytes_sent += lane->size() + f.text.size();
    } else {
      ++counters_.send_failures;  // offline, not in a guild...: this frame is lost
    }
    queue_.pop_front();
  }
  if (now - last_expire_ >= 1) {
    reassembler_.expire(now);
    last_expire_ = now;
  }
}

}  // namespace tally
