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
      [--preset reference|responsive] [--knobs "batch=100,interval=0,budget=2"]
                                   (replay knobs forced on every ledger; knobs over the preset)
      [--decode-thread on|off]     long replay steps decode ahead on a second thread (on)
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
  bench                            list the benchmarks and their options
  bench <ledger|replay|sync|profiler> [its options] [--runs N] [--warmup N] [--seed S]
      [--json FILE]                a benchmark: warm-up runs, then N runs; medians, min-max
  bench replay [--entries N] [--fps F] [--preset reference | --knobs K] [--decode-thread on|off]
      [--sweep "batch=25,50,200;interval=0,0.5;budget=1,2,4"] [--frame-budget-ms MS]
      [--html FILE]                catch-up under every knob setting, a heat map and the
                                   recommended knobs for F FPS within MS of replay per frame
  bench all [--runs N] [--seed S] [--json FILE]
                                   every benchmark with small defaults
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
    if (command == "bench") return tally::cli::bench(rest);
    throw tally::cli::UsageError("unknown command '" + command + "'");
  } catch (const tally::cli::UsageError& e) {
    std::fprintf(stderr, "tally: %s\n\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tally: %s\n", e.what());
    return 1;
  }
}
