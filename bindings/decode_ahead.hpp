// Decoding replay batches ahead, on a second thread: while the Lua loop applies one batch of a
// long replay step, the process's decode thread decodes the next, so the replaying thread pays
// for the Lua side only (docs/replay-design.md, "Decoding ahead").
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "bindings/replay_batch.hpp"
#include "bindings/replay_decoder.hpp"
#include "bindings/replay_hash.hpp"

namespace tally {

// Entries decoded for the replay loop, with what the Lua side must learn before applying them.
struct DecodedBatch {
  DecodedBatch(std::size_t entry_capacity, std::size_t value_capacity);

  std::size_t entry_capacity;
  std::size_t value_capacity;
  std::unique_ptr<ReplayRecord[]> records;
  std::unique_ptr<double[]> values;
  std::size_t start = 0;  // ledger position of records[0]
  std::size_t count = 0;
  // The state hash once all `count` entries are applied, when decoded on the replaying thread.
  // The decode thread leaves it to the replaying thread, which waits for it anyway (~2.5 ns per
  // entry moved off the busier thread).
  std::optional<ReplayHash> hash;
  bool on_decode_thread = false;
  // Strings and shapes the decoder met for the first time in these entries (ids in order).
  std::vector<std::string_view> strings;
  std::vector<std::pair<std::uint16_t, ReplayShape>> shapes;
};

struct DecodeAheadOptions {
  bool enabled = true;
  std::size_t min_entries = 4096;    // shorter steps decode on the replaying thread
  std::size_t batch_entries = 2048;  // entries per batch decoded ahead (at most LedgerBinding::kBatchEntries)
};

// Whether decoding ahead pays off: it does while the replaying thread waits for a batch less
// than it would take to decode the batch itself. It stops paying when the decode thread gets
// little of a core (other processes, the game's own threads), or when the two threads' cores
// share data slowly: then replay decodes on its own thread again, and tries the decode thread
// again after kProbeEvery batches, twice as many after each try that did not pay (at most
// kMaxProbeEvery).
class DecodeAheadGauge {
 public:
  void decoded_here(double ns, std::size_t entries) { own_ = average(own_, ns / static_cast<double>(entries)); }
  void waited(double ns, std::size_t entries) { wait_ = average(wait_, ns / static_cast<double>(entries)); }
  // Asked once per batch.
  bool worth_it();

 private:
  static constexpr double kWorthIt = 0.8;  // waits below this share of the own cost: keep on
  static constexpr unsigned kProbeEvery = 32;
  static constexpr unsigned kMaxProbeEvery = 1024;
  static double average(double old, double sample) { return old == 0 ? sample : old + (sample - old) / 4; }
  double own_ = 0;   // ns per entry, decoding on the replaying thread (0: not measured yet)
  double wait_ = 0;  // ns per entry, waiting for the decode thread
  unsigned refused_ = 0;  // batches since it stopped paying, or since the last try
  unsigned probe_every_ = kProbeEvery;
};

// Decodes the positions [start, end) of one ledger, a batch at a time, into a ring of batches
// that the replay loop takes in order. The owner must not change anything `decode` reads while
// a range is being decoded: it calls stop() first.
class DecodeAhead {
 public:
  // Decodes from position `start` up to `end` (fewer when the batch is full) into `out`,
  // without its state hash. Runs on the decode thread.
  using Decode = std::function<void(std::size_t start, std::size_t end, DecodedBatch& out)>;

  DecodeAhead(Decode decode, std::size_t batch_entries, std::size_t batch_values);
  ~DecodeAhead();
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;

  // Starts decoding [start, end). Stops a range in progress.
  void start(std::size_t start, std::size_t end, const std::function<void(DecodedBatch&)>& dropped);
  // Moves the end of the range being decoded to `end` when that is further.
  void extend(std::size_t end);
  // The batch that begins at `position`, waiting for the decode thread if needed (or decoding
  // it here when the decode thread has not started it); null when it will not come (nothing
  // running, another position, or decoding failed). Taken batches stay valid until released,
  // even across stop().
  DecodedBatch* take(std::size_t position);
  void release(DecodedBatch* batch);
  // Stops decoding and waits until the decode thread has let go. Batches decoded but not taken
  // go to `dropped` (in position order: their new strings and shapes are still owed to Lua).
  void stop(const std::function<void(DecodedBatch&)>& dropped);
  bool running() const;
  DecodeAheadGauge& gauge() { return gauge_; }  // the replaying thread's only

 private:
  friend class DecodeThread;
  enum class SlotState : std::uint8_t { Free, Filling, Ready, Taken };
  struct Slot {
    std::unique_ptr<DecodedBatch> batch;
    SlotState state = SlotState::Free;  // batch->start is read only once it is Ready
  };
  static constexpr std::size_t kSlots = 3;
  static constexpr std::chrono::microseconds kSpin{2000};  // see take()

  // On the decode thread: decodes one batch if a slot is free; returns whether more can be done.
  bool decode_one();
  // Claims a free slot for the next batch (with mutex_ held; decoding_ must be false); the
  // caller decodes it with the mutex released, then calls finish().
  Slot* claim(std::size_t& start, std::size_t& end);
  // With mutex_ held: the claimed slot is decoded (or failed); returns whether more can be done.
  bool finish(Slot* slot, std::size_t start, bool decoded, SlotState state);
  bool has_free_slot() const;  // with mutex_ held
  bool has_work() const;       // with mutex_ held
  Slot* ready_at(std::size_t position);  // with mutex_ held

  Decode decode_;
  std::size_t batch_entries_;
  DecodeAheadGauge gauge_;
  mutable std::mutex mutex_;  // guards everything below but the atomic
  std::condition_variable changed_;
  std::array<Slot, kSlots> slots_;
  bool active_ = false;    // a range is being decoded
  bool decoding_ = false;  // a batch is being decoded (one at a time: they share the decoder)
  std::size_t next_ = 0;  // the next position to decode
  std::size_t end_ = 0;
  // Bumped whenever a batch is ready or decoding ends: the replaying thread spins on it briefly
  // before it sleeps, since waking a sleeping thread costs about as much as decoding a batch.
  std::atomic<std::uint64_t> progress_{0};
};

}  // namespace tally
