// The host's addon-message network: validation, routing, allowances and the delivery queue.
#include "runtime/addon_network.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace tally {

namespace {

// Absorbs floating-point drift in refills (ten 0.1 s steps make 0.9999999999999999 s), so an
// allowance that should be exactly enough is enough.
constexpr double kTokenSlack = 1e-6;

// Names, channel names and chat types ignore ASCII letter case, as the game does for the
// Latin alphabet; other bytes (accented names) must match exactly.
std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool valid_prefix(std::string_view prefix, std::size_t max_bytes) {
  return !prefix.empty() && prefix.size() <= max_bytes &&
         prefix.find('\0') == std::string_view::npos;
}

double round_to_microsecond(double seconds) { return std::round(seconds * 1e6) / 1e6; }

void require_non_negative(double value, const char* what) {
  if (!std::isfinite(value) || value < 0) {
    throw std::invalid_argument(std::string("addon network: ") + what +
                                " must be finite and >= 0");
  }
}

// The const and non-const lookups of a client by id.
template <typename Clients>
auto& find_client(Clients& clients, std::uint32_t id) {
  auto it = clients.find(id);
  if (it == clients.end()) {
    throw std::out_of_range("addon network: no client " + std::to_string(id));
  }
  return it->second;
}

}  // namespace

std::uint64_t TrafficStats::refused_total() const {
  std::uint64_t total = 0;
  for (auto n : refused) total += n;
  return total;
}

void AddonNetwork::TokenBucket::refill(double now, double rate, double capacity) {
  tokens = std::min(capacity, tokens + (now - updated) * rate);
  updated = now;
}

bool AddonNetwork::LaterFirst::operator()(const Pending& a, const Pending& b) const {
  return std::tie(a.time, a.order) > std::tie(b.time, b.order);
}

AddonNetwork::AddonNetwork(NetworkOptions options) : options_(std::move(options)) {
  const NetworkLimits& l = options_.limits;
  require_non_negative(options_.latency_seconds, "latency_seconds");
  require_non_negative(l.bytes_per_second, "bytes_per_second");
  require_non_negative(l.burst_bytes, "burst_bytes");
  require_non_negative(l.prefix_burst_messages, "prefix_burst_messages");
  require_non_negative(l.prefix_messages_per_second, "prefix_messages_per_second");
  if (!options_.policy) {
    options_.policy = [delay = options_.latency_seconds](const Transmission&) {
      return std::vector<double>{delay};
    };
  }
}

AddonNetwork::Client& AddonNetwork::state(std::uint32_t id) { return find_client(clients_, id); }

const AddonNetwork::Client& AddonNetwork::state(std::uint32_t id) const {
  return find_client(clients_, id);
}

void AddonNetwork::add_client(ClientInfo info) {
  if (info.name.empty()) throw std::invalid_argument("addon network: a client needs a name");
  if (clients_.contains(info.id)) {
    throw std::invalid_argument("addon network: client " + std::to_string(info.id) +
                                " already exists");
  }
  auto folded = ascii_lower(info.name);
  if (ids_by_name_.contains(folded)) {
    throw std::invalid_argument("addon network: name " + info.name + " is taken");
  }
  ids_by_name_.emplace(std::move(folded), info.id);
  const std::uint32_t id = info.id;
  Client client;
  client.info = std::move(info);
  client.bandwidth = {options_.limits.burst_bytes, now_};
  clients_.emplace(id, std::move(client));
}

const ClientInfo& AddonNetwork::client(std::uint32_t id) const { return state(id).info; }

std::optional<std::uint32_t> AddonNetwork::id_of(std::string_view name) const {
  auto found = ids_by_name_.find(ascii_lower(name));
  if (found == ids_by_name_.end()) return std::nullopt;
  return found->second;
}

void AddonNetwork::set_online(std::uint32_t id, bool online) {
  ClientInfo& info = state(id).info;
  if (info.online != online) ++membership_version_;
  info.online = online;
}

void AddonNetwork::set_guild(std::uint32_t id, std::string guild) {
  state(id).info.guild = std::move(guild);
  ++membership_version_;
}

void AddonNetwork::set_group(std::uint32_t id, std::uint32_t raid_id, std::uint32_t party_id) {
  Client& c = state(id);
  c.info.raid_id = raid_id;
  c.info.party_id = party_id;
  ++membership_version_;
}

void AddonNetwork::set_lockdown(std::uint32_t id, bool locked) { state(id).lockdown = locked; }

void AddonNetwork::join_channel(std::uint32_t id, std::string_view channel) {
  state(id).channels.insert(ascii_lower(channel));
}

