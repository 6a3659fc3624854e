// Tally's sync protocol: adverts, suffix pushes, range reconciliation, claims and bypass.
#include "runtime/sync_tally.hpp"

#include <algorithm>
#include <limits>

namespace tally {

namespace {

// A non-zero tag naming one advertised state of a peer: pushes aimed at it share it.
std::uint32_t advert_tag(std::uint64_t count, std::uint64_t fingerprint) {
  std::uint64_t h = text_hash(std::string_view(reinterpret_cast<const char*>(&count), sizeof count)) ^ fingerprint;
  auto tag = static_cast<std::uint32_t>(h ^ (h >> 32));
  return tag == 0 ? 1 : tag;
}

// The smallest key after `k` (saturating at the largest key).
EntryKey successor(EntryKey k) {
  if (++k.creator != 0) return k;
  if (++k.realm != 0) return k;
  if (++k.counter != 0) return k;
  if (k.timestamp == std::numeric_limits<std::uint32_t>::max()) {
    return {k.timestamp, 0xff, 0xffff, 0xffffffff};
  }
  ++k.timestamp;
  return k;
}

// Consecutive skipped ranges merge into one (the last one's bound stands for all).
std::vector<RangeItem> merge_skips(std::vector<RangeItem> items) {
  std::vector<RangeItem> out;
  for (RangeItem& item : items) {
    bool skip = std::holds_alternative<RangeSkip>(item.content);
    if (skip && !out.empty() && std::holds_alternative<RangeSkip>(out.back().content)) {
      out.back().upper = item.upper;
    } else {
      out.push_back(std::move(item));
    }
  }
  return out;
}

}  // namespace

bool TallySync::Reply::open() const {
  return std::any_of(items.begin(), items.end(),
                     [](const RangeItem& i) { return !std::holds_alternative<RangeSkip>(i.content); });
}

TallySync::TallySync(SyncContext context, TallySyncConfig config)
    : SyncEndpoint(std::move(context)),
      config_(config),
      random_(context_.seed ^ text_hash(context_.self)) {}

// ---------------------------------------------------------------------------------------------
// Reconciliation

RangeIds TallySync::ids(std::size_t from, std::size_t to) const {
  RangeIds out;
  out.ids.reserve(to - from);
  ledger().for_each(from, to, [&](std::size_t, const EntryView& e) {
    out.ids.push_back({e.key(), content_tag(e.content_hash())});
  });
  return out;
}

std::vector<RangeItem> TallySync::split(std::size_t from, std::size_t to, const std::optional<EntryKey>& upper) const {
  std::vector<RangeItem> items;
  std::size_t n = to - from;
  if (n <= config_.id_list_max) {
    items.push_back({upper, ids(from, to)});
    return items;
  }
  // No more pieces than it takes to bring each under the id-list size: a range just over it
  // splits in two, not into `buckets` tiny ranges.
  std::size_t parts = std::min(config_.buckets, (n + config_.id_list_max - 1) / config_.id_list_max);
  parts = std::max<std::size_t>(parts, 2);
  for (std::size_t k = 0; k < parts; ++k) {
    std::size_t s = from + n * k / parts;
    std::size_t e = from + n * (k + 1) / parts;
    Fingerprint f = ledger().fingerprint(s, e);
    std::optional<EntryKey> bound = k + 1 == parts ? upper : std::optional<EntryKey>(ledger().at(e).key());
    items.push_back({bound, RangeFingerprint{static_cast<std::uint32_t>(f.count), f.sum}});
  }
  return items;
}

Ranges TallySync::opening(std::uint32_t session) const {
  Ranges r;
  r.session = session;
  r.items = split(0, ledger().size(), std::nullopt);
  return r;
}

TallySync::Reply TallySync::reconcile(const Ranges& in) const {
  Reply out;
  // Rough wire bytes of the reply so far: past the budget, differing ranges go back whole (our
  // fingerprint) for the other side to split, so no reply outgrows a receiver's buffers and
  // each round stays quick to send.
  std::size_t bytes = 0;
  std::size_t p0 = ledger().lower_bound(in.lower);
  for (const RangeItem& item : in.items) {
    std::size_t p1 = item.upper ? ledger().lower_bound(*item.upper) : ledger().size();
    p1 = std::max(p0, p1);
    if (const auto* f = std::get_if<RangeFingerprint>(&item.content)) {
      Fingerprint mine = ledger().fingerprint(p0, p1);
      if (mine.count == f->count && mine.sum == f->fingerprint) {
        out.items.push_back({item.upper, RangeSkip{}});
      } else if (bytes >= config_.max_reply_bytes) {
        out.items.push_back({item.upper, RangeFingerprint{static_cast<std::uint32_t>(mine.count), mine.sum}});
        bytes += kFingerprintItemBytes;
      } else {
        for (RangeItem& sub : split(p0, p1, item.upper)) {
          const auto* ids = std::get_if<RangeIds>(&sub.content);
          bytes += ids ? kIdBytes * ids->ids.size() + 8 : kFingerprintItemBytes;
          out.items.push_back(std::move(sub));
        }
      }
    } else if (const auto* theirs = std::get_if<RangeIds>(&item.content)) {
      // Walk both sorted lists: what only we hold (or hold with other content) goes to them;
      // what only they hold (or hold with other content) we ask for. The ledger's conflict
      // rule then keeps the same version on both sides.
      RangeIds mine = ids(p0, p1);
      std::size_t i = 0, j = 0;
      while (i < mine.ids.size() || j < theirs->ids.size()) {
        if (j == theirs->ids.size() || (i < mine.ids.size() && mine.ids[i].key < theirs->ids[j].key)) {
          out.send.push_back(mine.ids[i++].key);
        } else if (i == mine.ids.size() || theirs->ids[j].key < mine.ids[i].key) {
          out.need.push_back(theirs->ids[j++].key);
        } else {
          if (mine.ids[i].content_tag != theirs->ids[j].content_tag) {
            out.send.push_back(mine.ids[i].key);
            out.need.push_back(theirs->ids[j].key);
          }
          ++i;
          ++j;
        }
      }
      out.items.push_back({item.upper, RangeSkip{}});
    } else {
      out.items.push_back({item.upper, RangeSkip{}});
    }
    p0 = p1;
  }
  out.items = merge_skips(std::move(out.items));
  return out;
}

bool TallySync::answer(std::uint32_t session, const Ranges& ranges) {
  Reply reply = reconcile(ranges);
  send_entries(session, reply.send);
  if (!reply.need.empty()) send(Need{session, reply.need});
  if (!reply.open()) return false;
  send(Ranges{session, ranges.lower, std::move(reply.items)});
  return true;
}

void TallySync::send_entries(std::uint32_t session, const std::vector<EntryKey>& keys) {
  if (keys.empty()) return;
  std::vector<Entry> entries = sendable(keys);
  if (!entries.empty()) send(Entries{session, std::move(entries)});
}

// ---------------------------------------------------------------------------------------------
// Incoming

void TallySync::receive(const std::string& sender, const SyncMessage& message, double now) {
  if (sender == context_.self) return;
  ++counters_.messages_in;
  if (const auto* m = std::get_if<Advert>(&message)) on_advert(sender, *m, now);
  else if (const auto* r = std::get_if<Ranges>(&message)) on_ranges(sender, *r, now);
  else if (const auto* c = std::get_if<Claim>(&message)) on_claim(sender, *c, now);
  else if (const auto* n = std::get_if<Need>(&message)) on_need(sender, *n);
  else if (const auto* e = std::get_if<Entries>(&message)) on_entries(sender, *e, now);
  // The reference protocol's messages are not ours: ignored.
}

bool TallySync::same_as_mine(const std::string& peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;
  Fingerprint mine = ledger().fingerprint();
  return it->second.count == mine.count && it->second.fingerprint == mine.sum;
}

void TallySync::schedule_reconcile(double at) {
  if (!reconcile_at_ || at < *reconcile_at_) reconcile_at_ = at;
}

void TallySync::on_advert(const std::string& sender, const Advert& advert, double now) {
  PeerInfo info;
  info.count = advert.count;
  info.fingerprint = advert.fingerprint;
  info.adler = advert.adler;
  info.newest_timestamp = advert.newest_timestamp;
  info.version = advert.capabilities;
  if (!note_peer(sender, info, now, config_.peer_advert_min_interval)) return;
  Fingerprint mine = ledger().fingerprint();
  if (advert.count == mine.count && advert.fingerprint == mine.sum) return;

  // The peer may be exactly our prefix up to its newest second: then it lacks only what we
  // hold after that second, and a push of those entries is the whole repair.
  if (advert.count < mine.count && advert.newest_timestamp < std::numeric_limits<std::uint32_t>::max()) {
    EntryKey after{advert.newest_timestamp + 1, 0, 0, 0};
    Fingerprint prefix = ledger().fingerprint(0, ledger().lower_bound(after));
    if (prefix.count == advert.count && prefix.sum == advert.fingerprint) {
      std::uint32_t tag = advert_tag(advert.count, advert.fingerprint);
      if (!suffix_pushes_.contains(tag)) {
        suffix_pushes_[tag] = {sender, after, now + random_.uniform(0.05, config_.backoff_max)};
      }
      return;
    }
  }
  std::uint32_t newest = ledger().empty() ? 0 : ledger().at(ledger().size() - 1).key().timestamp;
  if (advert.count > mine.count && advert.newest_timestamp >= newest) {
    // We may be the peer's prefix: let it hear our advert and push; reconcile if it does not.
    if (now - last_advert_ >= config_.min_advert_spacing) {
      double at = now + random_.uniform(0.1, 1.0);
      if (!advert_at_ || at < *advert_at_) advert_at_ = at;
    }
    schedule_reconcile(now + config_.behind_wait + random_.uniform(0, config_.backoff_max));
    return;
  }
  schedule_reconcile(now + random_.uniform(0.2, config_.backoff_max));
}

void TallySync::on_ranges(const std::string& sender, const Ranges& ranges, double now) {
  if (own_ && ranges.session == own_->id) {
    if (own_->responder.empty()) own_->responder = sender;
    if (sender != own_->responder) return;  // a second answer: the first responder's counts
    own_->deadline = now + config_.session_timeout;
    if (!answer(ranges.session, ranges)) own_.reset();
    return;
  }
  ForeignSession& f = foreign_[ranges.session];
  f.last_activity = now;
  if (f.initiator.empty()) {
    f.initiator = sender;
    // An initiator in our own state reconciles on our behalf too: listen instead.
    if (reconcile_at_ && same_as_mine(sender)) {
      reconcile_at_.reset();
      ++counters_.suppressed;
    }
  }
  if (sender == f.initiator) {
    f.last = ranges;
    if (f.answering) {
      answer(ranges.session, ranges);
    } else if (f.claimer.empty() && !f.claim_at && !same_as_mine(sender)) {
      f.claim_at = now + random_.uniform(0.05, config_.backoff_max);
    }
    return;
  }
  // Someone else answers: it holds the claim (even if its Claim was lost).
  if (f.claimer.empty() || f.claimer == sender) {
    f.claimer = sender;
    f.claim_deadline = now + config_.claim_timeout;
    if (f.claim_at) {
      f.claim_at.reset();
      ++counters_.suppressed;
    }
  }
}

void TallySync::on_claim(const std::string& sender, const Claim& claim, double now) {
  if (own_ && claim.session == own_->id) {
    if (own_->responder.empty()) own_->responder = sender;
    own_->deadline = now + config_.session_timeout;
    return;
  }
  ForeignSession& f = foreign_[claim.session];
  f.last_activity = now;
  // Two claims crossed: the lower name answers, the other steps back.
  if (f.answering && sender < context_.self) f.answering = false;
  if (!f.answering && (f.claimer.empty() || sender < f.claimer)) {
    f.claimer = sender;
    f.claim_deadline = now + config_.claim_timeout;
    if (f.claim_at) {
      f.claim_at.reset();
      ++counters_.suppressed;
    }
  }
}

void TallySync::on_need(const std::string& sender, const Need& need) {
  // Only the other party of a session answers its Need; everyone else would duplicate it.
  bool mine = own_ && need.session == own_->id && sender == own_->responder;
  auto it = foreign_.find(need.session);
  bool answering = it != foreign_.end() && it->second.answering && sender == it->second.initiator;
  if (mine || answering) send_entries(need.session, need.keys);
}

void TallySync::on_entries(const std::string& sender, const Entries& entries, double now) {
  if (entries.session != 0) {
    // Another peer is serving: do not compete for the channel for a while. Only entries we
    // already hold count, so a peer sending junk cannot silence us.
    bool genuine = !entries.entries.empty() && ledger().find(entries.entries.front().key).has_value();
    if (genuine) serving_until_ = std::max(serving_until_, now + config_.serving_quiet);
    if (auto it = suffix_pushes_.find(entries.session); it != suffix_pushes_.end()) {
      // Another peer pushes what we were about to: note how far it got, and stand down.
      if (!entries.entries.empty()) {
        auto& sent = pushed_[it->second.peer];
        sent = {std::max(sent.first, successor(entries.entries.back().key)), now};
      }
      suffix_pushes_.erase(it);
      ++counters_.suppressed;
    }
    if (auto it = foreign_.find(entries.session); it != foreign_.end()) {
      it->second.last_activity = now;
      if (sender == it->second.claimer) it->second.claim_deadline = now + config_.claim_timeout;
    }
  }
  // Full frames of entries new to us mean someone may be feeding us: a reconciliation now
  // would only duplicate the feed (see run_sessions for when it counts).
  if (entries.entries.size() >= kFeedMinEntries && !ledger().find(entries.entries.back().key)) {
    fed_until_ = now + config_.serving_quiet;
  }
  deliver(entries.entries, sender);
}

// ---------------------------------------------------------------------------------------------
// Outgoing

void TallySync::local_insert(const EntryKey& key, double now) {
  new_entries_.push_back(key);
  if (!push_at_) push_at_ = now + config_.push_delay;
}

void TallySync::advertise(double now) {
  Fingerprint mine = ledger().fingerprint();
  std::uint32_t newest = ledger().empty() ? 0 : ledger().at(ledger().size() - 1).key().timestamp;
  send(Advert{mine.count, mine.sum, newest, 0, kTallySyncVersion});
  advertised_ = mine;
  last_advert_ = now;
  advert_at_.reset();
  next_advert_ = now + config_.advert_interval * random_.uniform(0.8, 1.2);
}

bool TallySync::differs_from_some_peer(double now) const {
  Fingerprint mine = ledger().fingerprint();
  return std::any_of(peers_.begin(), peers_.end(), [&](const auto& p) {
    return now - p.second.last_seen <= kPeerStaleSeconds &&
           (p.second.count != mine.count || p.second.fingerprint != mine.sum);
  });
}

void TallySync::start_session(double now) {
  std::uint32_t id = 0;
  while (id == 0) id = static_cast<std::uint32_t>(random_.next());
  own_ = OwnSession{id, now + config_.session_timeout, {}};
  ++counters_.sessions_started;
  send(opening(id));
}

void TallySync::run_suffix_pushes(double now) {
  for (auto it = suffix_pushes_.begin(); it != suffix_pushes_.end();) {
    SuffixPush& push = it->second;
    if (now < push.due) {
      ++it;
      continue;
    }
    if (now < serving_until_) {  // someone else is serving: look again after them
      push.due = serving_until_ + random_.uniform(0, config_.backoff_max);
      ++it;
      continue;
    }
    // What was pushed to this peer lately (by us or by a peer we heard) is not sent again: its
    // advert may predate frames still on their way.
    EntryKey from_key = push.from;
    if (auto sent = pushed_.find(push.peer); sent != pushed_.end() && now - sent->second.second < kPushMemorySeconds) {
      from_key = std::max(from_key, sent->second.first);
    }
    std::size_t from = ledger().lower_bound(from_key);
    std::size_t to = std::min(ledger().size(), from + config_.max_push_entries);
    std::vector<EntryKey> keys;
    keys.reserve(to - from);
    ledger().for_each(from, to, [&](std::size_t, const EntryView& e) { keys.push_back(e.key()); });
    if (!keys.empty()) {
      send_entries(it->first, keys);
      pushed_[push.peer] = {successor(keys.back()), now};
      ++counters_.pushes;
    }
    it = suffix_pushes_.erase(it);
  }
}

void TallySync::run_sessions(double now) {
  if (own_ && now > own_->deadline) own_.reset();  // unanswered: a later advert starts another
  if (reconcile_at_ && now >= *reconcile_at_) {
    reconcile_at_.reset();
    // A feed counts only while our ledger grows from it: entries that authorization refuses
    // (a peer sending junk) do not hold our reconciliation back.
    double busy_until = serving_until_;
    if (now < fed_until_ && growing_) busy_until = std::max(busy_until, fed_until_);
    if (now < busy_until) {
      schedule_reconcile(busy_until + random_.uniform(0, config_.backoff_max));
    } else if (!own_ && differs_from_some_peer(now)) {
      start_session(now);
    }
  }
  for (auto it = foreign_.begin(); it != foreign_.end();) {
    ForeignSession& f = it->second;
    if (now - f.last_activity > config_.session_timeout) {
      it = foreign_.erase(it);
      continue;
    }
    if (!f.answering && !f.claimer.empty() && now > f.claim_deadline) {
      // The claimer never answered: bypass it.
      ++counters_.bypassed;
      f.claimer.clear();
      if (!same_as_mine(f.initiator)) f.claim_at = now + random_.uniform(0, config_.backoff_max / 2);
    }
    if (!f.answering && f.claimer.empty() && f.claim_at && now >= *f.claim_at && f.last) {
      f.claim_at.reset();
      f.answering = true;
      f.last_activity = now;
      ++counters_.sessions_answered;
      send(Claim{it->first, static_cast<std::uint32_t>(random_.next())});
      answer(it->first, *f.last);
    }
    ++it;
  }
}

void TallySync::tick(double now) {
  if (now >= growth_checked_ + kGrowthWindow) {
    growing_ = ledger().size() > size_at_check_;
    size_at_check_ = ledger().size();
    growth_checked_ = now;
  }
  Fingerprint mine = ledger().fingerprint();
  bool changed = !advertised_ || advertised_->count != mine.count || advertised_->sum != mine.sum;
  if (changed && !advert_at_) advert_at_ = std::max(now + config_.advert_after_change, last_advert_ + config_.min_advert_spacing);
  if (now >= next_advert_ || (advert_at_ && now >= *advert_at_)) advertise(now);
  if (push_at_ && now >= *push_at_) {
    std::sort(new_entries_.begin(), new_entries_.end());
    new_entries_.erase(std::unique(new_entries_.begin(), new_entries_.end()), new_entries_.end());
    send_entries(0, new_entries_);
    ++counters_.pushes;
    new_entries_.clear();
    push_at_.reset();
  }
  if (backlog_ > config_.max_backlog_frames) return;  // let the transport drain first
  run_suffix_pushes(now);
  run_sessions(now);
}

}  // namespace tally
