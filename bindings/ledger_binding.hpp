// One addon ledger as its Lua API sees it: the ledger (journaled or not), the replay cursor and
// its knobs, and the decoded batches the trusted Lua replay loop pulls through the FFI.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batching/checkpoint_policy.hpp"
#include "batching/frame_planner.hpp"
#include "batching/replay_metrics.hpp"
#include "bindings/decode_ahead.hpp"
#include "bindings/replay_batch.hpp"
#include "bindings/replay_decoder.hpp"
#include "bindings/replay_hash.hpp"
#include <nlohmann/json.hpp>
#include "runtime/persistent_ledger.hpp"

namespace tally {

// The entry type that marks another entry as ignored (its mutator is skipped on replay).
inline constexpr const char* kIgnoreType = "__ignore";

// An entry received from another client, waiting to be authorized and committed.
struct RemoteEntry {
  Entry entry;
  std::string sender;  // "Name-Realm" as the network reported it
};

// What happened to received entries.
struct RemoteStats {
  std::uint64_t received = 0;    // queued
  std::uint64_t committed = 0;   // authorized and inserted (new entries or conflict winners)
  std::uint64_t duplicates = 0;  // already held: dropped without asking
  std::uint64_t refused = 0;     // refused by the authorization function
  std::uint64_t invalid = 0;     // malformed (the ledger refused them)
  std::uint64_t overflow = 0;    // dropped because the queue was full
};

struct LedgerBindingOptions {
  std::string name;                   // ledger id
  std::filesystem::path journal;      // empty: in memory only
  ReplayKnobs knobs;
  // Set by the operator (tally run --knobs): the addon's own knob settings are ignored.
  std::optional<ReplayKnobs> forced_knobs;
  DecodeAheadOptions decode_ahead;
};

class LedgerBinding {
 public:
  // Opens the ledger; journal repairs are appended to `warnings`. Throws JournalError.
  LedgerBinding(LedgerBindingOptions options, std::vector<std::string>* warnings);

  const std::string& name() const { return options_.name; }
  const Ledger& ledger() const { return persistent_ ? persistent_->ledger() : *memory_; }

  // Inserts one entry (journaled when persistent). Throws InvalidEntry.
  InsertResult insert(const Entry& entry);
  // The next free counter for an entry of `creator` at `timestamp`; nothing when all 256 are used.
  std::optional<std::uint8_t> next_counter(std::uint32_t timestamp, std::uint32_t creator) const;

  // The remote queue: received entries wait here and are committed a batch per frame, so a
  // large catch-up never stalls a frame. At most kMaxRemoteQueue wait; the rest are counted as
  // overflow (sync asks again). Returns how many were queued.
  static constexpr std::size_t kMaxRemoteQueue = 1'000'000;
  std::size_t enqueue_remote(std::vector<Entry> entries, const std::string& sender);
  std::size_t remote_pending() const { return remote_.size(); }
  // The next entry to decide on, after dropping the queue's duplicates of held entries.
  const RemoteEntry* remote_front();
  // Commits or refuses the front entry. Committing an invalid entry counts it as invalid.
  void accept_remote();
  void refuse_remote();
  // Commits up to `max` entries without asking (ledgers without an authorization function),
  // stopping once `deadline` (steady clock) has passed; returns how many were taken.
  std::size_t accept_remote_until(std::size_t max, std::chrono::steady_clock::time_point deadline);
  const RemoteStats& remote_stats() const { return remote_stats_; }

  // Replay. Positions are ledger positions; `applied()` entries have been applied to the state.
  std::size_t applied() const { return applied_; }
  // Entries replay may still apply (within the time-travel limit).
  std::size_t target() const;
  // The position replay must restart from when the ledger changed below it; nothing otherwise.
  // Reading it clears it.
  std::optional<std::size_t> take_rewind();
  // The replay loop is about to fetch up to `count` entries from `applied()`: when they are
  // many, the decode thread decodes them ahead while the loop applies (DecodeAhead). A range
  // being decoded ahead from applied() is extended, not restarted (a frame's steps, and the
  // next frame's, continue it).
  void decode_ahead(std::size_t count);
  // Points `batch` at up to `max` decoded entries from position `applied()` (at most
  // kBatchEntries, fewer when their values would not fit) and returns how many: decoded ahead,
  // or decoded now into the binding's own buffers. New strings and shapes met on the way wait
  // for the Lua side (take_new_strings/shapes, flagged in batch->news). A batch stays readable
  // until the next fetch, whatever happens to the ledger meanwhile.
  std::size_t fetch(std::size_t max, ReplayBatch* batch);
  // The loop applied the first `count` fetched entries.
  void commit(std::size_t count);
  // Checkpoints of the derived state. The Lua side stores the state snapshots; this side
  // decides where (CheckpointPolicy) and keeps the state hash that goes with each. Replay far
  // from its target spaces them wider than every_events (see checkpoint_spacing).
  bool checkpoint_due(double replay_ms_since_last) const;
  // Sets the checkpoint spacing; returns the positions whose snapshots can be freed.
  std::vector<std::size_t> configure_checkpoints(CheckpointConfig config);
  // Entries to apply before the next checkpoint by count falls due (batches stop there).
  std::size_t events_to_checkpoint() const;
  // Registers a checkpoint at applied() whose snapshot took `cost_ms`; returns the positions
  // whose snapshots can be freed.
  std::vector<std::size_t> take_checkpoint(double cost_ms);
  // Rewinds for a change at `position`: to the nearest checkpoint at or before it (0 when
  // none). Returns that position and the positions whose snapshots are now invalid.
  std::pair<std::size_t, std::vector<std::size_t>> rewind(std::size_t position);
  std::uint32_t state_hash() const { return state_hash_.value(); }

