// `tally run`: loads an AddOns folder into N clients and runs them in the game-like frame loop.
#include <chrono>
#include <cstdio>
#include <thread>

#include "bindings/host.hpp"
#include "bindings/scenario.hpp"
#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "cli/knob_options.hpp"
#include "cli/profile_session.hpp"
#include "cli/ledger_report.hpp"
#include "cli/sim_report.hpp"
#include "runtime/atomic_file.hpp"

namespace tally::cli {

namespace {

const char* kNames[] = {"Aelric",  "Brannoc", "Cyrielle", "Dagna",  "Eowald",  "Fenwyn",
                        "Garruk",  "Hestia",  "Ilsabet",  "Jorund", "Kestrel", "Lunaria"};

std::string client_name(int i) {
  constexpr int kCount = static_cast<int>(sizeof kNames / sizeof kNames[0]);
  std::string name = kNames[i % kCount];
  if (i >= kCount) name += std::string(1, static_cast<char>('a' + (i / kCount - 1) % 26)) + std::to_string(i / kCount);
  return name;
}

const char* kClasses[] = {"WARRIOR", "PRIEST", "MAGE", "ROGUE", "DRUID", "HUNTER", "WARLOCK", "PALADIN", "SHAMAN"};

}  // namespace

// `tally run`, `tally sim` and `tally profile`: the same session; sim also watches sync and
// reports on it.
int run_session(const std::vector<std::string>& args, const char* command, bool sim, const SessionHooks& hooks) {
  std::vector<std::string> flags = {"realtime", "fast", "quiet", "metrics"};
  flags.insert(flags.end(), hooks.flags.begin(), hooks.flags.end());
  Arguments a(args, flags);
  std::vector<std::string> known = {"clients", "fps", "duration", "realtime", "fast", "saved", "slash", "quiet", "script", "faults", "seed",
                                    "metrics", "metrics-json", "report-json"};
  known.insert(known.end(), knob_option_names().begin(), knob_option_names().end());
  known.insert(known.end(), hooks.options.begin(), hooks.options.end());
  known.insert(known.end(), hooks.flags.begin(), hooks.flags.end());
  a.reject_unknown(known);
  if (a.positional().size() != 1) throw UsageError(std::string(command) + " needs one addons directory");
  if (a.flag("realtime") && a.flag("fast")) throw UsageError("--realtime and --fast exclude each other");
  int clients = static_cast<int>(a.integer("clients", sim ? 5 : 1, 1, 5000));
  int fps = static_cast<int>(a.integer("fps", 60, 1, 1000));
  double duration = static_cast<double>(a.integer("duration", 5, 0, 86400 * 30));
  bool realtime = a.flag("realtime");
  bool quiet = a.flag("quiet");

  // A bad AddOns folder is a clear error before anything runs.
  AddonCatalog catalog = scan_addons(a.positional()[0]);

  HostOptions host_options;
  host_options.faults = parse_fault_plan(a.text("faults", ""));
  host_options.fault_seed = static_cast<std::uint64_t>(a.integer("seed", 1, 0, INT64_MAX));
  host_options.forced_knobs = knob_options(a);
  host_options.decode_ahead.enabled = decode_thread_option(a);
  Host host(host_options);
  for (int i = 0; i < clients; ++i) {
    ClientOptions options;
    options.name = client_name(i);
    options.guild = "Tally Guild";
    // One raid of up to 40 in subgroups of 5; clients beyond that are only in the guild.
    options.raid = i < 40 ? 1 : 0;
    options.party = i < 40 ? static_cast<std::uint32_t>(i / 5 + 1) : 0;
    // The first client leads the guild, the next two are officers, the rest members.
    options.guild_rank = i == 0 ? 0 : i < 3 ? 1 : 3;
    options.class_file = kClasses[static_cast<std::size_t>(i) % std::size(kClasses)];
    options.saved_variables_dir = a.text("saved", "");
    Client& client = host.add_client(options);
    if (!quiet) {
      client.set_log_sink([](const Client& c, const LogLine& line) {
        std::printf("%9.3f [%s]%s %s\n", line.time, c.name().c_str(), line.error ? " error:" : "", line.text.c_str());
      });
    }
  }
  ConvergenceWatch watch;
  if (hooks.on_start) hooks.on_start(a, host);
  host.set_tick_observer([&](Host& h) {
    if (sim) watch.observe(h);
    if (hooks.on_tick) hooks.on_tick(h);
  });
  host.load_addons(catalog);
  host.start();
  // --slash "Name:/cmd args" types a command into one client after login.
  if (std::string slash = a.text("slash", ""); !slash.empty()) {
    auto colon = slash.find(':');
    Client* target = colon == std::string::npos ? host.clients()[0].get() : host.find_client(slash.substr(0, colon));
    if (target == nullptr) throw UsageError("--slash: no client named '" + slash.substr(0, colon) + "'");
    target->run_slash_command(colon == std::string::npos ? slash : slash.substr(colon + 1));
  }

  // --metrics / --metrics-json FILE: every ledger's replay metrics, taken before logout.
  auto report_metrics = [&] {
    if (!a.flag("metrics") && a.text("metrics-json", "").empty()) return;
    nlohmann::json metrics = ledger_metrics(host);
    if (a.flag("metrics")) print_ledger_metrics(metrics, stdout);
    if (std::string file = a.text("metrics-json", ""); !file.empty()) write_file_atomically(file, metrics.dump(2) + "\n");
  };
  // tally sim: traffic, frame times and agreement of every client; false when ledgers differ.
  auto report_sim = [&] {
    if (!sim) return true;
    nlohmann::json report = sim_report(host, watch);
    print_sim_report(report, stdout);
    if (std::string file = a.text("report-json", ""); !file.empty()) write_file_atomically(file, report.dump(2) + "\n");
    for (const auto& [name, since] : report["ledgers_agree_since"].items()) {
      if (since.is_null()) return false;
    }
    return true;
  };

  // A scenario drives the clients itself; it fails the run when it raises an error.
  if (std::string script = a.text("script", ""); !script.empty()) {
    Scenario scenario(host, fps);
    std::string error = scenario.run_file(script);
    if (hooks.on_end) hooks.on_end(host);
    report_metrics();
    bool agree = report_sim();
    host.shutdown();
    if (!error.empty()) {
      std::fprintf(stderr, "tally %s: scenario failed: %s\n", command, error.c_str());
      return 1;
    }
    std::printf("scenario %s passed (%.1f s of game time)\n", script.c_str(), host.now());
    return agree ? 0 : 1;
  }

  const double dt = 1.0 / fps;
  const auto frames = static_cast<long long>(duration * fps);
  auto next = std::chrono::steady_clock::now();
  for (long long f = 0; f < frames; ++f) {
    host.tick(dt);
    if (realtime) {
      next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(dt));
      std::this_thread::sleep_until(next);
    }
  }
  if (hooks.on_end) hooks.on_end(host);
  report_metrics();
  bool agree = report_sim();
  host.shutdown();
  std::size_t errors = 0;
  for (const auto& c : host.clients()) {
    errors += c->log().errors();
  }
  std::printf("ran %d client(s) for %.1f s of game time (%lld frames); %zu error(s) logged\n", clients, duration,
              frames, errors);
  return agree ? 0 : 1;
}

int run(const std::vector<std::string>& args) { return run_session(args, "run", false, {}); }
int sim(const std::vector<std::string>& args) { return run_session(args, "sim", true, {}); }

}  // namespace tally::cli
