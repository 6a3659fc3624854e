// What `tally profile` gathers while a session runs: frame times, replay progress and lag over
// time, each addon's cost (from the clients' AddonProfilers) and the bounded trace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "batching/replay_metrics.hpp"
#include "bindings/host.hpp"
#include "cli/profile_trace.hpp"

namespace tally::cli {

// A time series in at most `max_bins` bins of equal width from time 0. A sample past the last
// bin doubles the width (neighbouring bins merge) until it fits, so a run of any length keeps
// the same number of points.
class BinnedSeries {
 public:
  struct Bin {
    std::uint64_t count = 0;
    double sum = 0;
    double max = 0;
  };
  explicit BinnedSeries(double width_seconds = 0.25, std::size_t max_bins = 480);

  void add(double t, double value);
  double width() const { return width_; }
  const std::vector<Bin>& bins() const { return bins_; }

 private:
  double width_;
  std::size_t max_bins_;
  std::vector<Bin> bins_;
};

// Frame-time distribution for the histogram plot: bins a quarter octave wide (2^(1/4) apart)
// from 1/64 ms up, the first bin taking everything below.
class FrameTimeBins {
 public:
  static constexpr double kFirstEdgeMs = 1.0 / 64;
  static constexpr int kBinsPerOctave = 4;
  static constexpr std::size_t kBins = 80;  // up to 2^14 ms; the last bin takes everything above

  void add(double ms);
  // {from_ms, to_ms, count} for each bin from the first to the last non-empty one.
  nlohmann::json to_json() const;

 private:
  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(kBins);
};

class ProfileRecorder {
 public:
  struct Options {
    double fps = 60;  // the frame budget is 1000 / fps ms
    TraceLog::Options trace;
  };
  explicit ProfileRecorder(Options options);

  // Turns tracing on in every client and starts the clock of the trace.
  void start(Host& host);
  // After each host frame.
  void observe(Host& host);
  // Every figure of report.json (see docs/profiling.md), read while the clients are logged in.
  nlohmann::json report(Host& host) const;
  const TraceLog& trace() const { return trace_; }

 private:
  struct LedgerSeries {
    std::string owner;         // the addon that created it, learnt from its replay calls
    std::uint64_t events = 0;  // applied on all clients (re-applied after rewinds included)
    std::size_t clients = 0;   // clients that opened it
    std::size_t lag_max = 0;
    BinnedSeries applied;  // events applied per bin, summed over clients
    BinnedSeries lag;      // entries waiting (not applied or not committed), max over clients
  };
  struct ClientState {
    std::uint64_t last_frame = 0;
    std::map<std::string, std::uint64_t> applied;  // by ledger: events_applied at the last frame
  };

  Options options_;
  TraceLog trace_;
  std::vector<ClientState> clients_;
  BinnedSeries frame_ms_;
  Histogram frame_histogram_;
  FrameTimeBins frame_bins_;
  std::uint64_t frames_over_budget_ = 0;
  std::map<std::string, LedgerSeries> ledgers_;
};

}  // namespace tally::cli