void AddonNetwork::leave_channel(std::uint32_t id, std::string_view channel) {
  state(id).channels.erase(ascii_lower(channel));
}

RegisterPrefixResult AddonNetwork::register_prefix(std::uint32_t id, std::string_view prefix) {
  Client& c = state(id);
  if (!valid_prefix(prefix, options_.limits.max_prefix_bytes)) {
    return RegisterPrefixResult::InvalidPrefix;
  }
  if (c.prefixes.contains(prefix)) return RegisterPrefixResult::DuplicatePrefix;
  if (c.prefixes.size() >= options_.limits.max_prefixes) return RegisterPrefixResult::MaxPrefixes;
  c.prefixes.emplace(prefix);
  return RegisterPrefixResult::Success;
}

bool AddonNetwork::is_prefix_registered(std::uint32_t id, std::string_view prefix) const {
  return state(id).prefixes.contains(prefix);
}

void AddonNetwork::count(Client& client, std::uint64_t TrafficStats::*field, std::uint64_t by) {
  client.stats.*field += by;
  totals_.*field += by;
}

SendAddonMessageResult AddonNetwork::route(const Client& sender, std::string_view prefix,
                                           std::string_view text, std::string_view chat_type,
                                           std::string_view target, Route& out) const {
  using R = SendAddonMessageResult;
  const NetworkLimits& l = options_.limits;
  if (!valid_prefix(prefix, l.max_prefix_bytes)) return R::InvalidPrefix;
  if (text.size() > l.max_text_bytes || text.find('\0') != std::string_view::npos) {
    return R::InvalidMessage;
  }
  const std::string type = ascii_lower(chat_type);
  if (type != "guild" && type != "raid" && type != "party" && type != "whisper" &&
      type != "channel") {
    return R::InvalidChatType;
  }
  if (!sender.info.online) return R::GeneralError;
  if (sender.lockdown) return R::AddOnMessageLockdown;

  const ClientInfo& me = sender.info;
  if (type == "whisper") {
    if (target.empty()) return R::TargetRequired;
    auto found = ids_by_name_.find(ascii_lower(target));
    if (found == ids_by_name_.end()) return R::TargetOffline;
    const ClientInfo& receiver = clients_.at(found->second).info;
    if (!receiver.online) return R::TargetOffline;
    out.channel = "WHISPER";
    out.target = receiver.name;
    out.receivers.push_back(receiver.id);
    return R::Success;
  }

  // The other chat types reach every member but the sender (unless echoed), by ascending id.
  std::function<bool(const Client&)> member;
  if (type == "guild") {
    if (me.guild.empty()) return R::NotInGuild;
    out.channel = "GUILD";
    member = [&](const Client& c) { return c.info.guild == me.guild; };
  } else if (type == "raid" && me.raid_id != 0) {
    out.channel = "RAID";
    member = [&](const Client& c) { return c.info.raid_id == me.raid_id; };
  } else if (type == "raid" || type == "party") {
    // RAID outside a raid goes to the party, as the game does.
    if (me.party_id == 0) return R::NotInGroup;
    out.channel = "PARTY";
    member = [&](const Client& c) { return c.info.party_id == me.party_id; };
  } else {
    const std::string channel = ascii_lower(target);
    if (!sender.channels.contains(channel)) return R::InvalidChannel;
    out.channel = "CHANNEL";
    out.target = target;
    member = [channel](const Client& c) { return c.channels.contains(channel); };
  }
  for (const auto& [id, c] : clients_) {
    if (id == me.id ? options_.echo_to_sender : member(c)) out.receivers.push_back(id);
  }
  return R::Success;
}

