// Parsing "batch=25,50;interval=0,0.5;budget=1,2" into a grid of replay knobs.
#include "batching/knob_sweep.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <string>

namespace tally {

namespace {

enum class Knob { Batch, Interval, Budget };

std::optional<Knob> knob_named(std::string_view name) {
  if (name == "batch" || name == "batch_size") return Knob::Batch;
  if (name == "interval" || name == "interval_seconds") return Knob::Interval;
  if (name == "budget" || name == "frame_budget_ms") return Knob::Budget;
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(const std::string& why) { throw std::invalid_argument("knob sweep: " + why); }

template <typename T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::vector<ReplayKnobs> KnobSweep::settings() const {
  std::vector<ReplayKnobs> out;
  for (double budget : budgets) {
    for (double interval : intervals) {
      for (std::uint32_t batch : batch_sizes) out.push_back({batch, interval, budget});
    }
  }
  return out;
}

KnobSweep parse_knob_sweep(std::string_view text, const ReplayKnobs& base) {
  validate(base);
  KnobSweep sweep;
  std::array<bool, 3> seen{};
  std::optional<Knob> current;
  std::string current_name;
  while (!text.empty()) {
    const std::size_t cut = text.find_first_of(",;");
    std::string_view item = trim(text.substr(0, cut));
    text = cut == std::string_view::npos ? std::string_view{} : text.substr(cut + 1);
    if (item.empty()) fail("empty item (stray comma or semicolon?)");
    std::string_view value = item;
    if (auto eq = item.find('='); eq != std::string_view::npos) {
      const std::string_view name = trim(item.substr(0, eq));
      if (name == "preset") fail("\"" + std::string(item) + "\": a preset is one setting, not a list (use --preset)");
      current = knob_named(name);
      if (!current) fail("\"" + std::string(item) + "\": unknown knob (expected batch, interval or budget)");
      if (seen[static_cast<std::size_t>(*current)]) fail("\"" + std::string(name) + "\" is listed twice");
      seen[static_cast<std::size_t>(*current)] = true;
      current_name = std::string(name);
      value = trim(item.substr(eq + 1));
      if (value.empty()) fail("\"" + std::string(item) + "\" has no value");
    } else if (!current) {
      fail("\"" + std::string(item) + "\" comes before any knob (write batch=..., interval=... or budget=...)");
    }
    // parse_knobs() checks the number and its range, and words its errors.
    ReplayKnobs one;
    try {
      one = parse_knobs(current_name + "=" + std::string(value), base);
    } catch (const std::invalid_argument& e) {
      fail(std::string(e.what()).substr(std::string_view("replay knobs: ").size()));
    }
    switch (*current) {
      case Knob::Batch: sweep.batch_sizes.push_back(one.batch_size); break;
      case Knob::Interval: sweep.intervals.push_back(one.interval_seconds); break;
      case Knob::Budget: sweep.budgets.push_back(one.frame_budget_ms); break;
    }
  }
  if (!current) fail("nothing to sweep (expected e.g. \"batch=25,50;interval=0,0.5;budget=1,2\")");
  if (sweep.batch_sizes.empty()) sweep.batch_sizes.push_back(base.batch_size);
  if (sweep.intervals.empty()) sweep.intervals.push_back(base.interval_seconds);
  if (sweep.budgets.empty()) sweep.budgets.push_back(base.frame_budget_ms);
  sort_unique(sweep.batch_sizes);
  sort_unique(sweep.intervals);
  sort_unique(sweep.budgets);
  const std::size_t n = sweep.batch_sizes.size() * sweep.intervals.size() * sweep.budgets.size();
  if (n > kMaxSweepSettings)
    fail(std::to_string(n) + " settings; at most " + std::to_string(kMaxSweepSettings));
  return sweep;
}

}  // namespace tally