  // What the last fetched batch brought (and batches decoded ahead and dropped, before it).
  std::vector<std::string_view> take_new_strings();
  std::vector<std::pair<std::uint16_t, ReplayShape>> take_new_shapes();
  std::string_view type_name(std::uint16_t id) const { return ledger().types().name(id); }

  // Time travel: only entries at or before `timestamp` are applied; nothing = no limit.
  void travel_to(std::optional<std::uint32_t> timestamp);
  std::optional<std::uint32_t> travel_limit() const { return travel_; }

  FramePlanner& planner() { return planner_; }
  // Knobs from the ledger's own code: ignored when the operator forced knobs.
  void request_knobs(const ReplayKnobs& knobs);
  bool knobs_forced() const { return options_.forced_knobs.has_value(); }
  ReplayMetrics& metrics() { return metrics_; }
  // Everything the ledger reports: replay metrics, lag, the remote queue, size and knobs.
  nlohmann::json metrics_json(double now_seconds);
  void close();

  // A batch's buffers: 32 KB of records, 64 KB of values (room for 4 fields per entry on
  // average; a batch of wider entries holds fewer).
  static constexpr std::size_t kBatchEntries = 2048;
  static constexpr std::size_t kBatchValues = 4 * kBatchEntries;
  static_assert(kBatchValues <= 65536, "ReplayRecord::first_value is 16 bits");
  static_assert(kBatchValues >= kMaxFields, "an entry always fits an empty batch");

 private:
  // Decodes positions [start, end) (fewer when out is full) into `out`, with its state hash
  // continuing `from` when given. Reads the ledger, the ignores and the decoder only: the
  // decode thread runs it.
  void decode_into(std::size_t start, std::size_t end, const ReplayHash* from, DecodedBatch& out);
  // Drops what was decoded and not fetched yet (ahead, and the rest of the current batch); the
  // decode thread lets go. Called before anything decode_into reads changes. The batch being
  // applied stays readable.
  void drop_decoded();
  // Before a change of the ledger, its ignores, the replay position or the travel limit: drops
  // what was decoded, and decoding ahead ends for this step.
  void ledger_changing();
  // The batch at applied() from the decode thread, when this step decodes ahead and it pays.
  DecodedBatch* take_decoded_ahead();
  void keep_news(DecodedBatch& batch);  // owed to the Lua side with the next fetch
  void release_current();
  bool is_ignored(const EntryKey& key) const;
  // The lowest position whose ignored state an ignore of `key` can change (its target chain).
  std::size_t earliest_affected(const EntryKey& key) const;
  // A change of the ledger or of an entry's ignored state at `position`: replay must restart
  // there if it applied it.
  void note_change(std::size_t position);
  std::size_t newest_checkpoint() const;  // 0 when none
  // Entries between count-triggered checkpoints: every_events near the target, a fraction of
  // the distance to it further away. Rewinds land near the end of the ledger (late entries are
  // recent ones), and the policy thins old checkpoints to a geometric spacing anyway: in a
  // long catch-up most checkpoints taken every_events apart would be dropped again, each after
  // a snapshot of the whole state.
  std::size_t checkpoint_spacing() const;
  static constexpr std::size_t kFarCheckpointDivisor = 16;

  LedgerBindingOptions options_;
  std::optional<PersistentLedger> persistent_;
  std::unique_ptr<Ledger> memory_;
  std::size_t applied_ = 0;
  std::optional<std::size_t> rewind_;
  std::optional<std::uint32_t> travel_;
  ReplayHash state_hash_;
  ReplayDecoder decoder_;
  std::unique_ptr<DecodedBatch> own_batch_;  // decoded on this thread; allocated at the first fetch
  DecodedBatch* current_ = nullptr;          // the batch fetches come from (own or decoded ahead)
  std::size_t current_offset_ = 0;           // its first entry not yet committed
  std::size_t current_end_ = 0;              // its entries that may still be fetched
  std::size_t fetched_ = 0;                  // records of the last fetch not yet committed
  std::vector<std::string_view> kept_strings_;  // news of batches decoded ahead but dropped
  std::vector<std::pair<std::uint16_t, ReplayShape>> kept_shapes_;
  // Ignore entries by target, each with its own key: a target is ignored when one of its
  // ignores is not itself ignored.
  std::map<EntryKey, std::vector<EntryKey>> ignores_;
  std::deque<RemoteEntry> remote_;
  RemoteStats remote_stats_;
  FramePlanner planner_;
  ReplayMetrics metrics_;
  CheckpointPolicy checkpoints_{CheckpointConfig{.every_events = 2000, .every_ms = 20, .max_checkpoints = 32}};
  std::map<std::size_t, ReplayHash> checkpoint_hashes_;
  // Last: destroyed first, so the decode thread has let go before what it reads goes away.
  std::unique_ptr<DecodeAhead> ahead_;
  std::size_t ahead_end_ = 0;  // this step decodes ahead up to here (0: it does not)
  std::uint64_t decoded_ahead_ = 0;  // entries the decode thread decoded (Metrics().decoded_ahead)
};

// Entry ids as addons see them: "tttttttt-cc-rrrr-pppppppp" (hex key fields, 25 characters).
std::string entry_id(const EntryKey& key);
std::optional<EntryKey> parse_entry_id(std::string_view id);

}  // namespace tally
