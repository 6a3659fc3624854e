// Knob presets, range checks and the "batch=100,interval=0.25,budget=2" parser.
#include "batching/replay_knobs.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <system_error>

namespace tally {

namespace {

std::string format_number(double value) {
  std::array<char, 32> buffer{};
  auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (error != std::errc{}) return "?";
  return std::string(buffer.data(), end);
}

// Range checks return what is wrong, or an empty string.
std::string range_error(const char* knob, double value, double max) {
  if (std::isfinite(value) && value >= 0 && value <= max) return {};
  return std::string(knob) + " must be a finite number in 0.." + format_number(max) + ", got " +
         format_number(value);
}

std::string batch_size_error(std::uint64_t value) {
  if (value >= 1 && value <= kMaxBatchSize) return {};
  return "batch_size must be in 1.." + std::to_string(kMaxBatchSize) + ", got " +
         std::to_string(value);
}

std::string_view trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(std::string_view item, const std::string& why) {
  throw std::invalid_argument("replay knobs: \"" + std::string(item) + "\": " + why);
}

template <typename T>
T parse_number(std::string_view item, std::string_view value, const char* expected) {
  T result{};
  const char* first = value.data();
  const char* last = value.data() + value.size();
  auto [end, error] = std::from_chars(first, last, result);
  if (value.empty() || error != std::errc{} || end != last) {
    fail(item, std::string("expected ") + expected + ", got \"" + std::string(value) + "\"");
  }
  return result;
}

enum class Key { Batch, Interval, Budget, Preset };

struct KeyName {
  std::string_view name;
  Key key;
};

constexpr std::array<KeyName, 7> kKeys{{{"batch", Key::Batch},
                                        {"batch_size", Key::Batch},
                                        {"interval", Key::Interval},
                                        {"interval_seconds", Key::Interval},
                                        {"budget", Key::Budget},
                                        {"frame_budget_ms", Key::Budget},
                                        {"preset", Key::Preset}}};

}  // namespace

ReplayKnobs ReplayKnobs::reference() {
  return {50, 0.5, 0};
}

ReplayKnobs ReplayKnobs::responsive() {
  return {};
}

void validate(const ReplayKnobs& knobs) {
  for (const std::string& error :
       {batch_size_error(knobs.batch_size),
        range_error("interval_seconds", knobs.interval_seconds, kMaxIntervalSeconds),
        range_error("frame_budget_ms", knobs.frame_budget_ms, kMaxFrameBudgetMs)}) {
    if (!error.empty()) throw std::invalid_argument(error);
  }
}

ReplayKnobs parse_knobs(std::string_view text, ReplayKnobs base) {
  struct Item {
    std::string_view text, value;
  };
  std::array<std::optional<Item>, 4> items;  // indexed by Key; a key may appear once

  text = trim(text);
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) fail(item, "empty item (stray comma?)");

    const auto eq = item.find('=');
    if (eq == std::string_view::npos) fail(item, "expected key=value");
    const std::string_view name = trim(item.substr(0, eq));
    const std::string_view value = trim(item.substr(eq + 1));

    const KeyName* known = nullptr;
    for (const auto& k : kKeys) {
      if (k.name == name) known = &k;
    }
    if (!known) fail(item, "unknown knob (expected batch, interval, budget or preset)");
    auto& slot = items[static_cast<std::size_t>(known->key)];
    if (slot) fail(item, "repeats \"" + std::string(slot->text) + "\"");
    slot = Item{item, value};
  }

  // The preset is the base the other items change, so it applies first wherever it was written.
  if (const auto& preset = items[static_cast<std::size_t>(Key::Preset)]) {
    if (preset->value == "reference") {
      base = ReplayKnobs::reference();
    } else if (preset->value == "responsive") {
      base = ReplayKnobs::responsive();
    } else {
      fail(preset->text, "unknown preset (expected reference or responsive)");
    }
  }
  // Range errors quote the item too, so the user sees what they typed.
  const auto check = [](const Item& item, const std::string& error) {
    if (!error.empty()) fail(item.text, error);
  };
  if (const auto& batch = items[static_cast<std::size_t>(Key::Batch)]) {
    const auto n = parse_number<std::uint64_t>(batch->text, batch->value, "a whole number");
    check(*batch, batch_size_error(n));
    base.batch_size = static_cast<std::uint32_t>(n);
  }
  if (const auto& interval = items[static_cast<std::size_t>(Key::Interval)]) {
    base.interval_seconds = parse_number<double>(interval->text, interval->value, "seconds");
    check(*interval, range_error("interval_seconds", base.interval_seconds, kMaxIntervalSeconds));
  }
  if (const auto& budget = items[static_cast<std::size_t>(Key::Budget)]) {
    base.frame_budget_ms = parse_number<double>(budget->text, budget->value, "milliseconds");
    check(*budget, range_error("frame_budget_ms", base.frame_budget_ms, kMaxFrameBudgetMs));
  }
  validate(base);  // catches a bad `base` the text left untouched
  return base;
}

std::string to_string(const ReplayKnobs& knobs) {
  return "batch=" + std::to_string(knobs.batch_size) +
         ",interval=" + format_number(knobs.interval_seconds) +
         ",budget=" + format_number(knobs.frame_budget_ms);
}

}  // namespace tally
