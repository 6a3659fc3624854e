// The replay benches' workload and measurement: a journal of DKP awards, and a fresh client
// that opens it and replays it frame by frame under given knobs until it has caught up.
#pragma once

#include <cstdint>
#include <filesystem>

#include "batching/replay_knobs.hpp"
#include "bindings/host.hpp"

namespace tally::cli {

// The SavedVariables folder of a client named Bench holding the journal of ledger Bench: `n`
// award entries (1000 player names, four per second) drawn from `seed`. Removed on
// destruction.
class AwardJournal {
 public:
  AwardJournal(std::size_t n, std::uint32_t seed);
  ~AwardJournal();
  AwardJournal(const AwardJournal&) = delete;
  AwardJournal& operator=(const AwardJournal&) = delete;

  const std::filesystem::path& saved() const { return saved_; }
  std::size_t entries() const { return entries_; }

 private:
  std::filesystem::path saved_;
  std::size_t entries_;
};

// The ledger as the benches open it: `bench`, with an `award` mutator adding to `points`.
extern const char* const kBenchLedgerScript;

// A started host with one client, Bench, that opened the journal's ledger (kBenchLedgerScript).
struct BenchClient {
  BenchClient(const AwardJournal& journal, const HostOptions& options, double script_time_limit);
  Host host;
  Client& client;
};

struct CatchUp {
  double game_seconds = 0;  // until nothing was left to apply; extrapolated when !done
  bool done = false;        // false: the cap came first
  long long frames = 0;     // frames ticked
  std::uint64_t events = 0; // applied
  // Frame costs are the client's CPU time per frame (thread CPU clock): on a busy machine the
  // wall time adds whatever other processes took, which says nothing about the knobs.
  double worst_frame_ms = 0;        // the dearest frame
  double cpu_ms = 0;                // all frames
  double worst_replay_wall_ms = 0;  // the longest replay of a frame by the wall clock

  double mean_frame_ms() const { return frames ? cpu_ms / static_cast<double>(frames) : 0; }
  double ns_per_event() const { return events ? cpu_ms * 1e6 / static_cast<double>(events) : 0; }
};

// Opens the journal's ledger in a fresh client with `knobs` forced and ticks it at `fps` until
// every entry is applied or `max_game_seconds` have passed; then game_seconds is extrapolated
// from the rate so far (elapsed * entries / applied). `decode_thread`: long steps decode ahead.
CatchUp catch_up(const AwardJournal& journal, const ReplayKnobs& knobs, double fps, double max_game_seconds,
                 bool decode_thread);

}  // namespace tally::cli
