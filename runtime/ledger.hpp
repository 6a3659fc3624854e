// The in-memory ledger: an insert-only, totally ordered set of entries with week and range
// fingerprints kept up to date on every insert.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "runtime/entry.hpp"
#include "runtime/hashes.hpp"
#include "runtime/payload_arena.hpp"

namespace tally {

// ---------------------------------------------------------------------------------------------
// Type names interned to small ids, per ledger. Ids are local: they never leave this process
// except through a journal, which carries its own id table.

class TypeTable {
 public:
  // Returns the id of a validated type name, adding it if new. Throws InvalidEntry past 65535.
  std::uint16_t intern(std::string_view name);
  std::optional<std::uint16_t> find(std::string_view name) const;
  std::string_view name(std::uint16_t id) const { return names_[id]; }
  std::size_t size() const { return names_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> names_;
  std::unordered_map<std::string, std::uint16_t, Hash, std::equal_to<>> ids_;
};

// ---------------------------------------------------------------------------------------------
// One entry as stored: 32 bytes, payload bytes in the arena.

struct StoredEntry {
  std::uint64_t order;  // timestamp << 24 | counter << 16 | realm: the key's order before creator
  std::uint32_t creator;
  std::uint16_t type_id;
  std::uint8_t revision;
  std::uint8_t reserved;
  std::uint64_t content_hash;
  std::uint32_t payload_offset;
  std::uint32_t payload_size;

  EntryKey key() const {
    return {static_cast<std::uint32_t>(order >> 24), static_cast<std::uint8_t>(order >> 16),
            static_cast<std::uint16_t>(order), creator};
  }
};
static_assert(sizeof(StoredEntry) == 32, "StoredEntry must stay 32 bytes");

constexpr std::uint64_t order_of(const EntryKey& key) {
  return (std::uint64_t{key.timestamp} << 24) | (std::uint64_t{key.counter} << 16) | key.realm;
}

class Ledger;

// A read-only view of one stored entry; valid until the next insert into its ledger.
class EntryView {
 public:
  EntryView(const Ledger& ledger, const StoredEntry& stored) : ledger_(&ledger), stored_(&stored) {}

  EntryKey key() const { return stored_->key(); }
  std::string_view type() const;
  std::uint16_t type_id() const { return stored_->type_id; }
  std::uint8_t revision() const { return stored_->revision; }
  std::uint64_t content_hash() const { return stored_->content_hash; }
  std::span<const std::uint8_t> payload_bytes() const;
  Payload payload() const;
  Entry to_entry() const;
  const StoredEntry& stored() const { return *stored_; }

 private:
  const Ledger* ledger_;
  const StoredEntry* stored_;
};

// An entry whose payload is already in canonical encoding (journal records, sync messages).
struct EncodedEntry {
  EntryKey key;
  std::string_view type;
  std::uint8_t revision = 1;
  std::span<const std::uint8_t> payload;
};

// Entries encoded for a batch insert; `entries` point into `bytes`.
struct EncodedBatch {
  std::vector<std::uint8_t> bytes;
  std::vector<EncodedEntry> entries;
};
// Throws InvalidEntry naming the index of the first entry that cannot be encoded.
EncodedBatch encode_batch(std::span<const Entry> entries);

// ---------------------------------------------------------------------------------------------
// Insert outcomes

enum class InsertStatus : std::uint8_t {
  Inserted,          // new key
  Duplicate,         // the same entry was already there: nothing changed
  ReplacedConflict,  // same key, different content, and this entry won: the other one is gone
  RejectedConflict,  // same key, different content, and the entry already there won
};
std::string_view status_name(InsertStatus status);

struct InsertResult {
  InsertStatus status = InsertStatus::Inserted;
  std::size_t position = 0;       // where the entry with this key now sits
  std::uint64_t other_hash = 0;   // conflicts: content hash of the entry it was compared with
  bool rewinds = false;           // the change landed before the applied watermark
};

struct BatchResult {
  std::size_t inserted = 0;
  std::size_t duplicates = 0;
  std::size_t replaced = 0;
  std::size_t rejected = 0;
  std::optional<std::size_t> first_changed;  // lowest position whose entry changed
  bool rewinds = false;                      // first_changed fell before the applied watermark
};

// Same key, different content. The rule: the entry with the lower content hash stays, on every
// client, whatever order they arrived in.
struct Conflict {
  EntryKey key;
  std::uint64_t kept_hash;
  std::uint64_t dropped_hash;
};

struct WeekSummary {
  std::uint32_t count = 0;
  Fingerprint fingerprint;
};

// ---------------------------------------------------------------------------------------------

class Ledger {
 public:
  // Entries per storage block: large enough for cheap iteration, small enough that an
  // out-of-order insert moves at most a few kilobytes.
  static constexpr std::uint32_t kBlockCapacity = 256;

  explicit Ledger(std::string id = {});
  ~Ledger();
  Ledger(Ledger&&) noexcept;
  Ledger& operator=(Ledger&&) noexcept;

  const std::string& id() const { return id_; }
  const TypeTable& types() const { return types_; }

  // Insert one entry. Throws InvalidEntry (and changes nothing) when it is malformed.
  InsertResult insert(const Entry& entry);
  InsertResult insert(const EncodedEntry& entry);

