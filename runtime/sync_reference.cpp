// The reference design's sync protocol: week adverts, week requests, whole-week answers.
#include "runtime/sync_reference.hpp"

#include <algorithm>
#include <limits>
#include <optional>

namespace tally {

namespace {

// The last week a 32-bit timestamp falls in; later weeks hold nothing.
constexpr std::uint32_t kLastWeek = week_of(std::numeric_limits<std::uint32_t>::max());

}  // namespace

ReferenceSync::ReferenceSync(SyncContext context, ReferenceSyncConfig config)
    : SyncEndpoint(std::move(context)),
      config_(config),
      random_(context_.seed ^ text_hash(context_.self)),
      // Each client starts its ticker when it logs in: a random phase, not all in step.
      next_advert_(random_.uniform(0, config_.advert_interval)) {}

ReferenceSync::WeekState ReferenceSync::mine(std::uint32_t week) const {
  if (week == 0 || week > kLastWeek) return {};
  return {ledger().week_adler32(week), ledger().week(week).count};
}

// ---------------------------------------------------------------------------------------------
// Incoming

void ReferenceSync::receive(const std::string& sender, const SyncMessage& message, double now) {
  if (sender == context_.self) return;
  ++counters_.messages_in;
  if (const auto* a = std::get_if<RefAdvert>(&message)) {
    on_advert(sender, *a, now);
  } else if (const auto* r = std::get_if<RefRequest>(&message)) {
    on_request(sender, *r, now);
  } else if (const auto* w = std::get_if<RefWeek>(&message)) {
    deliver(w->entries, sender);
  }
  // Tally's messages are not ours: ignored.
}

void ReferenceSync::on_advert(const std::string& sender, const RefAdvert& advert, double now) {
  Fingerprint total = ledger().fingerprint();
  auto projected = static_cast<std::int64_t>(total.count);
  bool all_match = true;
  for (const RefAdvertWeek& w : advert.weeks) {
    WeekState theirs{w.adler, w.count};
    WeekState own = mine(w.week);
    heard_[w.week].insert_or_assign(sender, Heard{theirs, now});
    projected += static_cast<std::int64_t>(theirs.count) - own.count;
    if (theirs == own) {
      // A peer just advertised what we would: our advert of this week can wait.
      advert_inhibited_[w.week] = now + config_.inhibit;
      continue;
    }
    all_match = false;
    double& until = request_inhibited_[w.week];
    if (until > now) continue;
    until = now + config_.inhibit;
    ++counters_.sessions_started;
    send(RefRequest{w.week});
  }
  // The advert states a few weeks, not the ledger: a peer whose advertised weeks all match ours
  // counts as holding what we hold (state() says Synced), which is all the reference can tell.
  PeerInfo info;
  info.count = static_cast<std::uint64_t>(std::max<std::int64_t>(0, projected));
  info.fingerprint = all_match ? total.sum : total.sum + 1;
  note_peer(sender, info, now, 0);
}

void ReferenceSync::on_request(const std::string& sender, const RefRequest& request, double now) {
  std::uint32_t week = request.week;
  if (answers_.contains(week)) return;  // our answer is already due: it serves this one too
  if (auto it = answer_inhibited_.find(week); it != answer_inhibited_.end() && it->second > now) {
    return;
  }
  if (!has_priority(week, sender, now)) return;
  double delay = random_.uniform(config_.answer_delay_min, config_.answer_delay_max);
  answers_[week] = {sender, now + delay};
}

bool ReferenceSync::has_priority(std::uint32_t week, const std::string& requester,
                                 double now) const {
  auto it = heard_.find(week);
  if (it == heard_.end()) return false;
  const auto& advertisers = it->second;
  auto fresh = [&](const Heard& h) { return now - h.at <= config_.advert_valid; };
  auto self = advertisers.find(context_.self);
  if (self == advertisers.end() || !fresh(self->second)) return false;
  // The requester wants a version other than its own; without its advert, any version.
  std::optional<WeekState> requester_state;
  if (auto r = advertisers.find(requester); r != advertisers.end() && fresh(r->second)) {
    requester_state = r->second.state;
  }
  if (requester_state == self->second.state) return false;
  for (const auto& [name, heard] : advertisers) {
    if (name >= context_.self) break;  // ordered by name: only lower names outrank us
    if (name == requester || !fresh(heard) || requester_state == heard.state) continue;
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Outgoing

void ReferenceSync::local_insert(const EntryKey& key, double) {
  std::vector<Entry> entries = sendable({key});
  if (entries.empty()) return;
  ++counters_.pushes;
  send(RefWeek{week_of(key.timestamp), std::move(entries)});
}

void ReferenceSync::send_week(std::uint32_t week) {
  if (week == 0 || week > kLastWeek) return;
  std::uint64_t end = std::uint64_t{week_start(week)} + 604800;
  std::size_t from = ledger().position_at_time(week_start(week));
  std::size_t to = end > std::numeric_limits<std::uint32_t>::max()
                       ? ledger().size()
                       : ledger().position_at_time(static_cast<std::uint32_t>(end));
  std::vector<EntryKey> keys;
  keys.reserve(to - from);
  ledger().for_each(from, to, [&](std::size_t, const EntryView& e) { keys.push_back(e.key()); });
  std::vector<Entry> entries = sendable(keys);
  ++counters_.sessions_answered;
  if (!entries.empty()) send(RefWeek{week, std::move(entries)});
}

void ReferenceSync::add_week(RefAdvert& advert, std::uint32_t week, double now) {
  double& until = advert_inhibited_[week];
  if (until > now) return;
  until = now + config_.inhibit;
  WeekState state = mine(week);
  advert.weeks.push_back({week, state.adler, state.count});
  heard_[week].insert_or_assign(context_.self, Heard{state, now});
}

void ReferenceSync::advertise(double now) {
  if (ledger().empty()) return;
  // The reference counts recent weeks back from the server's current week; without a server
  // calendar here, the week of the newest entry stands for it.
  std::uint32_t current = week_of(ledger().at(ledger().size() - 1).key().timestamp);
  std::uint32_t span = current - week_of(ledger().at(0).key().timestamp) + 1;
  RefAdvert advert;
  for (std::uint32_t i = 0; i < config_.recent_weeks && i < current; ++i) {
    add_week(advert, current - i, now);
  }
  if (span > config_.recent_weeks) {
    for (std::uint32_t i = 0; i < config_.rolling_weeks; ++i) {
      std::uint64_t back = std::uint64_t{config_.recent_weeks} + rolling_offset_ + i;
      if (back >= span) break;  // before the first week with data
      add_week(advert, current - static_cast<std::uint32_t>(back), now);
    }
    rolling_offset_ += config_.rolling_weeks;
    if (rolling_offset_ > span - config_.recent_weeks - 1) rolling_offset_ = 0;
  }
  if (!advert.weeks.empty()) send(std::move(advert));
}

void ReferenceSync::forget_expired(double now) {
  auto past = [now](const auto& item) { return item.second <= now; };
  std::erase_if(advert_inhibited_, past);
  std::erase_if(request_inhibited_, past);
  std::erase_if(answer_inhibited_, past);
  for (auto it = heard_.begin(); it != heard_.end();) {
    std::erase_if(it->second,
                  [&](const auto& h) { return now - h.second.at > config_.advert_valid; });
    it = it->second.empty() ? heard_.erase(it) : std::next(it);
  }
}

void ReferenceSync::tick(double now) {
  for (auto it = answers_.begin(); it != answers_.end();) {
    if (now < it->second.due) {
      ++it;
      continue;
    }
    // Checked again: a lower-named peer may have advertised the week since the request.
    if (has_priority(it->first, it->second.requester, now)) {
      answer_inhibited_[it->first] = now + config_.inhibit;
      send_week(it->first);
    }
    it = answers_.erase(it);
  }
  if (now >= next_advert_) {
    next_advert_ = now + config_.advert_interval;
    forget_expired(now);
    advertise(now);
  }
}

}  // namespace tally
