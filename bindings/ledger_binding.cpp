// One addon ledger behind its Lua API: inserts, ignores, time travel and decoded replay batches.
#include "bindings/ledger_binding.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>

namespace tally {

std::string entry_id(const EntryKey& key) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%08x-%02x-%04x-%08x", static_cast<unsigned>(key.timestamp),
                static_cast<unsigned>(key.counter), static_cast<unsigned>(key.realm),
                static_cast<unsigned>(key.creator));
  return buffer;
}

std::optional<EntryKey> parse_entry_id(std::string_view id) {
  unsigned ts = 0, counter = 0, realm = 0, creator = 0;
  char tail = 0;
  std::string text(id);
  if (id.size() != 25 ||
      std::sscanf(text.c_str(), "%8x-%2x-%4x-%8x%c", &ts, &counter, &realm, &creator, &tail) != 4) {
    return std::nullopt;
  }
  return EntryKey{ts, static_cast<std::uint8_t>(counter), static_cast<std::uint16_t>(realm), creator};
}

LedgerBinding::LedgerBinding(LedgerBindingOptions options, std::vector<std::string>* warnings)
    : options_(std::move(options)), planner_(options_.forced_knobs.value_or(options_.knobs)) {
  if (options_.journal.empty()) {
    memory_ = std::make_unique<Ledger>(options_.name);
  } else {
    std::filesystem::create_directories(options_.journal.parent_path());
    persistent_.emplace(PersistentLedger::open(options_.journal, options_.name, {}, warnings));
  }
  // Ignores already in the ledger.
  ledger().for_each(0, ledger().size(), [&](std::size_t, const EntryView& e) {
    if (e.type() != kIgnoreType) return;
    Payload payload = e.payload();
    const Value* target = payload.find("target");
    if (target == nullptr || !std::holds_alternative<std::string>(*target)) return;
    if (auto key = parse_entry_id(std::get<std::string>(*target))) ignores_[*key].push_back(e.key());
  });
}

void LedgerBinding::request_knobs(const ReplayKnobs& knobs) {
  if (!options_.forced_knobs) planner_.set_knobs(knobs);
  else validate(knobs);  // a bad request is still an error
}

nlohmann::json LedgerBinding::metrics_json(double now_seconds) {
  metrics_.set_lag(target() - applied_);
  nlohmann::json json = metrics_.to_json(now_seconds);
  const RemoteStats& r = remote_stats_;
  json["remote"] = {{"received", r.received}, {"committed", r.committed}, {"duplicates", r.duplicates},
                    {"refused", r.refused},   {"invalid", r.invalid},     {"overflow", r.overflow},
                    {"pending", remote_.size()}};
  json["size"] = ledger().size();
  json["applied"] = applied_;
  json["knobs"] = to_string(planner_.requested_knobs());
  json["knobs_forced"] = knobs_forced();
  json["decoded_ahead"] = decoded_ahead_;
  return json;
}

void LedgerBinding::close() {
  ledger_changing();
  if (persistent_) persistent_->close();
}

InsertResult LedgerBinding::insert(const Entry& entry) {
  ledger_changing();
  InsertResult result = persistent_ ? persistent_->insert(entry) : memory_->insert(entry);
  bool changed = result.status == InsertStatus::Inserted || result.status == InsertStatus::ReplacedConflict;
  if (changed && entry.type == kIgnoreType) {
    const Value* target = entry.payload.find("target");
    if (target != nullptr && std::holds_alternative<std::string>(*target)) {
      if (auto key = parse_entry_id(std::get<std::string>(*target))) {
        ignores_[*key].push_back(entry.key);
        // The target's mutator must now be skipped (or run again), and when the target is
        // itself an ignore, so must its target's: replay from the earliest of them.
        note_change(earliest_affected(*key));
      }
    }
  }
  if (changed) note_change(result.position);
  return result;
}

std::size_t LedgerBinding::enqueue_remote(std::vector<Entry> entries, const std::string& sender) {
  std::size_t room = kMaxRemoteQueue > remote_.size() ? kMaxRemoteQueue - remote_.size() : 0;
  std::size_t queued = std::min(room, entries.size());
  remote_stats_.overflow += entries.size() - queued;
  remote_stats_.received += queued;
  for (std::size_t i = 0; i < queued; ++i) remote_.push_back({std::move(entries[i]), sender});
  return queued;
}

const RemoteEntry* LedgerBinding::remote_front() {
  while (!remote_.empty()) {
    const Entry& e = remote_.front().entry;
    auto held = ledger().find(e.key);
    // Hashing needs a valid entry; an invalid one is left for accept_remote to count.
    bool duplicate = false;
    if (held) {
      try {
        duplicate = ledger().at(*held).content_hash() == content_hash(e);
      } catch (const InvalidEntry&) {
        duplicate = false;
      }
    }
    if (!duplicate) return &remote_.front();
    ++remote_stats_.duplicates;
    remote_.pop_front();
  }
  return nullptr;
}

