// Fault injection for the addon-message network: the plan's checks and text form, the seeded
// delivery policy, and the offline schedule.
#include "runtime/network_faults.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <utility>

namespace tally {

namespace {

// ---- Checks and the text form -----------------------------------------------------------------

[[noreturn]] void fail(std::string_view item, std::string_view problem) {
  throw std::invalid_argument("fault plan: " + std::string(item) + ": " + std::string(problem));
}

// The plan's one-number keys, in the order format_fault_plan writes them.
struct NumberKey {
  std::string_view key;
  double FaultPlan::*field;
  bool is_rate;  // else a duration in seconds
};
constexpr std::array<NumberKey, 6> kNumberKeys{{
    {"loss", &FaultPlan::loss, true},
    {"latency", &FaultPlan::latency_seconds, false},
    {"jitter", &FaultPlan::jitter_seconds, false},
    {"dup", &FaultPlan::duplicate, true},
    {"reorder", &FaultPlan::reorder, true},
    {"reorder_delay", &FaultPlan::reorder_delay_seconds, false},
}};

constexpr std::string_view kSeparators = ",|+@=";

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Splits at every `separator`, keeping empty pieces so that a stray separator is reported.
std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> pieces;
  for (auto at = s.find(separator); at != std::string_view::npos; at = s.find(separator)) {
    pieces.push_back(s.substr(0, at));
    s.remove_prefix(at + 1);
  }
  pieces.push_back(s);
  return pieces;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Client names ignore ASCII letter case, as the network does.
bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

bool same_client(const ClientRef& a, const ClientRef& b) {
  const auto* a_name = std::get_if<std::string>(&a);
  const auto* b_name = std::get_if<std::string>(&b);
  if (a_name && b_name) return same_name(*a_name, *b_name);
  return a == b;
}

// Fixed notation with the fewest digits that read back as the same double: the parser takes
// no exponents. 400 characters hold any double that way (the longest, 5e-324, needs 326).
std::string format_number(double value) {
  std::array<char, 400> buffer;
  const auto written =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed);
  return std::string(buffer.data(), written.ptr);
}

std::string format_client(const ClientRef& client) {
  if (const auto* id = std::get_if<std::uint32_t>(&client)) return std::to_string(*id);
  return std::get<std::string>(client);
}

std::string format_window(double from, double to) {
  return format_number(from) + "-" + format_number(to);
}

std::string format_item(const NumberKey& number, const FaultPlan& plan) {
  return std::string(number.key) + "=" + format_number(plan.*number.field);
}

std::string format_item(const Partition& partition) {
  std::string out = "partition=";
  for (std::size_t g = 0; g < partition.groups.size(); ++g) {
    if (g > 0) out += '|';
    for (std::size_t c = 0; c < partition.groups[g].size(); ++c) {
      if (c > 0) out += '+';
      out += format_client(partition.groups[g][c]);
    }
  }
  return out + "@" + format_window(partition.start, partition.heal);
}

std::string format_item(const OfflineWindow& window) {
  return "offline=" + format_client(window.client) + "@" + format_window(window.from, window.to);
}

void check_number(const NumberKey& number, double value, std::string_view item) {
  if (number.is_rate && !(value >= 0 && value <= 1)) fail(item, "a rate must be between 0 and 1");
  if (!number.is_rate && !(std::isfinite(value) && value >= 0)) {
    fail(item, "a duration must be finite and >= 0");
  }
}

void check_window(double from, double to, std::string_view item) {
  if (!(std::isfinite(from) && from >= 0 && std::isfinite(to))) {
    fail(item, "window times must be finite and >= 0");
  }
  if (!(from < to)) fail(item, "the window must end after it starts");
}

// A name must survive the text form: the parser trims spaces, splits at the separators and
// reads digits as an id.
void check_client(const ClientRef& client, std::string_view item) {
  const auto* name = std::get_if<std::string>(&client);
  if (!name) return;
  if (name->empty()) fail(item, "a client name is empty");
  if (all_digits(*name)) fail(item, "client name '" + *name + "' would read as an id");
  if (name->find_first_of(kSeparators) != std::string::npos) {
    fail(item, "client name '" + *name + "' holds one of , | + @ =");
  }
  if (trim(*name).size() != name->size()) {
    fail(item, "client name '" + *name + "' starts or ends with a space");
  }
}

void check_partition(const Partition& partition, std::string_view item) {
  check_window(partition.start, partition.heal, item);
  if (partition.groups.empty()) fail(item, "a partition needs at least one group");
  std::vector<const ClientRef*> seen;
  for (const auto& group : partition.groups) {
    if (group.empty()) fail(item, "a group is empty");
    for (const auto& client : group) {
      check_client(client, item);
      if (std::any_of(seen.begin(), seen.end(),
                      [&](const ClientRef* other) { return same_client(*other, client); })) {
        fail(item, "client " + format_client(client) + " is listed twice");
      }
      seen.push_back(&client);
    }
  }
}

void check_offline(const OfflineWindow& window, std::string_view item) {
  check_client(window.client, item);
  check_window(window.from, window.to, item);
}

// A plain decimal: digits with at most one point, no sign, no exponent, no inf or nan.
double parse_number(std::string_view text, std::string_view item) {
  text = trim(text);
  double value = 0;
  const char* last = text.data() + text.size();
  const bool plain = !text.empty() && text.find_first_not_of("0123456789.") == text.npos;
  auto [end, error] = std::from_chars(text.data(), last, value, std::chars_format::fixed);
  if (!plain || error != std::errc{} || end != last) {
    fail(item, "'" + std::string(text) + "' is not a plain decimal number");
  }
  return value;
}

std::pair<double, double> parse_window(std::string_view text, std::string_view item) {
  const auto ends = split(text, '-');
  if (ends.size() != 2) fail(item, "expected FROM-TO after '@', got '" + std::string(text) + "'");
  return {parse_number(ends[0], item), parse_number(ends[1], item)};
}

ClientRef parse_client(std::string_view text, std::string_view item) {
  text = trim(text);
  if (text.empty()) fail(item, "a client is missing");
  if (!all_digits(text)) return std::string(text);
  std::uint32_t id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc{}) fail(item, "client id " + std::string(text) + " is out of range");
  return id;
}

