// The bounded trace: frames sampled at a doubling stride plus the slowest frames, as trace events.
#include "cli/profile_trace.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace tally::cli {

TraceLog::TraceLog(Options options, Clock::time_point origin)
    : options_(options), origin_(origin) {}

double TraceLog::micros(Clock::time_point t) const {
  return std::chrono::duration<double, std::micro>(t - origin_).count();
}

void TraceLog::name_client(int pid, const std::string& name) {
  clients_.emplace_back(pid, name);
}

void TraceLog::add_frame(int pid, const AddonProfiler& profiler, std::vector<Counter> counters) {
  const AddonProfiler::Frame& frame = profiler.last_frame();
  ++frames_seen_;
  FrameGroup group{pid, frame.index, frame.ms, profiler.last_frame_dropped_calls(), {}};
  group.events.reserve(1 + profiler.last_frame_calls().size() + counters.size());
  nlohmann::json frame_args = {{"frame", frame.index}, {"ms", frame.ms}};
  if (group.dropped_calls > 0) frame_args["dropped_calls"] = group.dropped_calls;
  group.events.push_back({'X', micros(frame.started), micros(frame.ended) - micros(frame.started),
                          "frame", "frame", std::move(frame_args)});
  for (const AddonProfiler::Call& call : profiler.last_frame_calls()) {
    const std::string& label = profiler.label(call.label);
    Event e{'X', micros(call.start), micros(call.end) - micros(call.start), "", "", nullptr};
    if (call.owner == AddonProfiler::kHostWork) {
      e.name = label;
      e.category = "host";
    } else {
      const std::string& addon = profiler.name(call.owner);
      e.category = std::string(work_name(call.work));
      e.name = addon + " " + e.category + (label.empty() ? "" : " " + label);
      e.args = {{"addon", addon}, {"depth", call.depth}};
      if (!label.empty()) e.args["label"] = label;
    }
    group.events.push_back(std::move(e));
  }
  for (Counter& c : counters) {
    group.events.push_back(
        {'C', micros(frame.ended), 0, std::move(c.name), "counter", std::move(c.values)});
  }

  bool slow = options_.slow_frames > 0 &&
              (slowest_.size() < options_.slow_frames || group.ms > slowest_.front().ms);
  bool sampled = frame.index % stride_ == 0;
  if (slow) {
    auto faster = [](const FrameGroup& a, const FrameGroup& b) {
      return a.ms > b.ms;
    };  // a min-heap on ms
    if (slowest_.size() >= options_.slow_frames) {
      std::pop_heap(slowest_.begin(), slowest_.end(), faster);
      slowest_.pop_back();
    }
    slowest_.push_back(sampled ? group : std::move(group));
    std::push_heap(slowest_.begin(), slowest_.end(), faster);
  }
  if (sampled) {
    sampled_events_ += group.events.size();
    sampled_.push_back(std::move(group));
    if (sampled_events_ > options_.max_events) resample();
  }
}

void TraceLog::resample() {
  while (sampled_events_ > options_.max_events && !sampled_.empty()) {
    stride_ *= 2;
    std::erase_if(sampled_, [&](const FrameGroup& g) { return g.frame % stride_ != 0; });
    sampled_events_ = 0;
    for (const FrameGroup& g : sampled_) sampled_events_ += g.events.size();
  }
}

TraceLog::Stats TraceLog::stats() const {
  Stats s;
  s.frames_seen = frames_seen_;
  s.stride = stride_;
  std::set<std::pair<int, std::uint64_t>> kept;
  auto count = [&](const FrameGroup& g) {
    if (!kept.emplace(g.pid, g.frame).second) return;
    s.events += g.events.size();
    s.dropped_calls += g.dropped_calls;
  };
  for (const FrameGroup& g : sampled_) count(g);
  for (const FrameGroup& g : slowest_) count(g);
  s.frames_kept = kept.size();
  return s;
}

nlohmann::json TraceLog::to_json() const {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& [pid, name] : clients_) {
    events.push_back({{"ph", "M"},
                      {"pid", pid},
                      {"tid", 1},
                      {"name", "process_name"},
                      {"args", {{"name", "client " + name}}}});
    events.push_back({{"ph", "M"},
                      {"pid", pid},
                      {"tid", 1},
                      {"name", "thread_name"},
                      {"args", {{"name", "frame loop"}}}});
  }
  std::set<std::pair<int, std::uint64_t>> kept;
  std::vector<const FrameGroup*> groups;
  for (const auto* list : {&sampled_, &slowest_}) {
    for (const FrameGroup& g : *list) {
      if (kept.emplace(g.pid, g.frame).second) groups.push_back(&g);
    }
  }
  std::sort(groups.begin(), groups.end(), [](const FrameGroup* a, const FrameGroup* b) {
    return std::pair(a->pid, a->frame) < std::pair(b->pid, b->frame);
  });
  for (const FrameGroup* g : groups) {
    for (const Event& e : g->events) {
      nlohmann::json j = {{"ph", std::string(1, e.phase)},
                          {"pid", g->pid},
                          {"tid", 1},
                          {"ts", e.ts_us},
                          {"name", e.name},
                          {"cat", e.category}};
      if (e.phase == 'X') j["dur"] = e.dur_us;
      if (!e.args.is_null()) j["args"] = e.args;
      events.push_back(std::move(j));
    }
  }
  Stats s = stats();
  return {{"traceEvents", std::move(events)},
          {"displayTimeUnit", "ms"},
          {"otherData",
           {{"frames_seen", s.frames_seen},
            {"frames_kept", s.frames_kept},
            {"stride", s.stride},
            {"slow_frames", options_.slow_frames},
            {"max_events", options_.max_events},
            {"dropped_calls", s.dropped_calls}}}};
}

}  // namespace tally::cli
