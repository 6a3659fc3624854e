// Frame, replay and addon figures of a profiled session, and their report.json form.
#include "cli/profile_recorder.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tally::cli {

// ---------------------------------------------------------------------------------------------
// BinnedSeries, FrameTimeBins

BinnedSeries::BinnedSeries(double width_seconds, std::size_t max_bins)
    : width_(width_seconds), max_bins_(max_bins) {
  if (!(width_seconds > 0) || max_bins < 2)
    throw std::invalid_argument("BinnedSeries: width > 0 and 2+ bins");
}

void BinnedSeries::add(double t, double value) {
  auto index = static_cast<std::size_t>(std::max(0.0, std::floor(t / width_)));
  while (index >= max_bins_) {
    std::vector<Bin> merged((bins_.size() + 1) / 2);
    for (std::size_t i = 0; i < bins_.size(); ++i) {
      Bin& m = merged[i / 2];
      m.count += bins_[i].count;
      m.sum += bins_[i].sum;
      m.max = std::max(m.max, bins_[i].max);
    }
    bins_ = std::move(merged);
    width_ *= 2;
    index /= 2;
  }
  if (index >= bins_.size()) bins_.resize(index + 1);
  Bin& b = bins_[index];
  b.max = b.count > 0 ? std::max(b.max, value) : value;
  ++b.count;
  b.sum += value;
}

void FrameTimeBins::add(double ms) {
  double position = ms > kFirstEdgeMs ? std::log2(ms / kFirstEdgeMs) * kBinsPerOctave : 0;
  counts_[std::min(static_cast<std::size_t>(position), kBins - 1)] += 1;
}