  // Insert many: validated first (nothing changes if any is malformed; the error names its
  // index), sorted, then merged into the ledger in one pass over the touched blocks.
  // `statuses`, when given, receives one status per input entry.
  BatchResult insert_batch(std::span<const Entry> entries,
                           std::vector<InsertStatus>* statuses = nullptr);
  BatchResult insert_batch(std::span<const EncodedEntry> entries,
                           std::vector<InsertStatus>* statuses = nullptr);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Lookups. `at` requires position < size().
  EntryView at(std::size_t position) const;
  std::optional<std::size_t> find(const EntryKey& key) const;
  std::size_t lower_bound(const EntryKey& key) const;        // first position with key >= key
  std::size_t position_at_time(std::uint32_t timestamp) const;  // first with timestamp >= it

  // Calls fn(position, EntryView) for positions [from, to); an fn that returns bool stops the
  // walk by returning false.
  template <typename Fn>
  void for_each(std::size_t from, std::size_t to, Fn&& fn) const;

  // The stored entries from `position` (< size()) to the end of its storage block, and their
  // payloads: for scans that read blocks directly. Valid until the next insert.
  std::span<const StoredEntry> stored_run(std::size_t position) const;
  std::span<const std::uint8_t> payload_bytes(const StoredEntry& e) const {
    return arena_.get(e.payload_offset, e.payload_size);
  }

  // The applied watermark: how many leading entries the consumer (replay) has applied. An
  // insert that changes a position below it lowers it to that position and reports a rewind.
  std::size_t applied() const { return applied_; }
  void set_applied(std::size_t count);

  // Hashes and fingerprints.
  Fingerprint fingerprint() const { return total_; }
  Fingerprint fingerprint(std::size_t from, std::size_t to) const;    // positions [from, to)
  Fingerprint fingerprint(const EntryKey& lo, const EntryKey& hi) const;  // keys [lo, hi)
  std::uint32_t adler32(std::size_t from, std::size_t to) const;     // reference state hash
  const std::map<std::uint32_t, WeekSummary>& weeks() const { return weeks_; }
  WeekSummary week(std::uint32_t week) const;
  std::uint32_t week_adler32(std::uint32_t week) const;  // cached until the week changes

  const std::vector<Conflict>& conflicts() const { return conflicts_; }

  // Bytes held by entries, blocks and indexes, and by payloads.
  std::size_t memory_bytes() const;
  std::size_t payload_bytes() const { return arena_.used_bytes(); }

 private:
  friend class EntryView;
  friend class PersistentLedger;  // loads journal entries whose payloads were already checked
  struct Block;
  struct Candidate;

  std::uint16_t intern_type(std::string_view name);
  Candidate make_candidate(const EncodedEntry& entry, bool payload_checked);
  BatchResult insert_batch(std::span<const EncodedEntry> entries,
                           std::vector<InsertStatus>* statuses, bool payloads_checked);
  InsertResult insert_candidate(const Candidate& candidate);
  BatchResult insert_candidates(std::vector<Candidate>& candidates,
                                std::vector<InsertStatus>* statuses);
  StoredEntry store(const Candidate& candidate);
  void account_added(Block& block, const StoredEntry& e);
  void account_removed(Block& block, const StoredEntry& e);
  void note_change(std::size_t position, BatchResult* batch, InsertResult* single);
  void append_record(const StoredEntry& e);
  void split_block(std::size_t block_index);
  void rebuild_index();
  std::size_t block_for(std::uint64_t order, std::uint32_t creator) const;
  std::size_t block_prefix(std::size_t block_index) const;
  std::pair<std::size_t, std::size_t> locate(std::size_t position) const;
  void fenwick_add(std::size_t block_index, std::int64_t delta);

  std::string id_;
  TypeTable types_;
  std::string last_type_;  // most entries repeat the previous type: skip its lookup
  std::uint16_t last_type_id_ = 0;
  PayloadArena arena_;
  std::vector<std::unique_ptr<Block>> blocks_;
  std::vector<std::uint64_t> first_order_;     // per block: order of its first entry
  std::vector<std::uint32_t> first_creator_;   // per block: creator of its first entry
  std::vector<std::uint32_t> fenwick_;         // block sizes as a Fenwick tree; [0] unused
  std::size_t size_ = 0;
  std::size_t applied_ = 0;
  Fingerprint total_;
  std::map<std::uint32_t, WeekSummary> weeks_;
  mutable std::map<std::uint32_t, std::uint32_t> week_adler_cache_;
  std::vector<Conflict> conflicts_;
};

// ---------------------------------------------------------------------------------------------

struct Ledger::Block {
  std::uint32_t size = 0;
  Fingerprint fingerprint;
  StoredEntry items[kBlockCapacity];
};

template <typename Fn>
void Ledger::for_each(std::size_t from, std::size_t to, Fn&& fn) const {
  if (to > size_) to = size_;
  if (from >= to) return;
  auto [b, i] = locate(from);
  for (std::size_t pos = from; pos < to; ++b, i = 0) {
    const Block& block = *blocks_[b];
    for (; i < block.size && pos < to; ++i, ++pos) {
      if constexpr (std::is_same_v<std::invoke_result_t<Fn&, std::size_t, EntryView>, bool>) {
        if (!fn(pos, EntryView(*this, block.items[i]))) return;
      } else {
        fn(pos, EntryView(*this, block.items[i]));
      }
    }
  }
}

}  // namespace tally
