// tally: the command-line entry point; dispatches to one command per subcommand.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/arguments.hpp"
#include "cli/commands.hpp"

namespace {

constexpr const char* kUsage = R"(usage: tally <command> [options]

commands:
  demo [--dir DIR]                 a guild's DKP ledger: submit, persist, reopen, verify
  run <addons-dir> [--clients N] [--fps F] [--duration S] [--realtime|--fast]
      [--saved DIR] [--slash "Name:/cmd args"] [--script scenario.lua] [--quiet]
      [--faults "loss=0.1,latency=0.2,jitter=0.1,dup=0.05,reorder=0.1,
                 partition=1+2|3@10-60,offline=3@100-3700"] [--seed N]
      [--knobs "preset=reference" | "batch=100,interval=0,budget=2"] (forced on every ledger)
      [--metrics] [--metrics-json FILE]  (every ledger's replay metrics at the end)
  sim <addons-dir> [the options of run] [--report-json FILE]
                                   run (5 clients by default), then report each client's
                                   traffic and frame times and whether every client holds the
                                   same ledgers; exits 1 when they differ
                                   run addons in N clients in the game-like frame loop
  profile <addons-dir> [the options of run] [--sim] [--out DIR] [--trace-events N]
      [--slow-frames N]            run (as sim with --sim) and write DIR/trace.json (Chrome
                                   trace events), DIR/report.json and DIR/report.html: frame
                                   times, replay rate and lag, each addon's cost
  bench ledger [--entries N] [--runs R] [--seed S] [--json FILE] [--dir DIR]
                                   insert, merge, journal and memory figures
  bench replay [--entries N] [--runs R] [--seed S] [--json FILE]
                                   replay speed, catch-up at 60 FPS, late-insert cost
  bench sync [--sizes 10000,50000] [--missing 1,10,100] [--runs R] [--seed S] [--json FILE]
                                   sync protocols: bytes, messages and time to repair or confirm
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  try {
    std::string command = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "demo") return tally::cli::demo(rest);
    if (command == "run") return tally::cli::run(rest);
    if (command == "sim") return tally::cli::sim(rest);
    if (command == "profile") return tally::cli::profile(rest);
    if (command == "bench") {
      if (!rest.empty() && rest[0] == "ledger") {
        return tally::cli::bench_ledger({rest.begin() + 1, rest.end()});
      }
      if (!rest.empty() && rest[0] == "replay") {
        return tally::cli::bench_replay({rest.begin() + 1, rest.end()});
      }
      if (!rest.empty() && rest[0] == "sync") {
        return tally::cli::bench_sync({rest.begin() + 1, rest.end()});
      }
      throw tally::cli::UsageError("bench needs a suite: ledger, replay or sync");
    }
    throw tally::cli::UsageError("unknown command '" + command + "'");
  } catch (const tally::cli::UsageError& e) {
    std::fprintf(stderr, "tally: %s\n\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tally: %s\n", e.what());
    return 1;
  }
}
