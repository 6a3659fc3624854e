// The hostile suite's world: its clients, its frame loop, and the checks run after every case.
#include "hostile_world.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runtime/atomic_file.hpp"
#include "runtime/saved_variables.hpp"
#include "sandbox_reach.hpp"

using namespace tally;

namespace hostile {

namespace {

constexpr const char* kGuild = "Hostile Guild";

HostOptions host_options(const WorldOptions& options) {
  HostOptions out;
  out.network.limits = options.limits;
  return out;
}

ClientOptions member(const std::string& name, int rank, const WorldOptions& options) {
  ClientOptions out;
  out.name = name;
  out.guild = kGuild;
  out.guild_rank = rank;
  out.memory_limit = 64u << 20;
  out.saved_variables_dir = options.scratch / "saved";
  return out;
}

ClientOptions victim_options(const WorldOptions& options) {
  ClientOptions out = member("Victim", 3, options);
  out.memory_limit = options.victim_memory;
  out.script_time_limit = options.victim_time_limit;
  return out;
}

// The catalog's addons named in `names` (Anchor first, as it sorts first), nothing else.
AddonCatalog only(const AddonCatalog& catalog, const std::vector<std::string>& names) {
  AddonCatalog out;
  for (const AddonInfo& addon : catalog.addons) {
    if (std::find(names.begin(), names.end(), addon.name) != names.end())
      out.addons.push_back(addon);
  }
  return out;
}

double status_mb(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::stod(line.substr(std::strlen(field))) / 1024;
  }
  return 0;
}

double number(const Client::Evaluation& e) {
  return e.ok && !e.values.empty() && e.values[0].type() == savedvars::Value::Type::Number
             ? e.values[0].as_number()
             : -1;
}

std::string mb(double value) {
  std::ostringstream out;
  out.precision(0);
  out << std::fixed << value << " MB";
  return out.str();
}

}  // namespace

double rss_mb() {
  return status_mb("VmRSS:");
}
double peak_rss_mb() {
  return status_mb("VmHWM:");
}
void reset_peak_rss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

World::World(WorldOptions options)
    : host(host_options(options)),
      olwen(host.add_client(member("Olwen", 1, options))),
      osric(host.add_client(member("Osric", 1, options))),
      victim(host.add_client(victim_options(options))),
      bystander(host.add_client(member("Bystander", 3, options))),
      options_(std::move(options)) {
  if (!options_.attacker.empty())
    attacker = &host.add_client(member(options_.attacker, 3, options_));
  if (options_.prepare) options_.prepare(options_.scratch / "saved");
  catalog_ = scan_addons(options_.addons_dir);
  std::vector<std::string> victim_addons = options_.victim_addons;
  victim_addons.insert(victim_addons.begin(), "Anchor");
  for (Client* c : {&olwen, &osric, &bystander}) c->load_addons(only(catalog_, {"Anchor"}));
  victim.load_addons(only(catalog_, victim_addons));
  host.start();
  baseline_rss_mb_ = rss_mb();
  reset_peak_rss();
}

void World::run(double seconds, const std::function<void()>& each_frame) {
  const auto frames = static_cast<long>(seconds * kFps + 0.5);
  for (long i = 0; i < frames; ++i) {
    if (each_frame) each_frame();
    auto start = std::chrono::steady_clock::now();
    host.tick(1 / kFps);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    slowest_frame_ = std::max(slowest_frame_, took);
    if (took > kSlowFrame) ++slow_frames_;
  }
}

std::string World::sync_prefix() const {
  LedgerBinding* ledger = olwen.ledgers().find("Anchor");
  SyncLink* link = ledger != nullptr ? olwen.ledgers().sync_of(ledger) : nullptr;
  return link != nullptr ? link->prefix() : "";
}

std::filesystem::path World::saved_variables(const Client& client, const std::string& addon) const {
  return options_.scratch / "saved" / client.name() / "SavedVariables" / (addon + ".lua");
}

bool World::is_officer(std::uint32_t creator) const {
  return creator == olwen.options().player_id || creator == osric.options().player_id;
}