nlohmann::json FrameTimeBins::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  auto first = std::find_if(counts_.begin(), counts_.end(), [](std::uint64_t n) { return n > 0; });
  if (first == counts_.end()) return out;
  auto last =
      std::find_if(counts_.rbegin(), counts_.rend(), [](std::uint64_t n) { return n > 0; }).base();
  for (auto it = first; it != last; ++it) {
    auto i = static_cast<double>(it - counts_.begin());
    double from = it == counts_.begin() ? 0 : kFirstEdgeMs * std::exp2(i / kBinsPerOctave);
    out.push_back({{"from_ms", from},
                   {"to_ms", kFirstEdgeMs * std::exp2((i + 1) / kBinsPerOctave)},
                   {"count", *it}});
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// ProfileRecorder

ProfileRecorder::ProfileRecorder(Options options)
    : options_(options), trace_(options.trace, AddonProfiler::Clock::now()) {}

void ProfileRecorder::start(Host& host) {
  const auto& clients = host.clients();
  for (std::size_t i = 0; i < clients.size(); ++i) {
    clients[i]->profiler().set_tracing(true);
    trace_.name_client(static_cast<int>(i + 1), clients[i]->name());
  }
}

void ProfileRecorder::observe(Host& host) {
  const double budget_ms = 1000.0 / options_.fps;
  const double t = host.now();
  const auto& clients = host.clients();
  if (clients_.size() < clients.size()) clients_.resize(clients.size());
  for (std::size_t i = 0; i < clients.size(); ++i) {
    Client& c = *clients[i];
    const AddonProfiler& profiler = c.profiler();
    const AddonProfiler::Frame& frame = profiler.last_frame();
    ClientState& state = clients_[i];
    if (frame.index == state.last_frame) continue;  // no frame this time (logged out)
    state.last_frame = frame.index;
    frame_ms_.add(t, frame.ms);
    frame_histogram_.record(frame.ms);
    frame_bins_.add(frame.ms);
    if (frame.ms > budget_ms) ++frames_over_budget_;

    // A replay call is labelled with its ledger; its owner is the addon that created the ledger.
    for (const AddonProfiler::Call& call : profiler.last_frame_calls()) {
      if (call.work == AddonWork::Replay && call.owner != AddonProfiler::kHostWork) {
        ledgers_[profiler.label(call.label)].owner = profiler.name(call.owner);
      }
    }
    std::vector<TraceLog::Counter> counters;
    for (LedgerBinding* b : c.ledgers().all()) {
      LedgerSeries& series = ledgers_[b->name()];
      auto [seen, first] = state.applied.try_emplace(b->name(), 0);
      if (first) ++series.clients;
      std::uint64_t applied = b->metrics().events_applied();
      // A new session opens the ledger again and its count starts over.
      std::uint64_t delta = applied >= seen->second ? applied - seen->second : applied;
      seen->second = applied;
      std::size_t lag =
          (b->target() > b->applied() ? b->target() - b->applied() : 0) + b->remote_pending();
      series.events += delta;
      series.lag_max = std::max(series.lag_max, lag);
      series.applied.add(t, static_cast<double>(delta));
      series.lag.add(t, static_cast<double>(lag));
      counters.push_back({"replay " + b->name(), {{"lag", lag}, {"applied", delta}}});
    }
    const TrafficStats& traffic = host.network().stats(c.id());
    counters.push_back(
        {"addon messages",
         {{"bytes_sent", traffic.bytes_sent}, {"bytes_received", traffic.bytes_delivered}}});
    trace_.add_frame(static_cast<int>(i + 1), profiler, std::move(counters));
  }
}

namespace {

nlohmann::json work_json(const std::array<double, kAddonWorkKinds>& work_ms) {
  nlohmann::json out = nlohmann::json::object();
  for (std::size_t k = 0; k < kAddonWorkKinds; ++k)
    out[std::string(work_name(static_cast<AddonWork>(k)))] = work_ms[k];
  return out;
}

// One addon's (or all addons') figures over every client.
struct AddonTotals {
  std::string name;
  std::uint64_t calls = 0, frames = 0;
  double load_ms = 0, total_ms = 0, peak_ms = 0, recent_sum = 0;
  std::size_t clients = 0;
  std::array<std::uint64_t, kProfilerThresholdsMs.size()> over{};
  std::array<double, kAddonWorkKinds> work_ms{};
  Histogram per_frame;

  void add(const AddonFigures& f, const FrameTimes& times) {
    name = f.name;
    ++clients;
    calls += f.calls;
    frames += f.frames;
    load_ms += f.load_ms;
    total_ms += f.total_ms;
    peak_ms = std::max(peak_ms, f.metrics[static_cast<std::size_t>(ProfilerMetric::PeakTime)]);
    recent_sum += f.metrics[static_cast<std::size_t>(ProfilerMetric::RecentAverageTime)];
    for (std::size_t i = 0; i < over.size(); ++i) {
      over[i] += static_cast<std::uint64_t>(
          f.metrics[static_cast<std::size_t>(ProfilerMetric::CountTimeOver1Ms) + i]);
    }
    for (std::size_t k = 0; k < kAddonWorkKinds; ++k) work_ms[k] += f.work_ms[k];
    per_frame.merge(times.histogram());
  }

  nlohmann::json to_json(double all_frames_ms) const {
    nlohmann::json over_json = nlohmann::json::object();
    for (std::size_t i = 0; i < over.size(); ++i) {
      over_json[std::to_string(static_cast<int>(kProfilerThresholdsMs[i])) + "ms"] = over[i];
    }
    double frames_d = static_cast<double>(frames);
    return {{"name", name},
            {"clients", clients},
            {"calls", calls},
            {"calls_per_frame", frames > 0 ? static_cast<double>(calls) / frames_d : 0.0},
            {"load_ms", load_ms},
            {"total_ms", total_ms},
            {"mean_ms_per_frame", frames > 0 ? total_ms / frames_d : 0.0},
            {"recent_ms_per_frame", clients > 0 ? recent_sum / static_cast<double>(clients) : 0.0},
            {"p50_ms", per_frame.quantile(0.50)},
            {"p95_ms", per_frame.quantile(0.95)},
            {"p99_ms", per_frame.quantile(0.99)},
            {"peak_ms", peak_ms},
            {"frames_over", over_json},
            {"share_of_frame_time", all_frames_ms > 0 ? total_ms / all_frames_ms : 0.0},
            {"work_ms", work_json(work_ms)}};
  }
};

}  // namespace

nlohmann::json ProfileRecorder::report(Host& host) const {
  const double budget_ms = 1000.0 / options_.fps;
  nlohmann::json r;
  r["version"] = 1;
  r["session"] = {
      {"clients", host.clients().size()}, {"fps", options_.fps}, {"game_seconds", host.now()}};

  nlohmann::json series = nlohmann::json::array();
  for (std::size_t i = 0; i < frame_ms_.bins().size(); ++i) {
    const BinnedSeries::Bin& b = frame_ms_.bins()[i];
    if (b.count == 0) continue;
    series.push_back({{"t", static_cast<double>(i) * frame_ms_.width()},
                      {"mean_ms", b.sum / static_cast<double>(b.count)},
                      {"max_ms", b.max}});
  }
  r["frames"] = {{"count", frame_histogram_.count()},
                 {"budget_ms", budget_ms},
                 {"over_budget", frames_over_budget_},
                 {"mean_ms", frame_histogram_.mean()},
                 {"p50_ms", frame_histogram_.quantile(0.50)},
                 {"p95_ms", frame_histogram_.quantile(0.95)},
                 {"p99_ms", frame_histogram_.quantile(0.99)},
                 {"max_ms", frame_histogram_.max()},
                 {"histogram", frame_bins_.to_json()},
                 {"series_bin_seconds", frame_ms_.width()},
                 {"series", std::move(series)}};

  nlohmann::json replay = nlohmann::json::array();
  for (const auto& [name, s] : ledgers_) {
    // The rate at a bin is over the second of game time that ends with it (one bin when bins
    // are wider), so a knob like interval = 0.5 s does not show as a saw.
    nlohmann::json points = nlohmann::json::array();
    const auto& applied = s.applied.bins();
    const auto& lag = s.lag.bins();
    const double width = s.applied.width();
    const auto window = static_cast<std::size_t>(std::max(1.0, std::round(1.0 / width)));
    double in_window = 0;
    for (std::size_t i = 0; i < applied.size() && i < lag.size(); ++i) {
      in_window += applied[i].sum - (i >= window ? applied[i - window].sum : 0);
      if (applied[i].count == 0) continue;
      double seconds = static_cast<double>(std::min(i + 1, window)) * width;
      points.push_back(
          {{"t", static_cast<double>(i) * width},
           {"events_per_second",
            in_window / seconds / static_cast<double>(std::max<std::size_t>(1, s.clients))},
           {"lag", lag[i].max}});
    }
    replay.push_back({{"ledger", name},
                      {"owner", s.owner},
                      {"clients", s.clients},
                      {"events_applied", s.events},
                      {"lag_max", s.lag_max},
                      {"series_bin_seconds", s.applied.width()},
                      {"series", std::move(points)}});
  }
  r["replay"] = std::move(replay);

  // Addons over all clients, costliest first; per client, each one's own figures.
  std::map<std::string, AddonTotals> totals;
  AddonTotals overall;
  double all_frames_ms = 0;
  nlohmann::json clients = nlohmann::json::array();
  for (const auto& c : host.clients()) {
    const AddonProfiler& profiler = c->profiler();
    all_frames_ms += c->frame_stats().total_ms;
    nlohmann::json addons = nlohmann::json::array();
    auto figures = profiler.figures();
    for (std::size_t owner = 0; owner < figures.size(); ++owner) {
      const AddonFigures& f = figures[owner];
      if (owner == AddonProfiler::kUnattributed && f.calls == 0) continue;
      totals[f.name].add(f, profiler.frame_times(static_cast<AddonProfiler::Owner>(owner)));
      nlohmann::json metrics = nlohmann::json::object();
      for (int m = 0; m < kProfilerMetricCount; ++m) {
        metrics[std::string(metric_name(static_cast<ProfilerMetric>(m)))] =
            f.metrics[static_cast<std::size_t>(m)];
      }
      addons.push_back({{"name", f.name},
                        {"calls", f.calls},
                        {"load_ms", f.load_ms},
                        {"total_ms", f.total_ms},
                        {"metrics", metrics},
                        {"work_ms", work_json(f.work_ms)}});
    }
    overall.add(profiler.overall(), profiler.frame_times(std::nullopt));
    const Client::FrameStats& fs = c->frame_stats();
    clients.push_back(
        {{"name", c->name()},
         {"frames", fs.frames},
         {"frame_ms_mean", fs.frames > 0 ? fs.total_ms / static_cast<double>(fs.frames) : 0.0},
         {"frame_ms_max", fs.max_ms},
         {"addons", std::move(addons)}});
  }
  std::vector<const AddonTotals*> order;
  for (const auto& [name, t] : totals) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const AddonTotals* a, const AddonTotals* b) {
    return a->total_ms > b->total_ms;
  });
  nlohmann::json addons = nlohmann::json::array();
  for (const AddonTotals* t : order) addons.push_back(t->to_json(all_frames_ms));
  r["addons"] = std::move(addons);
  overall.name = "(all addons)";
  r["overall"] = overall.to_json(all_frames_ms);
  r["clients"] = std::move(clients);

  TraceLog::Stats t = trace_.stats();
  r["trace"] = {{"frames_seen", t.frames_seen},
                {"frames_kept", t.frames_kept},
                {"events", t.events},
                {"stride", t.stride},
                {"dropped_calls", t.dropped_calls}};
  return r;
}

}  // namespace tally::cli
