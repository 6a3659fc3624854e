// The transport between a sync protocol and the addon-message network, for one client and one
// ledger: outgoing messages become NUL-free frames queued and sent as fast as the client's
// allowances let them; incoming frames are reassembled per sender, decoded and handed to the
// protocol. Malformed frames are dropped and counted by reason.
//
// Lanes: recent game clients let each prefix send a burst of 10 messages, then 1 per second,
// which caps one prefix at ~250 B/s of the 800 B/s a client may send. A link can spread its
// frames over several prefixes ("TDKP", "TDKP2", "TDKP3"), whichever has allowance left, so
// bulk transfers use the whole byte budget; the byte budget itself is shared and still holds.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/addon_network.hpp"
#include "runtime/sync_endpoint.hpp"
#include "runtime/sync_frames.hpp"

namespace tally {

struct LinkCounters {
  std::uint64_t frames_sent = 0;
  std::uint64_t bytes_sent = 0;       // prefix + text, as the network counts them
  std::uint64_t frames_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_decoded = 0;
  std::uint64_t frames_dropped = 0;   // the queue was full: oldest frames dropped
  std::uint64_t send_failures = 0;    // refused for a reason other than throttling
  std::uint64_t encode_failures = 0;  // messages that could not be encoded (never expected)
};

class SyncLink {
 public:
  static constexpr std::size_t kMaxQueuedFrames = 20000;

  static constexpr std::size_t kMaxLanes = 9;

  // `first_message_id` should differ between runs of a client (chunk ids), e.g. from a seed.
  // `lanes` prefixes are used: `prefix`, then `prefix` followed by 2, 3, ... (so `prefix` must
  // leave room for the digit within 16 characters when lanes > 1).
  SyncLink(std::unique_ptr<SyncEndpoint> endpoint, std::string prefix, std::uint32_t client_id,
           std::uint16_t first_message_id = 0, std::size_t lanes = 1);

  const std::string& prefix() const { return prefixes_.front(); }
  const std::vector<std::string>& prefixes() const { return prefixes_; }
  bool handles(std::string_view prefix) const;
  SyncEndpoint& endpoint() { return *endpoint_; }
  const SyncEndpoint& endpoint() const { return *endpoint_; }

  // A CHAT_MSG_ADDON with this link's prefix.
  void on_frame(const std::string& sender, std::string_view text, double now);
  // Once per frame: the protocol's tick, then its messages framed and sent while allowed.
  void pump(AddonNetwork& network, double now);
  // An entry this client created (pushed to peers soon).
  void local_insert(const EntryKey& key) { endpoint_->local_insert(key, last_pump_); }

  std::size_t backlog() const { return queue_.size(); }
  const LinkCounters& counters() const { return counters_; }
  const DropCounters& drops() const { return reassembler_.drops(); }

 private:
  struct Frame {
    std::string text;
    std::string channel;
    std::string target;
  };
  void enqueue(const OutgoingMessage& message);

  std::unique_ptr<SyncEndpoint> endpoint_;
  std::vector<std::string> prefixes_;
  std::uint32_t client_id_;
  FrameEncoder encoder_;
  Reassembler reassembler_;
  std::deque<Frame> queue_;
  LinkCounters counters_;
  double last_expire_ = 0;
  double last_pump_ = 0;
};

}  // namespace tally