Partition parse_partition(std::string_view value, std::string_view item) {
  const auto at = value.rfind('@');
  if (at == std::string_view::npos) fail(item, "expected GROUPS@FROM-TO");
  Partition partition;
  std::tie(partition.start, partition.heal) = parse_window(value.substr(at + 1), item);
  for (auto group : split(value.substr(0, at), '|')) {
    auto& members = partition.groups.emplace_back();
    for (auto client : split(group, '+')) members.push_back(parse_client(client, item));
  }
  check_partition(partition, item);
  return partition;
}

OfflineWindow parse_offline(std::string_view value, std::string_view item) {
  const auto at = value.rfind('@');
  if (at == std::string_view::npos) fail(item, "expected CLIENT@FROM-TO");
  OfflineWindow window;
  window.client = parse_client(value.substr(0, at), item);
  std::tie(window.from, window.to) = parse_window(value.substr(at + 1), item);
  check_offline(window, item);
  return window;
}

// ---- The policy -------------------------------------------------------------------------------

// splitmix64's output function: a bijection that spreads every input bit over the output.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

// splitmix64 (Steele, Lea, Flood): small, fast, and good enough to draw faults from.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return mix(state_ += 0x9e3779b97f4a7c15u); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  bool chance(double rate) { return uniform() < rate; }                       // never at 0

 private:
  std::uint64_t state_;
};

bool names(const ClientRef& client, std::uint32_t id, std::string_view name) {
  if (const auto* want = std::get_if<std::uint32_t>(&client)) return *want == id;
  return same_name(std::get<std::string>(client), name);
}

// The index of the group listing the client, or one past the last for the unlisted rest.
std::size_t group_of(const Partition& partition, std::uint32_t id, std::string_view name) {
  for (std::size_t g = 0; g < partition.groups.size(); ++g) {
    for (const auto& client : partition.groups[g]) {
      if (names(client, id, name)) return g;
    }
  }
  return partition.groups.size();
}

// Whether a partition separating the two ends is in force at any moment of [sent, arrival].
bool cut_by_partition(const FaultPlan& plan, const Transmission& t, double arrival) {
  return std::any_of(plan.partitions.begin(), plan.partitions.end(), [&](const Partition& p) {
    return t.sent_at < p.heal && arrival >= p.start &&
           group_of(p, t.sender, t.sender_name) != group_of(p, t.receiver, t.receiver_name);
  });
}

struct PolicyState {
  FaultPlan plan;
  std::uint64_t seed;
  FaultCounters counters;
};

}  // namespace

// ---- Public functions -------------------------------------------------------------------------

void validate_fault_plan(const FaultPlan& plan) {
  for (const auto& number : kNumberKeys) {
    check_number(number, plan.*number.field, format_item(number, plan));
  }
  for (const auto& partition : plan.partitions) check_partition(partition, format_item(partition));
  for (const auto& window : plan.offline) check_offline(window, format_item(window));
}

