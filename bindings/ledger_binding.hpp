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
#include <unordered_map>
#include <vector>

#include "batching/checkpoint_policy.hpp"
#include "batching/frame_planner.hpp"
#include "batching/replay_metrics.hpp"
#include <nlohmann/json.hpp>
#include "runtime/persistent_ledger.hpp"

namespace tally {

// The entry type that marks another entry as ignored (its mutator is skipped on replay).
inline constexpr const char* kIgnoreType = "__ignore";

// One decoded entry as the replay loop reads it (FFI layout: keep in step with replay.lua).
struct ReplayRecord {
  std::uint32_t timestamp;
  std::uint32_t creator;
  std::uint16_t realm;
  std::uint8_t counter;
  std::uint8_t ignored;   // 1: skip the mutator (the entry still counts in the state hash)
  std::uint16_t type_id;
  std::uint16_t shape_id;
  std::uint32_t first_value;  // index of its first field value in the batch's value array
};

// The field layout of one kind of entry: its type and its fields' names and kinds.
struct ReplayShape {
  std::uint16_t type_id;
  std::vector<std::string> fields;
  std::vector<ValueKind> kinds;
};

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
  // Fills up to `max` records from position `applied()` (values into `values`). New strings and
  // shapes met on the way are queued for the Lua side (see take_new_strings/shapes).
  std::size_t fetch(std::size_t max, ReplayRecord* records, double* values, std::size_t value_capacity);
  // The loop applied the first `count` fetched records.
  void commit(std::size_t count);
  // Checkpoints of the derived state. The Lua side stores the state snapshots; this side
  // decides where (CheckpointPolicy) and keeps the state hash that goes with each.
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

  std::vector<std::string> take_new_strings();
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

  static constexpr std::size_t kMaxFieldsPerBatch = 64;  // values reserved per record

 private:
  bool is_ignored(const EntryKey& key) const;
  // The lowest position whose ignored state an ignore of `key` can change (its target chain).
  std::size_t earliest_affected(const EntryKey& key) const;
  std::uint32_t intern(std::string_view text);
  // Decodes one canonical payload straight into values (strings as interned ids) and returns
  // its shape id; no allocation once its strings and shape are known.
  std::uint16_t decode_into(std::uint16_t type_id, std::span<const std::uint8_t> payload, double* values);
  void note_change(const InsertResult& result);

  LedgerBindingOptions options_;
  std::optional<PersistentLedger> persistent_;
  std::unique_ptr<Ledger> memory_;
  std::size_t applied_ = 0;
  std::optional<std::size_t> rewind_;
  std::optional<std::uint32_t> travel_;
  Adler32 state_hash_;
  std::vector<EntryKey> fetched_keys_;
  // Ignore entries by target, each with its own key: a target is ignored when one of its
  // ignores is not itself ignored.
  std::map<EntryKey, std::vector<EntryKey>> ignores_;
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const;
  };
  std::unordered_map<std::string, std::uint32_t, TextHash, std::equal_to<>> strings_;
  std::vector<std::string> new_strings_;
  std::unordered_map<std::string, std::uint16_t, TextHash, std::equal_to<>> shape_ids_;  // by signature
  std::string signature_;  // scratch
  std::vector<std::pair<std::uint16_t, ReplayShape>> new_shapes_;
  std::deque<RemoteEntry> remote_;
  RemoteStats remote_stats_;
  FramePlanner planner_;
  ReplayMetrics metrics_;
  CheckpointPolicy checkpoints_{CheckpointConfig{.every_events = 2000, .every_ms = 20, .max_checkpoints = 32}};
  std::map<std::size_t, Adler32> checkpoint_hashes_;
};

// Entry ids as addons see them: "tttttttt-cc-rrrr-pppppppp" (hex key fields, 25 characters).
std::string entry_id(const EntryKey& key);
std::optional<EntryKey> parse_entry_id(std::string_view id);

}  // namespace tally
