// The in-memory ledger: blocked sorted storage, inserts, batch merges, lookups and fingerprints.
#include "runtime/ledger.hpp"

#include <algorithm>
#include <bit>

namespace tally {

// ---------------------------------------------------------------------------------------------
// Type table

std::uint16_t TypeTable::intern(std::string_view name) {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  validate_type_name(name);
  if (names_.size() > 0xffff) throw InvalidEntry("ledger has more than 65536 entry types");
  auto id = static_cast<std::uint16_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(names_.back(), id);
  return id;
}

std::optional<std::uint16_t> TypeTable::find(std::string_view name) const {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  return std::nullopt;
}

std::string_view status_name(InsertStatus status) {
  switch (status) {
    case InsertStatus::Inserted: return "inserted";
    case InsertStatus::Duplicate: return "duplicate";
    case InsertStatus::ReplacedConflict: return "replaced-conflict";
    case InsertStatus::RejectedConflict: return "rejected-conflict";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// Entry views

std::string_view EntryView::type() const { return ledger_->types_.name(stored_->type_id); }

std::span<const std::uint8_t> EntryView::payload_bytes() const {
  return ledger_->arena_.get(stored_->payload_offset, stored_->payload_size);
}

Payload EntryView::payload() const { return decode_payload(payload_bytes()); }

Entry EntryView::to_entry() const {
  return Entry{key(), std::string(type()), revision(), payload()};
}

// ---------------------------------------------------------------------------------------------
// Candidates: validated entries on their way in, payload not yet in the arena.

struct Ledger::Candidate {
  StoredEntry record{};
  std::span<const std::uint8_t> payload;
  std::size_t input_index = 0;
};

namespace {

bool key_less(const StoredEntry& a, const StoredEntry& b) {
  return a.order < b.order || (a.order == b.order && a.creator < b.creator);
}
bool same_key(const StoredEntry& a, const StoredEntry& b) {
  return a.order == b.order && a.creator == b.creator;
}

}  // namespace

Ledger::Ledger(std::string id) : id_(std::move(id)), fenwick_(1, 0) {}
Ledger::~Ledger() = default;
Ledger::Ledger(Ledger&&) noexcept = default;
Ledger& Ledger::operator=(Ledger&&) noexcept = default;

std::uint16_t Ledger::intern_type(std::string_view name) { return types_.intern(name); }

Ledger::Candidate Ledger::make_candidate(const EncodedEntry& entry, bool payload_checked) {
  if (!payload_checked) {
    if (auto err = check_payload(entry.payload)) throw InvalidEntry(*err);
  }
  if (types_.size() == 0 || entry.type != last_type_) {
    last_type_id_ = intern_type(entry.type);  // validates new names
    last_type_ = entry.type;
  }
  Candidate c;
  c.record.order = order_of(entry.key);
  c.record.creator = entry.key.creator;
  c.record.type_id = last_type_id_;
  c.record.revision = entry.revision;
  c.record.content_hash = content_hash(entry.key, entry.type, entry.revision, entry.payload);
  c.payload = entry.payload;
  return c;
}

StoredEntry Ledger::store(const Candidate& candidate) {
  StoredEntry e = candidate.record;
  e.payload_offset = arena_.append(candidate.payload);
  e.payload_size = static_cast<std::uint32_t>(candidate.payload.size());
  return e;
}

void Ledger::account_added(Block& block, const StoredEntry& e) {
  block.fingerprint.add(e.content_hash);
  total_.add(e.content_hash);
  std::uint32_t week = week_of(static_cast<std::uint32_t>(e.order >> 24));
  WeekSummary& summary = weeks_[week];
  ++summary.count;
  summary.fingerprint.add(e.content_hash);
  week_adler_cache_.erase(week);
}

void Ledger::account_removed(Block& block, const StoredEntry& e) {
  block.fingerprint.remove(e.content_hash);
  total_.remove(e.content_hash);
  std::uint32_t week = week_of(static_cast<std::uint32_t>(e.order >> 24));
  WeekSummary& summary = weeks_[week];
  --summary.count;
  summary.fingerprint.remove(e.content_hash);
  week_adler_cache_.erase(week);
}

void Ledger::set_applied(std::size_t count) { applied_ = std::min(count, size_); }

// ---------------------------------------------------------------------------------------------
// Block index: first keys for routing, a Fenwick tree of block sizes for positions.

std::size_t Ledger::block_for(std::uint64_t order, std::uint32_t creator) const {
  // The last block whose first key is <= the key; block 0 for keys before everything.
  std::size_t lo = 0;
  std::size_t hi = first_order_.size();
  while (lo < hi) {
    std::size_t mid = (lo + hi) / 2;
    bool first_le = first_order_[mid] < order ||
                    (first_order_[mid] == order && first_creator_[mid] <= creator);
    if (first_le) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo == 0 ? 0 : lo - 1;
}

std::size_t Ledger::block_prefix(std::size_t block_index) const {
  std::size_t sum = 0;
  for (std::size_t i = block_index; i > 0; i -= i & (~i + 1)) sum += fenwick_[i];
  return sum;
}

void Ledger::fenwick_add(std::size_t block_index, std::int64_t delta) {
  for (std::size_t i = block_index + 1; i < fenwick_.size(); i += i & (~i + 1)) {
    fenwick_[i] = static_cast<std::uint32_t>(fenwick_[i] + delta);
  }
}

std::pair<std::size_t, std::size_t> Ledger::locate(std::size_t position) const {
  std::size_t n = fenwick_.size() - 1;
  std::size_t index = 0;
  std::size_t rest = position;
  for (std::size_t step = std::bit_floor(n); step > 0; step >>= 1) {
    if (index + step <= n && fenwick_[index + step] <= rest) {
      index += step;
      rest -= fenwick_[index];
    }
  }
  return {index, rest};
}

void Ledger::rebuild_index() {
  std::size_t n = blocks_.size();
  first_order_.resize(n);
  first_creator_.resize(n);
  fenwick_.assign(n + 1, 0);
  for (std::size_t b = 0; b < n; ++b) {
    first_order_[b] = blocks_[b]->items[0].order;
    first_creator_[b] = blocks_[b]->items[0].creator;
    fenwick_[b + 1] = blocks_[b]->size;
  }
  for (std::size_t i = 1; i <= n; ++i) {
    std::size_t parent = i + (i & (~i + 1));
    if (parent <= n) fenwick_[parent] += fenwick_[i];
  }
}

void Ledger::append_record(const StoredEntry& e) {
  if (blocks_.empty() || blocks_.back()->size == kBlockCapacity) {
    blocks_.push_back(std::make_unique_for_overwrite<Block>());
    first_order_.push_back(e.order);
    first_creator_.push_back(e.creator);
    // A new Fenwick node i covers blocks (i - lowbit(i), i]; all but the new one already exist.
    std::size_t i = blocks_.size();
    std::size_t covered = block_prefix(i - 1) - block_prefix(i - (i & (~i + 1)));
    fenwick_.push_back(static_cast<std::uint32_t>(covered));
  }
  Block& block = *blocks_.back();
  block.items[block.size++] = e;
  fenwick_add(blocks_.size() - 1, 1);
  account_added(block, e);
  ++size_;
}

void Ledger::split_block(std::size_t block_index) {
  Block& full = *blocks_[block_index];
  auto upper = std::make_unique_for_overwrite<Block>();
  std::uint32_t keep = full.size / 2;
  upper->size = full.size - keep;
  std::copy(full.items + keep, full.items + full.size, upper->items);
  full.size = keep;
  for (std::uint32_t i = 0; i < upper->size; ++i) {
    full.fingerprint.remove(upper->items[i].content_hash);
    upper->fingerprint.add(upper->items[i].content_hash);
  }
  blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(block_index) + 1, std::move(upper));
  rebuild_index();
}

void Ledger::note_change(std::size_t position, BatchResult* batch, InsertResult* single) {
  bool rewinds = position < applied_;
  if (rewinds) applied_ = position;
  if (single != nullptr) single->rewinds = rewinds;
  if (batch != nullptr) {
    if (!batch->first_changed || position < *batch->first_changed) batch->first_changed = position;
    batch->rewinds = batch->rewinds || rewinds;
  }
}

// ---------------------------------------------------------------------------------------------
// Single inserts

InsertResult Ledger::insert(const Entry& entry) {
  std::vector<std::uint8_t> bytes = encode_payload(entry.payload);
  return insert(EncodedEntry{entry.key, entry.type, entry.revision, bytes});
}

InsertResult Ledger::insert(const EncodedEntry& entry) {
  return insert_candidate(make_candidate(entry, false));
}

InsertResult Ledger::insert_candidate(const Candidate& c) {
  InsertResult result;
  const StoredEntry& rec = c.record;
  if (blocks_.empty() || key_less(blocks_.back()->items[blocks_.back()->size - 1], rec)) {
    append_record(store(c));
    result.position = size_ - 1;
    note_change(result.position, nullptr, &result);
    return result;
  }

  std::size_t b = block_for(rec.order, rec.creator);
  Block* block = blocks_[b].get();
  auto* end = block->items + block->size;
  auto* it = std::lower_bound(block->items, end, rec, key_less);
  if (it != end && same_key(*it, rec)) {
    result.position = block_prefix(b) + static_cast<std::size_t>(it - block->items);
    result.other_hash = it->content_hash;
    if (it->content_hash == rec.content_hash) {
      result.status = InsertStatus::Duplicate;
      return result;
    }
    if (it->content_hash < rec.content_hash) {
      result.status = InsertStatus::RejectedConflict;
      conflicts_.push_back({rec.key(), it->content_hash, rec.content_hash});
      return result;
    }
    result.status = InsertStatus::ReplacedConflict;
    conflicts_.push_back({rec.key(), rec.content_hash, it->content_hash});
    account_removed(*block, *it);
    *it = store(c);
    account_added(*block, *it);
    note_change(result.position, nullptr, &result);
    return result;
  }

  if (block->size == kBlockCapacity) {
    split_block(b);
    b = block_for(rec.order, rec.creator);
    block = blocks_[b].get();
    end = block->items + block->size;
    it = std::lower_bound(block->items, end, rec, key_less);
  }
  std::copy_backward(it, end, end + 1);
  *it = store(c);
  ++block->size;
  ++size_;
  fenwick_add(b, 1);
  account_added(*block, *it);
  if (it == block->items) {
    first_order_[b] = rec.order;
    first_creator_[b] = rec.creator;
  }
  result.position = block_prefix(b) + static_cast<std::size_t>(it - block->items);
  note_change(result.position, nullptr, &result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Batch inserts

EncodedBatch encode_batch(std::span<const Entry> entries) {
  // Every payload goes into one buffer; spans into it are taken once it stops growing.
  EncodedBatch batch;
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  ranges.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::size_t start = batch.bytes.size();
    try {
      encode_payload_into(entries[i].payload, batch.bytes);
    } catch (const InvalidEntry& e) {
      throw InvalidEntry("entry " + std::to_string(i) + " " + to_string(entries[i].key) + ": " +
                         e.what());
    }
    ranges.emplace_back(start, batch.bytes.size() - start);
  }
  batch.entries.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    batch.entries.push_back({entries[i].key, entries[i].type, entries[i].revision,
                             std::span(batch.bytes).subspan(ranges[i].first, ranges[i].second)});
  }
  return batch;
}

BatchResult Ledger::insert_batch(std::span<const Entry> entries,
                                 std::vector<InsertStatus>* statuses) {
  EncodedBatch batch = encode_batch(entries);
  return insert_batch(std::span<const EncodedEntry>(batch.entries), statuses);
}

BatchResult Ledger::insert_batch(std::span<const EncodedEntry> entries,
                                 std::vector<InsertStatus>* statuses) {
  return insert_batch(entries, statuses, false);
}

BatchResult Ledger::insert_batch(std::span<const EncodedEntry> entries,
                                 std::vector<InsertStatus>* statuses, bool payloads_checked) {
  std::vector<Candidate> candidates;
  candidates.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    try {
      candidates.push_back(make_candidate(entries[i], payloads_checked));
    } catch (const InvalidEntry& e) {
      throw InvalidEntry("entry " + std::to_string(i) + " " + to_string(entries[i].key) + ": " +
                         e.what());
    }
    candidates.back().input_index = i;
  }
  if (statuses != nullptr) statuses->assign(entries.size(), InsertStatus::Inserted);
  return insert_candidates(candidates, statuses);
}

BatchResult Ledger::insert_candidates(std::vector<Candidate>& candidates,
                                      std::vector<InsertStatus>* statuses) {
  BatchResult result;
  auto candidate_less = [](const Candidate& a, const Candidate& b) {
    if (key_less(a.record, b.record)) return true;
    if (key_less(b.record, a.record)) return false;
    return a.record.content_hash < b.record.content_hash;
  };
  if (!std::is_sorted(candidates.begin(), candidates.end(), candidate_less)) {
    std::sort(candidates.begin(), candidates.end(), candidate_less);
  }
  auto set_status = [&](const Candidate& c, InsertStatus s) {
    if (statuses != nullptr) (*statuses)[c.input_index] = s;
  };

  // Within the batch, the lowest content hash of each key goes on; the rest are settled here
  // once we know which entry finally holds the key.
  std::vector<const Candidate*> winners;
  std::vector<std::pair<const Candidate*, std::size_t>> losers;  // (loser, index into winners)
  winners.reserve(candidates.size());
  for (const Candidate& c : candidates) {
    if (!winners.empty() && same_key(winners.back()->record, c.record)) {
      losers.emplace_back(&c, winners.size() - 1);
    } else {
      winners.push_back(&c);
    }
  }
  std::vector<std::uint64_t> final_hash(winners.size());

  auto settle_against = [&](const Candidate& c, std::uint64_t existing_hash) -> bool {
    // Returns true when the candidate should take the key's slot.
    if (existing_hash == c.record.content_hash) {
      ++result.duplicates;
      set_status(c, InsertStatus::Duplicate);
      return false;
    }
    if (existing_hash < c.record.content_hash) {
      ++result.rejected;
      set_status(c, InsertStatus::RejectedConflict);
      conflicts_.push_back({c.record.key(), existing_hash, c.record.content_hash});
      return false;
    }
    ++result.replaced;
    set_status(c, InsertStatus::ReplacedConflict);
    conflicts_.push_back({c.record.key(), c.record.content_hash, existing_hash});
    return true;
  };

  bool appends_only =
      blocks_.empty() || winners.empty() ||
      key_less(blocks_.back()->items[blocks_.back()->size - 1], winners.front()->record);
  if (appends_only) {
    for (std::size_t w = 0; w < winners.size(); ++w) {
      append_record(store(*winners[w]));
      note_change(size_ - 1, &result, nullptr);
      ++result.inserted;
      final_hash[w] = winners[w]->record.content_hash;
    }
  } else {
    // One pass over the blocks: untouched blocks move over as they are; a touched block is
    // merged with its share of the batch and cut into as many blocks as it needs.
    std::vector<std::unique_ptr<Block>> merged_blocks;
    merged_blocks.reserve(blocks_.size() + winners.size() / kBlockCapacity + 1);
    std::vector<StoredEntry> merged;
    std::size_t w = 0;
    std::size_t position = 0;  // entries already placed in merged_blocks
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      std::size_t group_end = w;
      if (b + 1 == blocks_.size()) {
        group_end = winners.size();
      } else {
        const StoredEntry& next_first = blocks_[b + 1]->items[0];
        while (group_end < winners.size() && key_less(winners[group_end]->record, next_first)) {
          ++group_end;
        }
      }
      Block& block = *blocks_[b];
      if (group_end == w) {
        position += block.size;
        merged_blocks.push_back(std::move(blocks_[b]));
        continue;
      }
      merged.clear();
      std::uint32_t i = 0;
      while (i < block.size || w < group_end) {
        if (w == group_end || (i < block.size && key_less(block.items[i], winners[w]->record))) {
          merged.push_back(block.items[i++]);
          continue;
        }
        const Candidate& c = *winners[w];
        if (i < block.size && same_key(block.items[i], c.record)) {
          const StoredEntry& existing = block.items[i++];
          if (settle_against(c, existing.content_hash)) {
            account_removed(block, existing);
            merged.push_back(store(c));
            account_added(block, merged.back());
            note_change(position + merged.size() - 1, &result, nullptr);
          } else {
            merged.push_back(existing);
          }
          final_hash[w] = merged.back().content_hash;
        } else {
          merged.push_back(store(c));
          account_added(block, merged.back());
          ++size_;
          ++result.inserted;
          note_change(position + merged.size() - 1, &result, nullptr);
          final_hash[w] = c.record.content_hash;
        }
        ++w;
      }
      // Cut into evenly filled blocks.
      std::size_t pieces = (merged.size() + kBlockCapacity - 1) / kBlockCapacity;
      for (std::size_t p = 0; p < pieces; ++p) {
        std::size_t from = merged.size() * p / pieces;
        std::size_t to = merged.size() * (p + 1) / pieces;
        auto piece = p == 0 ? std::move(blocks_[b]) : std::make_unique_for_overwrite<Block>();
        piece->size = static_cast<std::uint32_t>(to - from);
        piece->fingerprint = {};
        for (std::size_t k = from; k < to; ++k) {
          piece->items[k - from] = merged[k];
          piece->fingerprint.add(merged[k].content_hash);
        }
        merged_blocks.push_back(std::move(piece));
      }
      position += merged.size();
    }
    blocks_ = std::move(merged_blocks);
    rebuild_index();
  }

  for (const auto& [loser, winner_index] : losers) {
    std::uint64_t kept = final_hash[winner_index];
    if (kept == loser->record.content_hash) {
      ++result.duplicates;
      set_status(*loser, InsertStatus::Duplicate);
    } else {
      ++result.rejected;
      set_status(*loser, InsertStatus::RejectedConflict);
      conflicts_.push_back({loser->record.key(), kept, loser->record.content_hash});
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Lookups

EntryView Ledger::at(std::size_t position) const {
  auto [b, i] = locate(position);
  return EntryView(*this, blocks_[b]->items[i]);
}

std::span<const StoredEntry> Ledger::stored_run(std::size_t position) const {
  auto [b, i] = locate(position);
  const Block& block = *blocks_[b];
  return {block.items + i, block.size - i};
}

std::size_t Ledger::lower_bound(const EntryKey& key) const {
  if (blocks_.empty()) return 0;
  StoredEntry probe{};
  probe.order = order_of(key);
  probe.creator = key.creator;
  std::size_t b = block_for(probe.order, probe.creator);
  const Block& block = *blocks_[b];
  const auto* it = std::lower_bound(block.items, block.items + block.size, probe, key_less);
  return block_prefix(b) + static_cast<std::size_t>(it - block.items);
}

std::optional<std::size_t> Ledger::find(const EntryKey& key) const {
  std::size_t pos = lower_bound(key);
  if (pos < size_ && at(pos).key() == key) return pos;
  return std::nullopt;
}

std::size_t Ledger::position_at_time(std::uint32_t timestamp) const {
  return lower_bound(EntryKey{timestamp, 0, 0, 0});
}

// ---------------------------------------------------------------------------------------------
// Hashes and fingerprints

Fingerprint Ledger::fingerprint(std::size_t from, std::size_t to) const {
  Fingerprint fp;
  if (to > size_) to = size_;
  if (from >= to) return fp;
  auto [b, i] = locate(from);
  std::size_t pos = from;
  while (pos < to) {
    const Block& block = *blocks_[b];
    if (i == 0 && pos + block.size <= to) {
      fp += block.fingerprint;  // whole block: no scan
      pos += block.size;
    } else {
      for (; i < block.size && pos < to; ++i, ++pos) fp.add(block.items[i].content_hash);
    }
    ++b;
    i = 0;
  }
  return fp;
}

Fingerprint Ledger::fingerprint(const EntryKey& lo, const EntryKey& hi) const {
  return fingerprint(lower_bound(lo), lower_bound(hi));
}

std::uint32_t Ledger::adler32(std::size_t from, std::size_t to) const {
  Adler32 hash;
  for_each(from, to, [&](std::size_t, const EntryView& e) { hash.feed_key(e.key()); });
  return hash.value();
}

WeekSummary Ledger::week(std::uint32_t week) const {
  auto it = weeks_.find(week);
  return it == weeks_.end() ? WeekSummary{} : it->second;
}

std::uint32_t Ledger::week_adler32(std::uint32_t week) const {
  if (auto it = week_adler_cache_.find(week); it != week_adler_cache_.end()) return it->second;
  std::uint64_t start = week_start(week);
  std::uint64_t end = start + 604800;
  std::size_t from = start > 0xffffffffu ? size_ : position_at_time(static_cast<std::uint32_t>(start));
  std::size_t to = end > 0xffffffffu ? size_ : position_at_time(static_cast<std::uint32_t>(end));
  std::uint32_t value = adler32(from, to);
  week_adler_cache_[week] = value;
  return value;
}

std::size_t Ledger::memory_bytes() const {
  return blocks_.size() * sizeof(Block) + blocks_.capacity() * sizeof(blocks_[0]) +
         first_order_.capacity() * sizeof(std::uint64_t) +
         first_creator_.capacity() * sizeof(std::uint32_t) +
         fenwick_.capacity() * sizeof(std::uint32_t) + arena_.reserved_bytes() -
         arena_.used_bytes() + weeks_.size() * 64 + conflicts_.capacity() * sizeof(Conflict);
}

}  // namespace tally
