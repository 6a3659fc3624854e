// Per-addon accounting of one client's time in addon code, per frame: what C_AddOnProfiler and
// GetAddOnCPUUsage report to addons, the figures tools read, and the calls a trace shows.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "batching/replay_metrics.hpp"

namespace tally {

// What kind of addon code ran; the cost table and the trace split an addon's time by it.
enum class AddonWork : std::uint8_t {
  Callback,  // anything else run through the game API (files, ledger listeners, messages)
  OnUpdate,
  OnEvent,
  AddonMessage,  // OnEvent for CHAT_MSG_ADDON
  Timer,         // C_Timer callbacks and tickers
  Slash,
  Script,  // OnShow, OnHide
  Replay,  // a ledger's replay (mutators, commits of received entries) for its addon
};
inline constexpr std::size_t kAddonWorkKinds = 8;
std::string_view work_name(AddonWork work);

// The game's Enum.AddOnProfilerMetric, with its numbers.
enum class ProfilerMetric : int {
  SessionAverageTime = 0,
  RecentAverageTime = 1,
  EncounterAverageTime = 2,
  LastTime = 3,
  PeakTime = 4,
  CountTimeOver1Ms = 5,
  CountTimeOver5Ms = 6,
  CountTimeOver10Ms = 7,
  CountTimeOver50Ms = 8,
  CountTimeOver100Ms = 9,
  CountTimeOver500Ms = 10,
  CountTimeOver1000Ms = 11,
};
inline constexpr int kProfilerMetricCount = 12;
std::string_view metric_name(ProfilerMetric metric);  // "SessionAverageTime"...
inline constexpr std::array<double, 7> kProfilerThresholdsMs = {1, 5, 10, 50, 100, 500, 1000};

// The per-frame times of one addon (or of all together): session, recent and encounter means,
// last, peak, frames over each threshold and their distribution.
class FrameTimes {
 public:
  // "Recent" is the last kRecentFrames frames: one second at 60 FPS.
  static constexpr std::size_t kRecentFrames = 60;

  void add(double ms, bool in_encounter);
  void begin_encounter();
  double metric(ProfilerMetric metric) const;

  std::uint64_t frames() const { return frames_; }
  double total_ms() const { return total_ms_; }
  const Histogram& histogram() const { return histogram_; }

 private:
  std::uint64_t frames_ = 0;
  double total_ms_ = 0;
  double last_ms_ = 0;
  double peak_ms_ = 0;
  std::array<std::uint64_t, kProfilerThresholdsMs.size()> over_{};
  std::array<double, kRecentFrames> recent_{};
  std::uint64_t encounter_frames_ = 0;
  double encounter_ms_ = 0;
  Histogram histogram_;
};

// One addon's figures, as tools read them (tally profile's cost table).
struct AddonFigures {
  std::string name;
  std::uint64_t calls = 0;  // calls into its code in frames (handlers, its ledgers' replay frames)
  double load_ms = 0;       // while loading: its files, ADDON_LOADED, login and logout events
  std::array<double, kAddonWorkKinds> work_ms{};       // time in frames by kind of work
  std::array<double, kProfilerMetricCount> metrics{};  // indexed by ProfilerMetric
  std::uint64_t frames = 0;
  double total_ms = 0;                        // time in frames
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;  // of its time per frame
};

class AddonProfiler {
 public:
  using Clock = std::chrono::steady_clock;
  using Owner = std::uint16_t;
  // Code from no addon's file: the game API's own callbacks, /run text, C functions.
  static constexpr Owner kUnattributed = 0;

  AddonProfiler();

  // Registers an addon (again: its existing owner id).
  Owner add_addon(std::string_view name);
  std::optional<Owner> find(std::string_view name) const;
  // The addon a chunk name belongs to: "@Interface\AddOns\<Addon>\<file>" of a loaded addon.
  Owner owner_of_chunk(std::string_view chunk_name) const;

  // Around one call into addon code: enter returns the depth to hand to leave (1 and up). Time
  // is exclusive: while a nested call runs, it counts for the nested call's owner only. A leave
  // closes every call opened at `depth` or deeper, so a call an error skipped is closed by the
  // next leave of an outer one; leave(0) does nothing.
  std::size_t enter(Owner owner, AddonWork work, std::string_view label, Clock::time_point now);
  void leave(std::size_t depth, Clock::time_point now);
  // Calls open now; closes those opened deeper than `depth` (an error unwound past them).
  std::size_t depth() const { return open_.size(); }
  void unwind_to(std::size_t depth) {
    if (open_.size() > depth) leave(depth + 1, Clock::now());
  }

