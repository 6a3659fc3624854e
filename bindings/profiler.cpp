// The per-addon time accounts: exclusive time per call, folded into per-frame figures.
#include "bindings/profiler.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace tally {

namespace {

constexpr std::string_view kAddonChunkPrefix = "@Interface\\AddOns\\";

double ms_between(AddonProfiler::Clock::time_point from, AddonProfiler::Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace

std::string_view work_name(AddonWork work) {
  switch (work) {
    case AddonWork::Callback:
      return "Callback";
    case AddonWork::OnUpdate:
      return "OnUpdate";
    case AddonWork::OnEvent:
      return "OnEvent";
    case AddonWork::AddonMessage:
      return "AddonMessage";
    case AddonWork::Timer:
      return "Timer";
    case AddonWork::Slash:
      return "Slash";
    case AddonWork::Script:
      return "Script";
    case AddonWork::Replay:
      return "Replay";
  }
  return "?";
}

std::string_view metric_name(ProfilerMetric metric) {
  static constexpr std::string_view kNames[kProfilerMetricCount] = {
      "SessionAverageTime", "RecentAverageTime",  "EncounterAverageTime", "LastTime",
      "PeakTime",           "CountTimeOver1Ms",   "CountTimeOver5Ms",     "CountTimeOver10Ms",
      "CountTimeOver50Ms",  "CountTimeOver100Ms", "CountTimeOver500Ms",   "CountTimeOver1000Ms"};
  auto i = static_cast<int>(metric);
  return i >= 0 && i < kProfilerMetricCount ? kNames[i] : "?";
}

// ---------------------------------------------------------------------------------------------
// FrameTimes

void FrameTimes::add(double ms, bool in_encounter) {
  recent_[frames_ % kRecentFrames] = ms;
  ++frames_;
  total_ms_ += ms;
  last_ms_ = ms;
  peak_ms_ = std::max(peak_ms_, ms);
  for (std::size_t i = 0; i < kProfilerThresholdsMs.size(); ++i) {
    if (ms > kProfilerThresholdsMs[i]) ++over_[i];
  }
  if (in_encounter) {
    ++encounter_frames_;
    encounter_ms_ += ms;
  }
  histogram_.record(ms);
}

void FrameTimes::begin_encounter() {
  encounter_frames_ = 0;
  encounter_ms_ = 0;
}

double FrameTimes::metric(ProfilerMetric metric) const {
  auto mean = [](double total, std::uint64_t n) {
    return n > 0 ? total / static_cast<double>(n) : 0.0;
  };
  switch (metric) {
    case ProfilerMetric::SessionAverageTime:
      return mean(total_ms_, frames_);
    case ProfilerMetric::RecentAverageTime: {
      std::uint64_t n = std::min<std::uint64_t>(frames_, kRecentFrames);
      return mean(
          std::accumulate(recent_.begin(), recent_.begin() + static_cast<std::ptrdiff_t>(n), 0.0),
          n);
    }
    case ProfilerMetric::EncounterAverageTime:
      return mean(encounter_ms_, encounter_frames_);
    case ProfilerMetric::LastTime:
      return last_ms_;
    case ProfilerMetric::PeakTime:
      return peak_ms_;
    default:
      break;
  }
  int over = static_cast<int>(metric) - static_cast<int>(ProfilerMetric::CountTimeOver1Ms);
  if (over < 0 || over >= static_cast<int>(over_.size())) {
    throw std::invalid_argument("no profiler metric " + std::to_string(static_cast<int>(metric)));
  }
  return static_cast<double>(over_[static_cast<std::size_t>(over)]);
}

// ---------------------------------------------------------------------------------------------
// AddonProfiler

AddonProfiler::AddonProfiler() {
  owners_.push_back({.name = "(unattributed)"});
  open_.reserve(64);
}

AddonProfiler::Owner AddonProfiler::add_addon(std::string_view name) {
  if (auto existing = find(name)) return *existing;
  if (owners_.size() >= kHostWork) throw std::length_error("too many addons to profile");
  auto id = static_cast<Owner>(owners_.size());
  owners_.push_back({.name = std::string(name)});
  by_name_.emplace(std::string(name), id);
  return id;
}

std::optional<AddonProfiler::Owner> AddonProfiler::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

AddonProfiler::Owner AddonProfiler::owner_of_chunk(std::string_view chunk_name) const {
  if (!chunk_name.starts_with(kAddonChunkPrefix)) return kUnattributed;
  chunk_name.remove_prefix(kAddonChunkPrefix.size());
  auto end = chunk_name.find('\\');
  if (end == std::string_view::npos) return kUnattributed;
  return find(chunk_name.substr(0, end)).value_or(kUnattributed);
}

void AddonProfiler::charge(const Open& open, Clock::time_point now) {
  double ms = ms_between(segment_start_, now);
  OwnerState& o = owners_[open.owner];
  o.cpu_total_ms += ms;
  segment_start_ = now;
  if (loading_) {
    o.load_ms += ms;
    return;
  }
  o.frame_ms += ms;
  o.work_ms[static_cast<std::size_t>(open.work)] += ms;
  overall_frame_ms_ += ms;
}

std::size_t AddonProfiler::enter(Owner owner, AddonWork work, std::string_view label,
                                 Clock::time_point now) {
  if (owner >= owners_.size()) owner = kUnattributed;
  if (!open_.empty()) charge(open_.back(), now);
  segment_start_ = now;
  if (!loading_) ++owners_[owner].calls;
  open_.push_back({owner, work, tracing_ && !label.empty() ? intern(label) : 0, now});
  return open_.size();
}

void AddonProfiler::leave(std::size_t depth, Clock::time_point now) {
  while (depth > 0 && open_.size() >= depth) {
    const Open& open = open_.back();
    charge(open, now);
    if (tracing_) {
      if (calls_.size() < kMaxCallsPerFrame) {
        calls_.push_back({open.owner, open.work, static_cast<std::uint16_t>(open_.size()),
                          open.label, open.start, now});
      } else {
        ++dropped_;
      }
    }
    open_.pop_back();
  }
}

void AddonProfiler::record_host_work(std::string_view label, Clock::time_point start,
                                     Clock::time_point end) {
  if (!tracing_) return;
  if (calls_.size() >= kMaxCallsPerFrame) {
    ++dropped_;
    return;
  }
  calls_.push_back({kHostWork, AddonWork::Callback, 1, intern(label), start, end});
}

std::uint32_t AddonProfiler::intern(std::string_view label) {
  auto [it, added] =
      label_ids_.try_emplace(std::string(label), static_cast<std::uint32_t>(labels_.size()));
  if (added) labels_.emplace_back(label);
  return it->second;
}

void AddonProfiler::end_loading() {
  loading_ = false;
  calls_.clear();
  dropped_ = 0;
}

void AddonProfiler::end_frame(Clock::time_point started, Clock::time_point ended, double frame_ms) {
  ++frames_;
  for (OwnerState& o : owners_) {
    o.times.add(o.frame_ms, in_encounter_);
    o.frame_ms = 0;
  }
  overall_.add(overall_frame_ms_, in_encounter_);
  overall_frame_ms_ = 0;
  last_frame_ = {frames_, started, ended, frame_ms};
  last_calls_.swap(calls_);
  calls_.clear();
  last_dropped_ = dropped_;
  dropped_ = 0;
}

void AddonProfiler::begin_encounter() {
  in_encounter_ = true;
  for (OwnerState& o : owners_) o.times.begin_encounter();
  overall_.begin_encounter();
}

double AddonProfiler::metric(std::optional<Owner> owner, ProfilerMetric metric) const {
  return owner ? owners_.at(*owner).times.metric(metric) : overall_.metric(metric);
}

void AddonProfiler::update_cpu_usage(Clock::time_point now) {
  if (!open_.empty()) charge(open_.back(), now);  // the call in progress counts up to now
  for (OwnerState& o : owners_) o.cpu_snapshot_ms = o.cpu_total_ms;
}

void AddonProfiler::reset_cpu_usage() {
  for (OwnerState& o : owners_) o.cpu_total_ms = o.cpu_snapshot_ms = 0;
}

AddonFigures AddonProfiler::figures_of(const OwnerState& o) const {
  AddonFigures f;
  f.name = o.name;
  f.calls = o.calls;
  f.load_ms = o.load_ms;
  f.work_ms = o.work_ms;
  for (int m = 0; m < kProfilerMetricCount; ++m) {
    f.metrics[static_cast<std::size_t>(m)] = o.times.metric(static_cast<ProfilerMetric>(m));
  }
  f.frames = o.times.frames();
  f.total_ms = o.times.total_ms();
  f.p50_ms = o.times.histogram().quantile(0.50);
  f.p95_ms = o.times.histogram().quantile(0.95);
  f.p99_ms = o.times.histogram().quantile(0.99);
  return f;
}

std::vector<AddonFigures> AddonProfiler::figures() const {
  std::vector<AddonFigures> out;
  out.reserve(owners_.size());
  for (const OwnerState& o : owners_) out.push_back(figures_of(o));
  return out;
}

AddonFigures AddonProfiler::overall() const {
  OwnerState all{.name = "(all addons)"};
  for (const OwnerState& o : owners_) {
    all.calls += o.calls;
    all.load_ms += o.load_ms;
    for (std::size_t k = 0; k < kAddonWorkKinds; ++k) all.work_ms[k] += o.work_ms[k];
  }
  all.times = overall_;
  return figures_of(all);
}

}  // namespace tally