void LedgerBinding::accept_remote() {
  if (remote_.empty()) return;
  RemoteEntry front = std::move(remote_.front());
  remote_.pop_front();
  try {
    InsertResult result = insert(front.entry);
    if (result.status == InsertStatus::Duplicate) ++remote_stats_.duplicates;
    else ++remote_stats_.committed;
  } catch (const InvalidEntry&) {
    ++remote_stats_.invalid;
  }
}

void LedgerBinding::refuse_remote() {
  if (remote_.empty()) return;
  remote_.pop_front();
  ++remote_stats_.refused;
}

std::size_t LedgerBinding::accept_remote_until(std::size_t max, std::chrono::steady_clock::time_point deadline) {
  std::size_t taken = 0;
  while (taken < max && !remote_.empty()) {
    // The clock is read every 64 entries: an insert costs well under a microsecond.
    if (taken % 64 == 0 && taken > 0 && std::chrono::steady_clock::now() >= deadline) break;
    accept_remote();
    ++taken;
  }
  return taken;
}

std::size_t LedgerBinding::earliest_affected(const EntryKey& key) const {
  std::size_t earliest = ledger().lower_bound(key);
  EntryKey current = key;
  // Follow the chain of ignore targets; each step goes to an older entry's key, and the chain
  // is at most as long as the ledger.
  for (std::size_t step = 0; step < ledger().size(); ++step) {
    auto pos = ledger().find(current);
    if (!pos) break;
    EntryView e = ledger().at(*pos);
    if (e.type() != kIgnoreType) break;
    Payload payload = e.payload();
    const Value* target = payload.find("target");
    if (target == nullptr || !std::holds_alternative<std::string>(*target)) break;
    auto next = parse_entry_id(std::get<std::string>(*target));
    if (!next) break;
    current = *next;
    earliest = std::min(earliest, ledger().lower_bound(current));
  }
  return earliest;
}

void LedgerBinding::note_change(std::size_t position) {
  // Entries fetched and not yet committed count as applied: the loop is applying them.
  if (position < applied_ + fetched_) rewind_ = std::min(rewind_.value_or(position), position);
}

std::optional<std::uint8_t> LedgerBinding::next_counter(std::uint32_t timestamp, std::uint32_t creator) const {
  // Keys order by (ts, counter, realm, creator): scan this second's entries for the creator.
  int highest = -1;
  const Ledger& l = ledger();
  l.for_each(l.position_at_time(timestamp), l.size(), [&](std::size_t, const EntryView& e) {
    EntryKey k = e.key();
    if (k.timestamp != timestamp) return false;
    if (k.creator == creator) highest = std::max(highest, static_cast<int>(k.counter));
    return true;
  });
  if (highest >= 255) return std::nullopt;
  return static_cast<std::uint8_t>(highest + 1);
}

std::size_t LedgerBinding::target() const {
  if (!travel_) return ledger().size();
  if (*travel_ == 0xffffffffu) return ledger().size();
  return ledger().position_at_time(*travel_ + 1);
}

std::optional<std::size_t> LedgerBinding::take_rewind() {
  auto r = rewind_;
  rewind_.reset();
  return r;
}

std::size_t LedgerBinding::newest_checkpoint() const {
  return checkpoints_.size() > 0 ? checkpoints_.positions().back() : 0;
}

std::size_t LedgerBinding::checkpoint_spacing() const {
  std::size_t remaining = target() > applied_ ? target() - applied_ : 0;
  return std::max(checkpoints_.config().every_events, remaining / kFarCheckpointDivisor);
}

bool LedgerBinding::checkpoint_due(double replay_ms_since_last) const {
  if (!checkpoints_.should_checkpoint(applied_, replay_ms_since_last)) return false;
  // The policy counts every_events; far from the target the spacing is wider.
  const CheckpointConfig& config = checkpoints_.config();
  bool by_time = config.every_ms > 0 && replay_ms_since_last >= config.every_ms;
  bool by_count = config.every_events > 0 && applied_ - newest_checkpoint() >= checkpoint_spacing();
  return by_time || by_count;
}

std::vector<std::size_t> LedgerBinding::configure_checkpoints(CheckpointConfig config) {
  std::vector<std::size_t> dropped = checkpoints_.set_config(config);
  for (std::size_t position : dropped) checkpoint_hashes_.erase(position);
  return dropped;
}

std::size_t LedgerBinding::events_to_checkpoint() const {
  if (checkpoints_.config().every_events == 0) return SIZE_MAX;
  std::size_t due_at = newest_checkpoint() + checkpoint_spacing();
  return due_at > applied_ ? due_at - applied_ : 1;
}