std::vector<Client*> World::honest(bool with_victim) const {
  std::vector<Client*> out{&olwen, &osric, &bystander};
  if (with_victim) out.push_back(&victim);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The checks

void World::check_alive(std::vector<std::string>& breaches) {
  for (const auto& c : host.clients()) {
    if (!c->logged_in()) breaches.push_back(c->name() + " is not logged in any more");
  }
}

void World::check_anchor_ticks(const Expect& expect, std::vector<std::string>& breaches) {
  std::vector<Client*> clients = honest(expect.victim_keeps_working);
  std::vector<double> before;
  for (Client* c : clients) before.push_back(number(c->evaluate("return AnchorStatus.frames")));
  const double seconds = 2;
  run(seconds);
  for (std::size_t i = 0; i < clients.size(); ++i) {
    double ran = number(clients[i]->evaluate("return AnchorStatus.frames")) - before[i];
    if (before[i] < 0 || ran < 0.9 * seconds * kFps) {
      breaches.push_back("Anchor in " + clients[i]->name() + " ran " +
                         std::to_string(static_cast<int>(ran)) + " of " +
                         std::to_string(static_cast<int>(seconds * kFps)) + " frames");
    }
  }
}

void World::check_ledgers(const Expect& expect, std::vector<std::string>& breaches) {
  if (sync_prefix().empty()) {
    breaches.push_back(
        "Anchor's ledger does not sync (Tally.NewLedger{ sync = true } made no sync link)");
    return;
  }
  std::vector<Client*> clients = honest(expect.victim_keeps_working);
  const std::size_t target = olwen.ledgers().find("Anchor")->ledger().size();
  bool agreed = false;
  for (int second = 0; second < 90 && !agreed; ++second) {
    run(1);
    const Ledger& first = clients[0]->ledgers().find("Anchor")->ledger();
    agreed = first.size() >= target && std::all_of(clients.begin(), clients.end(), [&](Client* c) {
               const Ledger& l = c->ledgers().find("Anchor")->ledger();
               return l.size() == first.size() && l.fingerprint().sum == first.fingerprint().sum;
             });
  }
  if (!agreed) {
    std::string sizes;
    for (Client* c : clients)
      sizes += " " + c->name() + "=" + std::to_string(c->ledgers().find("Anchor")->ledger().size());
    breaches.push_back("Anchor's ledgers did not agree within 90 s (of at least " +
                       std::to_string(target) + " entries):" + sizes);
  }
  for (const auto& c : host.clients()) {
    LedgerBinding* anchor = c->ledgers().find("Anchor");
    if (anchor == nullptr) continue;
    std::size_t unauthorized = 0;
    anchor->ledger().for_each(0, anchor->ledger().size(), [&](std::size_t, const EntryView& e) {
      unauthorized += is_officer(e.key().creator) ? 0 : 1;
    });
    if (unauthorized > 0) {
      breaches.push_back(std::to_string(unauthorized) +
                         " entries not created by an officer are in " + c->name() +
                         "'s Anchor ledger");
    }
  }
}

void World::check_sandbox(std::vector<std::string>& breaches) {
  for (const auto& c : host.clients()) {
    for (const std::string& leak : sandbox_leaks(c->lua()))
      breaches.push_back(c->name() + ": " + leak);
  }
}

void World::check_saved_variables(const Expect& expect, std::vector<std::string>& breaches) {
  host.shutdown();
  for (Client* c : honest(true)) {
    auto file = saved_variables(*c, "Anchor");
    try {
      auto variables = savedvars::parse(read_file(file), file.string());
      const savedvars::Value* sessions =
          variables.empty() ? nullptr : variables[0].second.find("sessions");
      const savedvars::Value* frames =
          variables.empty() ? nullptr : variables[0].second.find("frames");
      bool counts_frames = c != &victim || expect.victim_keeps_working;
      if (sessions == nullptr || frames == nullptr || sessions->as_number() < 1 ||
          (counts_frames && frames->as_number() < 1)) {
        breaches.push_back(c->name() + ": AnchorDB was not saved at logout");
      }
    } catch (const std::exception& e) {
      breaches.push_back(c->name() + ": Anchor's SavedVariables: " + e.what());
    }
  }
}

std::vector<std::string> World::verify(const Expect& expect) {
  std::vector<std::string> breaches;
  check_alive(breaches);
  check_anchor_ticks(expect, breaches);
  check_ledgers(expect, breaches);
  check_sandbox(breaches);
  if (slow_frames_ > expect.slow_frames) {
    breaches.push_back(std::to_string(slow_frames_) + " frames took longer than " +
                       std::to_string(static_cast<int>(kSlowFrame * 1000)) + " ms (allowed " +
                       std::to_string(expect.slow_frames) + ")");
  }
  auto kills = std::count_if(victim.log().begin(), victim.log().end(), [](const LogLine& line) {
    return line.error && line.text.find("script ran too long") != std::string::npos;
  });
  if (kills > expect.kills) {
    breaches.push_back("the victim's code was stopped for running too long " +
                       std::to_string(kills) + " times (allowed " + std::to_string(expect.kills) +
                       "): each one stalled a frame");
  }
  if (slowest_frame_ > 0.5 * kSlowdown) {
    breaches.push_back("one frame took " + std::to_string(slowest_frame_) + " s: the host stalled");
  }
  check_saved_variables(expect, breaches);
  // The case, the checks and the logout together: the host's own memory stays in proportion
  // to what its clients may hold.
  double allowed = 4.0 * static_cast<double>(options_.victim_memory >> 20) + 64 + expect.memory_mb +
                   (kSanitized ? 256 : 0);
  if (double grew = peak_rss_mb() - baseline_rss_mb_; grew > allowed) {
    breaches.push_back("the host's memory grew by " + mb(grew) + " (allowed " + mb(allowed) + ")");
  }
  // What went wrong first is often the clue.
  auto first = std::find_if(victim.log().begin(), victim.log().end(),
                            [](const LogLine& l) { return l.error; });
  if (!breaches.empty() && first != victim.log().end()) {
    breaches.push_back("(the victim's first error: " +
                       first->text.substr(0, first->text.find('\n')).substr(0, 200) + ")");
  }
  return breaches;
}

}  // namespace hostile
