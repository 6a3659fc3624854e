// What every sync protocol shares: peers, sync state, the outgoing queue, sending and delivery.
#include "runtime/sync_endpoint.hpp"

#include <algorithm>

namespace tally {

std::string_view state_name(SyncState state) {
  switch (state) {
    case SyncState::Unknown: return "unknown";
    case SyncState::Synced: return "synced";
    case SyncState::OutOfSync: return "out of sync";
  }
  return "?";
}

SyncState SyncEndpoint::state(double now) const {
  Fingerprint mine = ledger().fingerprint();
  bool any = false;
  for (const auto& [name, peer] : peers_) {
    if (now - peer.last_seen > kPeerStaleSeconds) continue;
    any = true;
    if (peer.count != mine.count || peer.fingerprint != mine.sum) return SyncState::OutOfSync;
  }
  return any ? SyncState::Synced : SyncState::Unknown;
}

void SyncEndpoint::send(SyncMessage message, std::string channel, std::string target) {
  ++counters_.messages_out;
  if (const auto* e = std::get_if<Entries>(&message)) counters_.entries_sent += e->entries.size();
  if (const auto* w = std::get_if<RefWeek>(&message)) counters_.entries_sent += w->entries.size();
  outgoing_.push_back({std::move(message), std::move(channel), std::move(target)});
}

bool SyncEndpoint::note_peer(const std::string& name, const PeerInfo& info, double now, double min_interval) {
  auto it = peers_.find(name);
  if (it != peers_.end() && now - it->second.last_advert < min_interval) {
    ++counters_.adverts_ignored;
    it->second.last_seen = now;
    return false;
  }
  if (it == peers_.end() && peers_.size() >= kMaxPeers) {
    auto oldest = std::min_element(peers_.begin(), peers_.end(), [](const auto& a, const auto& b) {
      return a.second.last_seen < b.second.last_seen;
    });
    peers_.erase(oldest);
  }
  PeerInfo& peer = peers_[name];
  peer = info;
  peer.last_seen = now;
  peer.last_advert = now;
  return true;
}

std::vector<Entry> SyncEndpoint::sendable(const std::vector<EntryKey>& keys) {
  std::vector<Entry> out;
  out.reserve(keys.size());
  for (const EntryKey& key : keys) {
    auto position = ledger().find(key);
    if (!position) continue;
    Entry e = ledger().at(*position).to_entry();
    if (context_.may_send && !context_.may_send(e)) {
      ++counters_.withheld;
      continue;
    }
    out.push_back(std::move(e));
  }
  return out;
}

void SyncEndpoint::deliver(std::vector<Entry> entries, const std::string& sender) {
  if (entries.empty() || !context_.deliver) return;
  counters_.entries_received += entries.size();
  context_.deliver(std::move(entries), sender);
}

std::uint64_t SyncRandom::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double SyncRandom::uniform(double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
}

std::uint64_t text_hash(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

}  // namespace tally