std::vector<std::size_t> LedgerBinding::take_checkpoint(double cost_ms) {
  metrics_.record_checkpoint(cost_ms);
  std::vector<std::size_t> dropped = checkpoints_.add(applied_);
  checkpoint_hashes_[applied_] = state_hash_;
  for (std::size_t position : dropped) checkpoint_hashes_.erase(position);
  metrics_.record_checkpoints_dropped(dropped.size());
  return dropped;
}

std::pair<std::size_t, std::vector<std::size_t>> LedgerBinding::rewind(std::size_t position) {
  ledger_changing();
  std::vector<std::size_t> dropped = checkpoints_.invalidate_after(position);
  for (std::size_t p : dropped) checkpoint_hashes_.erase(p);
  std::size_t from = checkpoints_.nearest_at_or_before(position).value_or(0);
  metrics_.record_rewind(applied_ > from ? applied_ - from : 0);
  applied_ = from;
  state_hash_ = from == 0 ? ReplayHash{} : checkpoint_hashes_.at(from);
  rewind_.reset();
  return {from, std::move(dropped)};
}

void LedgerBinding::travel_to(std::optional<std::uint32_t> timestamp) {
  ledger_changing();
  travel_ = timestamp;
  if (applied_ > target()) rewind_ = std::min(rewind_.value_or(target()), target());
}

bool LedgerBinding::is_ignored(const EntryKey& key) const {
  // Ignores of ignores are short chains; depth is bounded by the number of ignore entries.
  auto it = ignores_.find(key);
  if (it == ignores_.end()) return false;
  for (const EntryKey& ignore : it->second) {
    if (!ledger().find(ignore)) continue;
    if (!is_ignored(ignore)) return true;
  }
  return false;
}

void LedgerBinding::decode_into(std::size_t start, std::size_t end, const ReplayHash* from, DecodedBatch& out) {
  const Ledger& l = ledger();
  end = std::min(end, start + out.entry_capacity);
  // Entries of the ignore type never reach a mutator: they are not decoded. (-1: no such type.)
  const std::optional<std::uint16_t> ignore_id = l.types().find(kIgnoreType);
  const int ignore_type = ignore_id ? int{*ignore_id} : -1;
  // Ignore targets, walked in step with the entries (both in key order): an entry costs one
  // comparison unless it is a target.
  auto target = ignores_.lower_bound(l.at(start).key());
  ReplayRecord* records = out.records.get();
  double* values = out.values.get();
  std::size_t count = 0;
  std::size_t used = 0;
  // The state hash as it will be once the whole batch is applied, computed while the keys are
  // at hand (batches are far below ReplayHash::kMaxUnreduced).
  static_assert(kBatchEntries <= ReplayHash::kMaxUnreduced);
  ReplayHash hash = from != nullptr ? *from : ReplayHash{};
  for (std::size_t position = start; position < end;) {
    std::span<const StoredEntry> run = l.stored_run(position);
    if (run.size() > end - position) run = run.first(end - position);
    for (const StoredEntry& e : run) {
      EntryKey key = e.key();
      while (target != ignores_.end() && target->first < key) ++target;
      bool skip = e.type_id == ignore_type || (target != ignores_.end() && target->first == key && is_ignored(key));
      std::span<const std::uint8_t> payload;
      if (!skip) {
        payload = l.payload_bytes(e);
        if (used + payload[0] > out.value_capacity) {
          end = position;  // the rest goes in the next batch
          break;
        }
      }
      ReplayRecord& r = records[count++];
      r.timestamp = key.timestamp;
      r.creator = key.creator;
      r.realm = key.realm;
      r.counter = key.counter;
      r.first_value = static_cast<std::uint16_t>(used);
      r.shape_id = skip ? 0 : decoder_.decode(e.type_id, e.revision, payload, values + used);
      if (from != nullptr) hash.add(r);
      if (!skip) used += payload[0];
      ++position;
    }
  }
  out.hash.reset();
  if (from != nullptr) {
    hash.reduce();
    out.hash = hash;
  }
  out.start = start;
  out.count = count;
  out.strings.clear();
  out.shapes.clear();
  if (decoder_.has_news()) {
    out.strings = decoder_.take_new_strings();
    out.shapes = decoder_.take_new_shapes();
  }
}

