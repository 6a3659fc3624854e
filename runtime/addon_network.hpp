// The host's addon-message network: simulated clients exchanging SendAddonMessage traffic in
// one process, with the game's checks, fan-out and throttles, delivered in virtual time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tally {

// Enum.SendAddonMessageResult, with the game's values (ChatConstantsDocumentation). The checks
// run in this order: prefix, text, chat type, sender offline, lockdown, routing (guild, group,
// target, channel), then the per-prefix and bandwidth allowances. A refused send costs nothing.
enum class SendAddonMessageResult : std::uint8_t {
  Success = 0,
  InvalidPrefix = 1,          // empty, longer than max_prefix_bytes, or holding a NUL byte
  InvalidMessage = 2,         // text longer than max_text_bytes or holding a NUL byte
  AddonMessageThrottle = 3,   // the sender's allowance for this prefix is spent
  InvalidChatType = 4,        // not GUILD, RAID, PARTY, WHISPER or CHANNEL (any letter case)
  NotInGroup = 5,             // PARTY outside a party; RAID outside both raid and party
  TargetRequired = 6,         // WHISPER with an empty target
  InvalidChannel = 7,         // CHANNEL naming a channel the sender has not joined
  ChannelThrottle = 8,        // the sender's byte allowance is spent
  GeneralError = 9,           // the sender is offline
  NotInGuild = 10,            // GUILD without a guild
  AddOnMessageLockdown = 11,  // the sender is under the game's messaging lockdown
  TargetOffline = 12,         // WHISPER to a name that is unknown or offline
};
inline constexpr std::size_t kSendResultCount = 13;

// Enum.RegisterAddonMessagePrefixResult.
enum class RegisterPrefixResult : std::uint8_t {
  Success = 0,
  DuplicatePrefix = 1,
  InvalidPrefix = 2,
  MaxPrefixes = 3,
};

// Sizes and allowances. Defaults: the game's message limits and the community throttle
// library's accounting (800 B/s, 4000-byte burst, 40 bytes counted per message on top of prefix
// and text), plus the recent clients' per-prefix allowance of 10 messages then 1 per second.
struct NetworkLimits {
  std::size_t max_prefix_bytes = 16;
  std::size_t max_text_bytes = 255;
  std::size_t max_prefixes = 64;  // registered prefixes per client
  double bytes_per_second = 800;  // per sender, all prefixes and chat types together
  double burst_bytes = 4000;
  std::size_t overhead_bytes = 40;
  double prefix_burst_messages = 10;  // per (sender, prefix)
  double prefix_messages_per_second = 1;
};

// One copy of an accepted message on its way from its sender to one receiver: what a delivery
// policy decides about. The views are valid only during the policy call.
struct Transmission {
  std::uint64_t sequence;  // the send's number: 1, 2, ... in send order
  std::uint32_t sender;
  std::uint32_t receiver;
  std::string_view prefix;
  std::string_view text;
  std::string_view channel;  // as delivered: "GUILD", "RAID", "PARTY", "WHISPER", "CHANNEL"
  double sent_at;
  std::string_view sender_name;  // so a policy can name clients without the network at hand
  std::string_view receiver_name;
};

// Decides the fate of one copy: one delay in seconds (finite, >= 0) per copy to deliver. Empty
// loses the message, two or more duplicate it. Called at send time in a deterministic order
// (send order, then ascending receiver id), never for offline receivers, so a policy that
// draws from its own seeded generator reproduces the same run.
using DeliveryPolicy = std::function<std::vector<double>(const Transmission&)>;

struct NetworkOptions {
  NetworkLimits limits;
  double latency_seconds = 0.05;  // the delay of every copy when no policy is given
  // The game echoes some channels back to their sender (addons filter their own name); off,
  // a sender never receives its own GUILD, RAID, PARTY or CHANNEL message. Whispers to others
  // never come back.
  bool echo_to_sender = false;
  DeliveryPolicy policy;  // empty: latency_seconds for every copy, no loss
};

struct ClientInfo {
  std::uint32_t id = 0;
  std::string name;            // "Name-Realm"; unique ignoring ASCII letter case
  std::string guild;           // empty: not in a guild
  std::uint32_t raid_id = 0;   // 0: not in a raid
  std::uint32_t party_id = 0;  // 0: not in a party (in a raid, the party is the subgroup)
  bool online = true;
};

// CHAT_MSG_ADDON as one receiver gets it. `target` is the receiver's name for WHISPER, the
// channel name as the sender gave it for CHANNEL, and empty otherwise.
struct Delivery {
  std::uint32_t receiver;
  std::string prefix, text, channel, sender_name, target;
  double time;
};

// Counters of one client (as sender and as receiver) or of the whole network.
struct TrafficStats {
  std::uint64_t sent = 0;           // accepted sends
  std::uint64_t bytes_sent = 0;     // their prefix + text bytes
  std::uint64_t charged_bytes = 0;  // bytes_sent plus the per-message overhead
  std::array<std::uint64_t, kSendResultCount> refused{};  // by result code

  std::uint64_t delivered = 0;        // copies handed to a receiver (duplicates count twice)
  std::uint64_t bytes_delivered = 0;  // their prefix + text bytes
  std::uint64_t dropped_offline = 0;  // the receiver was offline at send or delivery time
  std::uint64_t unregistered = 0;     // the receiver had not registered the prefix
  std::uint64_t lost = 0;             // the delivery policy gave the copy no delay