FaultPlan parse_fault_plan(std::string_view text) {
  FaultPlan plan;
  if (trim(text).empty()) return plan;
  std::set<std::string_view> given;
  for (auto item : split(text, ',')) {
    item = trim(item);
    if (item.empty()) fail("'" + std::string(text) + "'", "an item is empty (a stray comma?)");
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) fail(item, "expected key=value");
    const auto key = trim(item.substr(0, equals));
    const auto value = item.substr(equals + 1);
    const auto number = std::find_if(kNumberKeys.begin(), kNumberKeys.end(),
                                     [&](const NumberKey& k) { return k.key == key; });
    if (number != kNumberKeys.end()) {
      if (!given.insert(number->key).second) {
        fail(item, "'" + std::string(key) + "' is given twice");
      }
      plan.*number->field = parse_number(value, item);
      check_number(*number, plan.*number->field, item);
    } else if (key == "partition") {
      plan.partitions.push_back(parse_partition(value, item));
    } else if (key == "offline") {
      plan.offline.push_back(parse_offline(value, item));
    } else {
      fail(item, "unknown key '" + std::string(key) +
                     "' (known: loss, latency, jitter, dup, reorder, reorder_delay, partition, "
                     "offline)");
    }
  }
  return plan;
}

std::string format_fault_plan(const FaultPlan& plan) {
  const FaultPlan defaults;
  std::vector<std::string> items;
  for (const auto& number : kNumberKeys) {
    if (plan.*number.field != defaults.*number.field) items.push_back(format_item(number, plan));
  }
  for (const auto& partition : plan.partitions) items.push_back(format_item(partition));
  for (const auto& window : plan.offline) items.push_back(format_item(window));
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

FaultPolicy make_delivery_policy(const FaultPlan& plan, std::uint64_t seed) {
  validate_fault_plan(plan);
  auto state = std::make_shared<PolicyState>(PolicyState{plan, seed, {}});
  DeliveryPolicy policy = [state](const Transmission& t) {
    const FaultPlan& p = state->plan;
    FaultCounters& counted = state->counters;
    // A stream of its own per copy: its fate does not depend on the order of the calls.
    SplitMix64 draw(mix(mix(mix(state->seed) ^ t.sequence) ^ t.receiver));
    ++counted.decided;
    std::vector<double> delays;
    if (draw.chance(p.loss)) {
      ++counted.lost_by_loss;
      return delays;
    }
    const int copies = draw.chance(p.duplicate) ? 2 : 1;
    counted.duplicated += static_cast<std::uint64_t>(copies - 1);
    for (int copy = 0; copy < copies; ++copy) {
      double delay = p.latency_seconds + p.jitter_seconds * draw.uniform();
      const bool held_back = draw.chance(p.reorder);
      if (held_back) delay += p.reorder_delay_seconds * draw.uniform();
      if (cut_by_partition(p, t, t.sent_at + delay)) {
        ++counted.lost_by_partition;
        continue;
      }
      counted.reordered += held_back ? 1 : 0;
      counted.delayed += delay > p.latency_seconds ? 1 : 0;
      ++counted.scheduled;
      delays.push_back(delay);
    }
    return delays;
  };
  return {std::move(policy), std::shared_ptr<const FaultCounters>(state, &state->counters)};
}

FaultSchedule::FaultSchedule(const FaultPlan& plan) : windows_(plan.offline) {
  validate_fault_plan(plan);
}

void FaultSchedule::apply(AddonNetwork& network, double now) {
  if (!std::isfinite(now)) throw std::invalid_argument("fault schedule: time must be finite");
  // Two windows may name one client (overlapping, or once by id and once by name): it stays
  // offline while either holds it.
  std::map<std::uint32_t, bool> offline_now;
  for (const auto& window : windows_) {
    std::uint32_t id = 0;
    if (const auto* named = std::get_if<std::string>(&window.client)) {
      const auto found = network.id_of(*named);
      if (!found) throw std::invalid_argument("fault schedule: no client named " + *named);
      id = *found;
    } else {
      id = network.client(std::get<std::uint32_t>(window.client)).id;  // out_of_range if unknown
    }
    bool& offline = offline_now[id];
    offline = offline || (window.from <= now && now < window.to);
  }
  for (const auto& [id, offline] : offline_now) {
    if (offline == held_offline_.contains(id)) continue;
    network.set_online(id, !offline);
    if (offline) {
      held_offline_.insert(id);
    } else {
      held_offline_.erase(id);
    }
  }
}

}  // namespace tally