void LedgerBinding::decode_ahead(std::size_t count) {
  const DecodeAheadOptions& o = options_.decode_ahead;
  const std::size_t limit = target();
  const std::size_t end = limit <= applied_ ? applied_ : applied_ + std::min(count, limit - applied_);
  if (ahead_end_ > applied_) {
    // Nothing changed since the range began (a change ends it): it continues at applied_.
    if (end > ahead_end_) {
      ahead_end_ = end;
      ahead_->extend(end);
    }
    return;
  }
  drop_decoded();
  ahead_end_ = end;
  if (!o.enabled || ahead_end_ < applied_ + o.min_entries) {
    ahead_end_ = 0;
    return;
  }
  if (!ahead_) {
    ahead_ = std::make_unique<DecodeAhead>(
        [this](std::size_t from, std::size_t to, DecodedBatch& out) { decode_into(from, to, nullptr, out); },
        std::min(o.batch_entries, kBatchEntries), kBatchValues);
  }
}

DecodedBatch* LedgerBinding::take_decoded_ahead() {
  if (!ahead_ || applied_ >= ahead_end_) return nullptr;
  if (!ahead_->gauge().worth_it()) {
    drop_decoded();
    return nullptr;
  }
  if (!ahead_->running()) ahead_->start(applied_, ahead_end_, [this](DecodedBatch& b) { keep_news(b); });
  DecodedBatch* batch = ahead_->take(applied_);
  if (batch == nullptr) {
    drop_decoded();  // it is not decoding this position (a failure on the decode thread)
    ahead_end_ = 0;
  }
  return batch;
}

void LedgerBinding::ledger_changing() {
  drop_decoded();
  ahead_end_ = 0;
}

void LedgerBinding::keep_news(DecodedBatch& batch) {
  kept_strings_.insert(kept_strings_.end(), batch.strings.begin(), batch.strings.end());
  for (auto& shape : batch.shapes) kept_shapes_.push_back(std::move(shape));
  batch.strings.clear();
  batch.shapes.clear();
}

void LedgerBinding::drop_decoded() {
  if (ahead_) ahead_->stop([this](DecodedBatch& b) { keep_news(b); });
  if (current_ == nullptr) return;
  current_end_ = current_offset_ + fetched_;  // decoded before the change: not fetched again
  if (fetched_ == 0) release_current();
}

void LedgerBinding::release_current() {
  if (current_ != nullptr && current_ != own_batch_.get()) ahead_->release(current_);
  current_ = nullptr;
}

std::vector<std::string_view> LedgerBinding::take_new_strings() {
  std::vector<std::string_view> out = std::move(kept_strings_);
  kept_strings_.clear();
  if (current_ != nullptr) {
    out.insert(out.end(), current_->strings.begin(), current_->strings.end());
    current_->strings.clear();
  }
  return out;
}

std::vector<std::pair<std::uint16_t, ReplayShape>> LedgerBinding::take_new_shapes() {
  std::vector<std::pair<std::uint16_t, ReplayShape>> out = std::move(kept_shapes_);
  kept_shapes_.clear();
  if (current_ != nullptr) {
    for (auto& shape : current_->shapes) out.push_back(std::move(shape));
    current_->shapes.clear();
  }
  return out;
}

std::size_t LedgerBinding::fetch(std::size_t max, ReplayBatch* batch) {
  fetched_ = 0;
  std::size_t end = std::min({target(), applied_ + max, applied_ + kBatchEntries});
  if (end <= applied_) return 0;
  bool continues = current_ != nullptr && current_->start + current_offset_ == applied_ && current_offset_ < current_end_;
  if (!continues) {
    release_current();
    current_ = take_decoded_ahead();
    if (current_ != nullptr && current_->on_decode_thread) decoded_ahead_ += current_->count;
    if (current_ == nullptr) {
      if (!own_batch_) own_batch_ = std::make_unique<DecodedBatch>(kBatchEntries, kBatchValues);
      auto started = std::chrono::steady_clock::now();
      decode_into(applied_, end, &state_hash_, *own_batch_);
      if (ahead_) {
        ahead_->gauge().decoded_here(
            std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - started).count(),
            own_batch_->count);
      }
      current_ = own_batch_.get();
    }
    current_offset_ = 0;
    current_end_ = current_->count;
  }
  std::size_t count = std::min(current_end_ - current_offset_, end - applied_);
  batch->records = current_->records.get() + current_offset_;
  batch->values = current_->values.get();
  batch->news = !kept_strings_.empty() || !kept_shapes_.empty() || !current_->strings.empty() || !current_->shapes.empty();
  fetched_ = count;
  return count;
}

void LedgerBinding::commit(std::size_t count) {
  count = std::min(count, fetched_);
  fetched_ = 0;
  if (count == 0) return;
  if (current_offset_ == 0 && count == current_->count && current_->hash) state_hash_ = *current_->hash;
  else state_hash_.feed(current_->records.get() + current_offset_, count);  // part of a batch, or decoded ahead
  applied_ += count;
  current_offset_ += count;
  if (current_offset_ >= current_end_) release_current();
  if (persistent_) persistent_->set_applied(applied_);
}

}  // namespace tally