SendAddonMessageResult AddonNetwork::send(std::uint32_t sender_id, std::string_view prefix,
                                          std::string_view text, std::string_view chat_type,
                                          std::string_view target) {
  using R = SendAddonMessageResult;
  Client& sender = state(sender_id);
  const NetworkLimits& l = options_.limits;
  Route path;
  R result = route(sender, prefix, text, chat_type, target, path);

  // Both allowances must cover the message before either is spent.
  const std::size_t bytes = prefix.size() + text.size();
  const double cost = static_cast<double>(bytes + l.overhead_bytes);
  TokenBucket* per_prefix = nullptr;
  if (result == R::Success) {
    per_prefix = &sender.prefix_allowance
                      .try_emplace(std::string(prefix), TokenBucket{l.prefix_burst_messages, now_})
                      .first->second;
    per_prefix->refill(now_, l.prefix_messages_per_second, l.prefix_burst_messages);
    sender.bandwidth.refill(now_, l.bytes_per_second, l.burst_bytes);
    if (per_prefix->tokens + kTokenSlack < 1) {
      result = R::AddonMessageThrottle;
    } else if (sender.bandwidth.tokens + kTokenSlack < cost) {
      result = R::ChannelThrottle;
    }
  }
  if (result != R::Success) {
    ++sender.stats.refused[static_cast<std::size_t>(result)];
    ++totals_.refused[static_cast<std::size_t>(result)];
    return result;
  }

  // Ask the policy about every online receiver before changing anything, so a policy that
  // returns a bad delay leaves the network as it was.
  const std::uint64_t sequence = sequence_ + 1;
  std::vector<std::vector<double>> delays(path.receivers.size());
  for (std::size_t i = 0; i < path.receivers.size(); ++i) {
    const std::uint32_t receiver = path.receivers[i];
    const ClientInfo& to = clients_.at(receiver).info;
    if (!to.online) continue;
    delays[i] = options_.policy(Transmission{sequence, sender_id, receiver, prefix, text,
                                             path.channel, now_, sender.info.name, to.name});
    for (double d : delays[i]) require_non_negative(d, "a delivery policy's delay");
  }

  sequence_ = sequence;
  per_prefix->tokens = std::max(0.0, per_prefix->tokens - 1);
  sender.bandwidth.tokens = std::max(0.0, sender.bandwidth.tokens - cost);
  count(sender, &TrafficStats::sent);
  count(sender, &TrafficStats::bytes_sent, bytes);
  count(sender, &TrafficStats::charged_bytes, bytes + l.overhead_bytes);

  auto message = std::make_shared<const Message>(
      Message{std::string(prefix), std::string(text), path.channel, sender.info.name,
              path.target});
  for (std::size_t i = 0; i < path.receivers.size(); ++i) {
    Client& receiver = clients_.at(path.receivers[i]);
    if (!receiver.info.online) {
      count(receiver, &TrafficStats::dropped_offline);
    } else if (delays[i].empty()) {
      count(receiver, &TrafficStats::lost);
    }
    for (double d : delays[i]) {
      const double due = std::max(now_, round_to_microsecond(now_ + d));
      queue_.push(Pending{due, ++enqueued_, path.receivers[i], message});
    }
  }
  return R::Success;
}

void AddonNetwork::advance_to(double now_seconds) {
  if (!std::isfinite(now_seconds) || now_seconds < now_) {
    throw std::invalid_argument("addon network: time must move forward and stay finite");
  }
  now_ = now_seconds;
}

std::vector<Delivery> AddonNetwork::collect(double now_seconds) {
  advance_to(now_seconds);
  std::vector<Delivery> due;
  while (!queue_.empty() && queue_.top().time <= now_) {
    const Pending copy = queue_.top();
    queue_.pop();
    Client& receiver = clients_.at(copy.receiver);
    const Message& m = *copy.message;
    if (!receiver.info.online) {
      count(receiver, &TrafficStats::dropped_offline);
    } else if (!receiver.prefixes.contains(m.prefix)) {
      count(receiver, &TrafficStats::unregistered);
    } else {
      count(receiver, &TrafficStats::delivered);
      count(receiver, &TrafficStats::bytes_delivered, m.prefix.size() + m.text.size());
      due.push_back(Delivery{copy.receiver, m.prefix, m.text, m.channel, m.sender_name, m.target,
                             copy.time});
    }
  }
  return due;
}

std::optional<double> AddonNetwork::next_delivery_time() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.top().time;
}

bool AddonNetwork::allows(std::uint32_t sender_id, std::string_view prefix, std::size_t text_bytes) const {
  const Client& sender = state(sender_id);
  const NetworkLimits& l = options_.limits;
  TokenBucket bandwidth = sender.bandwidth;
  bandwidth.refill(now_, l.bytes_per_second, l.burst_bytes);
  double cost = static_cast<double>(prefix.size() + text_bytes + l.overhead_bytes);
  if (bandwidth.tokens + kTokenSlack < cost) return false;
  auto it = sender.prefix_allowance.find(prefix);
  if (it == sender.prefix_allowance.end()) return true;  // a fresh prefix starts with a full burst
  TokenBucket per_prefix = it->second;
  per_prefix.refill(now_, l.prefix_messages_per_second, l.prefix_burst_messages);
  return per_prefix.tokens + kTokenSlack >= 1;
}

const TrafficStats& AddonNetwork::stats(std::uint32_t id) const { return state(id).stats; }

}  // namespace tally
