// One client's side of a sync protocol for one ledger: the interface the transport drives
// (messages in, ticks, local inserts; messages out) and what every protocol reports (peers,
// sync state, counters). Protocols: sync_tally.hpp (Tally's) and sync_reference.hpp (the
// reference design's, the baseline).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/ledger.hpp"
#include "runtime/sync_wire.hpp"

namespace tally {

// A message for the transport: broadcast on `channel`, or whispered to `target`.
struct OutgoingMessage {
  SyncMessage message;
  std::string channel = "GUILD";
  std::string target;
};

enum class SyncState : std::uint8_t {
  Unknown,    // no peer heard from recently
  Synced,     // every peer heard from recently holds what we hold
  OutOfSync,  // some peer differs
};
std::string_view state_name(SyncState state);

// What a client knows about one peer, from its last advert.
struct PeerInfo {
  std::uint64_t count = 0;
  std::uint64_t fingerprint = 0;
  std::uint32_t adler = 0;
  std::uint32_t newest_timestamp = 0;
  std::uint16_t version = 0;
  double last_seen = 0;
  double last_advert = -1e300;
};

struct SyncCounters {
  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;
  std::uint64_t entries_sent = 0;
  std::uint64_t entries_received = 0;   // handed to the ledger's remote queue
  std::uint64_t sessions_started = 0;   // reconciliations this client began
  std::uint64_t sessions_answered = 0;  // reconciliations this client answered
  std::uint64_t pushes = 0;             // entry pushes (new entries, or a peer's missing suffix)
  std::uint64_t suppressed = 0;         // answers or pushes left to another peer that was faster
  std::uint64_t bypassed = 0;           // peers that claimed a session and never answered
  std::uint64_t adverts_ignored = 0;    // adverts arriving faster than a peer may send them
  std::uint64_t withheld = 0;           // entries the send-stage authorization kept back
};

// What a protocol needs from its client.
struct SyncContext {
  const Ledger* ledger = nullptr;
  std::string self;          // this client's "Name-Realm"; its own echoes are ignored
  std::uint64_t seed = 1;    // randomized backoffs draw from it: a run repeats with its seed
  // Received entries: to the ledger's remote queue (authorized there before they are committed).
  std::function<void(std::vector<Entry>, const std::string& sender)> deliver;
  // Authorization at stage "send": whether an entry may leave this client. Empty: all may.
  std::function<bool(const Entry&)> may_send;
};

class SyncEndpoint {
 public:
  explicit SyncEndpoint(SyncContext context) : context_(std::move(context)) {}
  virtual ~SyncEndpoint() = default;
  SyncEndpoint(const SyncEndpoint&) = delete;
  SyncEndpoint& operator=(const SyncEndpoint&) = delete;

  // A decoded message from `sender` ("Name-Realm", as the network reported it).
  virtual void receive(const std::string& sender, const SyncMessage& message, double now) = 0;
  // Called every frame with the host clock in seconds.
  virtual void tick(double now) = 0;
  // An entry this client created: pushed to its peers soon.
  virtual void local_insert(const EntryKey& key, double now) = 0;
  // The transport's backlog: frames queued and not yet sent. Protocols wait while it is long.
  void set_backlog(std::size_t frames) { backlog_ = frames; }

  std::vector<OutgoingMessage> take_outgoing() { return std::exchange(outgoing_, {}); }
  SyncState state(double now) const;
  const std::map<std::string, PeerInfo, std::less<>>& peers() const { return peers_; }
  const SyncCounters& counters() const { return counters_; }
  const std::string& self() const { return context_.self; }

  // Peers not heard from for this long no longer count for the sync state.
  static constexpr double kPeerStaleSeconds = 180;
  // At most this many peers are remembered (the least recently heard is forgotten).
  static constexpr std::size_t kMaxPeers = 512;

 protected:
  void send(SyncMessage message, std::string channel = "GUILD", std::string target = {});
  // Records an advert-like summary of `name`; false when it came too soon after the last one
  // (counted as ignored): at most one per `min_interval` seconds per peer.
  bool note_peer(const std::string& name, const PeerInfo& info, double now, double min_interval);
  // Entries at the given keys that this client holds and may send.
  std::vector<Entry> sendable(const std::vector<EntryKey>& keys);
  void deliver(std::vector<Entry> entries, const std::string& sender);

  const Ledger& ledger() const { return *context_.ledger; }

  SyncContext context_;
  std::map<std::string, PeerInfo, std::less<>> peers_;
  SyncCounters counters_;
  std::size_t backlog_ = 0;

 private:
  std::vector<OutgoingMessage> outgoing_;
};

// A small deterministic generator for backoffs (splitmix64).
class SyncRandom {
 public:
  explicit SyncRandom(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double uniform(double lo, double hi);  // [lo, hi)

 private:
  std::uint64_t state_;
};

// A stable 64-bit hash of a text (FNV-1a), e.g. to give each client its own random stream.
std::uint64_t text_hash(std::string_view text);

}  // namespace tally
