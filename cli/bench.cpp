// `tally bench`: lists the benchmarks, runs one, or runs them all with small defaults.
#include <cstdio>

#include "cli/bench_suite.hpp"
#include "cli/commands.hpp"

namespace tally::cli {

namespace {

std::vector<BenchDef> all_benches() {
  return {ledger_bench(), replay_bench(), sync_bench(), profiler_bench()};
}

void list(const std::vector<BenchDef>& benches) {
  std::printf("usage: tally bench <name> [options] [--runs N] [--warmup N] [--seed S] [--json FILE]\n"
              "       tally bench all [--runs N] [--warmup N] [--seed S] [--json FILE]\n\nbenchmarks:\n");
  for (const auto& b : benches) {
    std::printf("  %-9s %s\n            %s (defaults: %d runs, %d warm-up)\n", b.name.c_str(),
                b.usage.c_str(), b.summary.c_str(), b.defaults.runs, b.defaults.warmup);
  }
  std::printf("  %-9s each of the above with small defaults; --json writes them all to one file\n", "all");
}

BenchResult run_one(const BenchDef& def, const std::vector<std::string>& args) {
  Arguments a(args, {});
  std::vector<std::string> known = bench_common_options();
  known.insert(known.end(), def.options.begin(), def.options.end());
  a.reject_unknown(known);
  if (!a.positional().empty()) throw UsageError("bench " + def.name + ": unexpected '" + a.positional()[0] + "'");
  BenchResult result = def.run(a, parse_bench_settings(a, def.defaults));
  if (def.print) {
    def.print(result);
  } else {
    print_bench_table(result, stdout);
  }
  std::fflush(stdout);
  return result;
}

// `tally bench all`: the common options apply to every bench, over its small defaults.
int run_all(const std::vector<BenchDef>& benches, const std::vector<std::string>& args) {
  Arguments a(args, {});
  a.reject_unknown(bench_common_options());
  if (!a.positional().empty()) throw UsageError("bench all takes no benchmark names");
  nlohmann::json all = {{"schema", kBenchSchema}, {"benches", nlohmann::json::array()}};
  for (const auto& def : benches) {
    std::vector<std::string> bench_args = def.small;
    for (const char* common : {"runs", "warmup", "seed"}) {
      if (a.flag(common)) {
        bench_args.push_back(std::string("--") + common);
        bench_args.push_back(a.text(common, ""));
      }
    }
    all["benches"].push_back(run_one(def, bench_args).to_json());
    std::printf("\n");
  }
  if (std::string path = a.text("json", ""); !path.empty()) write_bench_json(path, all);
  return 0;
}

}  // namespace

int bench(const std::vector<std::string>& args) {
  std::vector<BenchDef> benches = all_benches();
  if (args.empty()) {
    list(benches);
    return 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "all") return run_all(benches, rest);
  for (const auto& def : benches) {
    if (def.name != args[0]) continue;
    BenchResult result = run_one(def, rest);
    if (std::string path = Arguments(rest, {}).text("json", ""); !path.empty())
      write_bench_json(path, result.to_json());
    return 0;
  }
  std::string names;
  for (const auto& def : benches) names += def.name + ", ";
  throw UsageError("no benchmark '" + args[0] + "' (expected " + names + "or all)");
}

}  // namespace tally::cli