  // Loading (addon files, ADDON_LOADED, login and logout events) is counted apart from frames:
  // it starts with the profiler and again at a logout, and ends when the login events are done.
  void begin_loading() { loading_ = true; }
  void end_loading();
  // A frame ended: every addon's time since the previous frame becomes this frame's.
  void end_frame(Clock::time_point started, Clock::time_point ended, double frame_ms);
  // ENCOUNTER_START and ENCOUNTER_END: the encounter average covers the frames in between.
  void begin_encounter();
  void end_encounter() { in_encounter_ = false; }

  // ProfilerMetric for one addon, or for all addon code together (nothing).
  double metric(std::optional<Owner> owner, ProfilerMetric metric) const;
  // GetAddOnCPUUsage: ms the addon ran from the start (or ResetCPUUsage) up to the last
  // UpdateAddOnCPUUsage.
  void update_cpu_usage(Clock::time_point now);
  double cpu_usage(Owner owner) const { return owners_.at(owner).cpu_snapshot_ms; }
  void reset_cpu_usage();

  // Every owner's figures (the unattributed one first), and all of them together.
  std::vector<AddonFigures> figures() const;
  AddonFigures overall() const;
  // One addon's per-frame times, or those of all addon code together (nothing).
  const FrameTimes& frame_times(std::optional<Owner> owner) const {
    return owner ? owners_.at(*owner).times : overall_;
  }
  std::uint64_t frames() const { return frames_; }
  const std::string& name(Owner owner) const { return owners_.at(owner).name; }

  // Tracing: with it on, each frame's calls are kept until the next frame ends.
  struct Call {
    Owner owner;  // kHostWork: host work (sync), not addon code
    AddonWork work;
    std::uint16_t depth;  // 1: called by the host; 2: inside another call...
    std::uint32_t label;  // for label(); 0: none
    Clock::time_point start, end;
  };
  static constexpr Owner kHostWork = 0xffff;
  struct Frame {
    std::uint64_t index = 0;  // 1 for the first frame
    Clock::time_point started, ended;
    double ms = 0;
  };
  void set_tracing(bool on) { tracing_ = on; }
  bool tracing() const { return tracing_; }
  // Host work (a sync frame received, the sync pump) shown in the trace, not counted.
  void record_host_work(std::string_view label, Clock::time_point start, Clock::time_point end);
  const Frame& last_frame() const { return last_frame_; }
  const std::vector<Call>& last_frame_calls() const { return last_calls_; }
  // The calls dropped from the last frame beyond kMaxCallsPerFrame.
  std::size_t last_frame_dropped_calls() const { return last_dropped_; }
  const std::string& label(std::uint32_t id) const { return labels_[id]; }
  static constexpr std::size_t kMaxCallsPerFrame = 4096;

 private:
  struct OwnerState {
    std::string name;
    double frame_ms = 0;  // in the frame in progress
    double load_ms = 0;
    double cpu_total_ms = 0;
    double cpu_snapshot_ms = 0;
    std::uint64_t calls = 0;
    std::array<double, kAddonWorkKinds> work_ms{};
    FrameTimes times;
  };
  struct Open {
    Owner owner;
    AddonWork work;
    std::uint32_t label;
    Clock::time_point start;
  };
  void charge(const Open& open, Clock::time_point now);
  std::uint32_t intern(std::string_view label);
  AddonFigures figures_of(const OwnerState& o) const;

  std::vector<OwnerState> owners_;
  std::unordered_map<std::string, Owner> by_name_;
  std::vector<Open> open_;
  Clock::time_point segment_start_{};  // since when the innermost open call is charged
  FrameTimes overall_;
  double overall_frame_ms_ = 0;
  std::uint64_t frames_ = 0;
  bool loading_ = true;
  bool in_encounter_ = false;

  bool tracing_ = false;
  std::vector<Call> calls_, last_calls_;
  std::size_t dropped_ = 0, last_dropped_ = 0;
  std::vector<std::string> labels_{""};
  std::unordered_map<std::string, std::uint32_t> label_ids_;
  Frame last_frame_;
};

}  // namespace tally