  std::uint64_t refused_for(SendAddonMessageResult result) const {
    return refused[static_cast<std::size_t>(result)];
  }
  std::uint64_t refused_total() const;
};

// The network. Time is virtual and only moves forward: allowances refill and copies come due as
// advance_to()/collect() move it. Nothing here reads a clock or an unseeded generator.
class AddonNetwork {
 public:
  // Throws std::invalid_argument for a negative or non-finite latency or allowance.
  explicit AddonNetwork(NetworkOptions options = {});

  // Clients. An unknown id throws std::out_of_range; a duplicate id or name, or an empty name,
  // std::invalid_argument. A client's allowances start full when it is added.
  void add_client(ClientInfo info);
  const ClientInfo& client(std::uint32_t id) const;
  // Counts changes to clients, guilds, groups and online states: caches of rosters key on it.
  std::uint64_t membership_version() const { return membership_version_ + clients_.size(); }
  std::optional<std::uint32_t> id_of(std::string_view name) const;  // ignoring ASCII case
  void set_online(std::uint32_t id, bool online);
  void set_guild(std::uint32_t id, std::string guild);
  void set_group(std::uint32_t id, std::uint32_t raid_id, std::uint32_t party_id);
  void set_lockdown(std::uint32_t id, bool locked);  // e.g. during a boss encounter
  void join_channel(std::uint32_t id, std::string_view channel);  // names ignore ASCII case
  void leave_channel(std::uint32_t id, std::string_view channel);

  // C_ChatInfo.RegisterAddonMessagePrefix: a client receives only prefixes it registered
  // (byte-exact). Registrations survive going offline.
  RegisterPrefixResult register_prefix(std::uint32_t id, std::string_view prefix);
  bool is_prefix_registered(std::uint32_t id, std::string_view prefix) const;

  // C_ChatInfo.SendAddonMessage at now(). On Success one copy per receiver is handed to the
  // delivery policy; receivers are chosen now (GUILD: online or not, the sender's guild; RAID:
  // the raid, or the party when not in a raid, then delivered as "PARTY"; PARTY: the party;
  // WHISPER: the named client, matched ignoring ASCII case, possibly the sender itself;
  // CHANNEL: the channel's members). Receivers offline now are counted as dropped.
  SendAddonMessageResult send(std::uint32_t sender, std::string_view prefix,
                              std::string_view text, std::string_view chat_type,
                              std::string_view target = {});

  // Whether both of the sender's allowances (bandwidth and this prefix's) cover a message of
  // `text_bytes` now, so a paced sender can wait instead of being refused.
  bool allows(std::uint32_t sender, std::string_view prefix, std::size_t text_bytes) const;

  double now() const { return now_; }
  // Moves virtual time forward (seconds). Throws std::invalid_argument when going back or
  // when not finite.
  void advance_to(double now_seconds);
  // Advances to now_seconds and returns the copies due by then, by delivery time then send
  // order. A copy's receiver must be online and have registered the prefix when it is
  // collected, else it is counted and not returned. Delivery times are rounded to the
  // microsecond, so a copy sent at 0.1 with 0.05 of delay is due at exactly 0.15.
  std::vector<Delivery> collect(double now_seconds);
  std::optional<double> next_delivery_time() const;
  std::size_t in_flight() const { return queue_.size(); }

  const TrafficStats& stats(std::uint32_t id) const;
  const TrafficStats& totals() const { return totals_; }

 private:
  // Refills continuously at `rate` up to `capacity`, from the time of its last update.
  struct TokenBucket {
    double tokens = 0;
    double updated = 0;
    void refill(double now, double rate, double capacity);
  };
  struct Client {
    ClientInfo info;
    bool lockdown = false;
    std::set<std::string, std::less<>> prefixes;
    std::set<std::string, std::less<>> channels;  // ASCII-lowercased
    TokenBucket bandwidth;
    std::map<std::string, TokenBucket, std::less<>> prefix_allowance;
    TrafficStats stats;
  };
  struct Message {
    std::string prefix, text, channel, sender_name, target;
  };
  struct Pending {
    double time;
    std::uint64_t order;  // enqueue count: send order, then receiver id, then copy
    std::uint32_t receiver;
    std::shared_ptr<const Message> message;
  };
  struct LaterFirst {
    bool operator()(const Pending& a, const Pending& b) const;
  };
  struct Route {
    std::string channel;
    std::string target;
    std::vector<std::uint32_t> receivers;
  };

  Client& state(std::uint32_t id);
  const Client& state(std::uint32_t id) const;
  SendAddonMessageResult route(const Client& sender, std::string_view prefix,
                               std::string_view text, std::string_view chat_type,
                               std::string_view target, Route& out) const;
  void count(Client& client, std::uint64_t TrafficStats::*field, std::uint64_t by = 1);

  NetworkOptions options_;
  double now_ = 0;
  std::uint64_t sequence_ = 0;
  std::uint64_t membership_version_ = 0;
  std::uint64_t enqueued_ = 0;
  std::map<std::uint32_t, Client> clients_;  // ordered, so fan-out goes by ascending id
  std::unordered_map<std::string, std::uint32_t> ids_by_name_;  // ASCII-lowercased names
  std::priority_queue<Pending, std::vector<Pending>, LaterFirst> queue_;
  TrafficStats totals_;
};

}  // namespace tally
