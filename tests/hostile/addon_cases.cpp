// Hostile addons: sandbox escapes, runaway code, recursion, memory bombs, broken error handlers,
// SavedVariables that cannot be loaded or saved, malicious .toc files. Each case loads its
// addon (tests/data/addons_hostile/) into the victim, runs it, and checks the world.
#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "hostile_case.hpp"
#include "hostile_world.hpp"
#include "runtime/atomic_file.hpp"
#include "runtime/saved_variables.hpp"

using namespace tally;
namespace fs = std::filesystem;

namespace hostile {

namespace {

using Breaches = std::vector<std::string>;

// Most cases finish in a second or two (those stopping code on every frame in 60 kills' time):
// a case still running after kQuick has hung the host.
constexpr double kQuick = 10 * (kSanitized ? 2 : 1);
constexpr double kSlow = 60 * kSlowdown;

// Whether the victim logged an error containing `needle` since log line `from` (any error, or
// none, for an empty needle).
bool logged_error(const Client& c, std::size_t from, const std::string& needle) {
  if (needle.empty()) return true;
  for (std::size_t i = from; i < c.log().size(); ++i) {
    if (c.log()[i].error && c.log()[i].text.find(needle) != std::string::npos) return true;
  }
  return false;
}

// The breach when the expected error is missing, with the last error the victim did log.
std::string missing_error(const Client& c, std::size_t from, const std::string& needle) {
  std::string last = "none";
  for (std::size_t i = from; i < c.log().size(); ++i) {
    if (c.log()[i].error) last = "'" + c.log()[i].text.substr(0, 160) + "'";
  }
  return "the victim logged no error with '" + needle + "' (its last error: " + last + ")";
}

// The victim loads `addon` and types `command`; `seconds` of frames follow. Breaches: no error
// containing `expected` in the victim's log, and whatever World::verify finds.
Breaches run_probe(WorldOptions options, const std::string& command, double seconds,
                   const std::string& expected, const Expect& expect) {
  World world(std::move(options));
  std::size_t from = world.victim.log().size();
  world.slash(command);
  world.run(seconds);
  Breaches breaches;
  if (!logged_error(world.victim, from, expected))
    breaches.push_back(missing_error(world.victim, from, expected));
  for (std::string& b : world.verify(expect)) breaches.push_back(std::move(b));
  return breaches;
}

WorldOptions with(const fs::path& scratch, const std::string& addon,
                  std::size_t victim_memory = 64u << 20,
                  double victim_time_limit = kVictimTimeLimit) {
  WorldOptions options;
  options.scratch = scratch;
  options.victim_addons = {addon};
  options.victim_memory = victim_memory;
  options.victim_time_limit = victim_time_limit;
  return options;
}

// The limit clients have unless configured otherwise (longer in slower sanitized builds): for
// cases that must reach a depth or a size before the clock stops them.
const double kDefaultTimeLimit = ClientOptions{}.script_time_limit * kSlowdown;

// ---------------------------------------------------------------------------------------------
// Sandbox escapes: one case per probe Escapist lists.

std::vector<std::string> escapist_probes() {
  AddonCatalog catalog;
  for (AddonInfo& addon : scan_addons(kHostileAddons).addons) {
    if (addon.name == "Escapist") catalog.addons.push_back(std::move(addon));
  }
  Host host;
  Client& c = host.add_client({.name = "Lister"});
  c.load_addons(catalog);
  Client::Evaluation e = c.evaluate("return EscapistProbes");
  std::vector<std::string> names;
  if (e.ok && !e.values.empty() && e.values[0].type() == savedvars::Value::Type::Table) {
    for (double i = 1;; ++i) {
      const savedvars::Value* name = e.values[0].find(savedvars::Value(i));
      if (name == nullptr) break;
      names.push_back(name->as_string());
    }
  }
  return names;
}

Breaches escape(const fs::path& scratch, const std::string& probe) {
  World world(with(scratch, "Escapist"));
  world.slash("/escape " + probe);
  world.run(5);
  Breaches breaches;
  Client::Evaluation got = world.victim.evaluate("return EscapistReached[ [==[" + probe + "]==] ]");
  if (!got.ok)
    breaches.push_back("cannot read EscapistReached: " + got.error);
  else if (!got.values.empty() && got.values[0].type() != savedvars::Value::Type::Nil) {
    breaches.push_back("the probe reached " + got.values[0].as_string());
  }
  for (std::string& b : world.verify({})) breaches.push_back(std::move(b));
  return breaches;
}

// ---------------------------------------------------------------------------------------------
// SavedVariables

// HoarderDB as written before the session: `keep` must survive whatever the session does.
void write_hoarder_db(const fs::path& saved, const std::string& extra) {
  auto file = saved / "Victim" / "SavedVariables" / "Hoarder.lua";
  fs::create_directories(file.parent_path());
  write_file_atomically(
      file, "HoarderDB = {\n\t[\"keep\"] = \"me\",\n\t[\"sessions\"] = 5,\n" + extra + "}\n");
}

// HoarderDB with `megabytes` of rows.
void write_huge_hoarder_db(const fs::path& saved, std::size_t megabytes) {
  std::string rows = "\t[\"rows\"] = {\n";
  for (std::size_t i = 0; rows.size() < megabytes << 20; ++i) {
    rows += "\t\t{ [\"name\"] = \"Player" + std::to_string(i) +
            "\", [\"amount\"] = " + std::to_string(i % 977) + ", [\"note\"] = \"" +
            std::string(40, 'n') + "\" },\n";
  }
  write_hoarder_db(saved, rows + "\t},\n");
}

// After logout: the Hoarder file parses and still holds `keep` (and `rows` rows when asked).
void check_hoarder_kept(const World& world, Breaches& breaches, double rows = 0) {
  auto file = world.saved_variables(world.victim, "Hoarder");
  try {
    auto variables = savedvars::parse(read_file(file), file.string());
    const savedvars::Value* keep = variables.empty() ? nullptr : variables[0].second.find("keep");
    if (keep == nullptr) breaches.push_back("HoarderDB lost what it held before the session");
    const savedvars::Value* kept_rows =
        variables.empty() ? nullptr : variables[0].second.find("rows");
    if (rows > 0 &&
        (kept_rows == nullptr || kept_rows->as_table().size() != static_cast<std::size_t>(rows))) {
      breaches.push_back("HoarderDB lost its rows");
    }
  } catch (const std::exception& e) {
    breaches.push_back("Hoarder's SavedVariables: " + std::string(e.what()));
  }
}

std::size_t huge_megabytes() {
  if (const char* size = std::getenv("TALLY_HOSTILE_HUGE_MB"))
    return static_cast<std::size_t>(std::atoi(size));
  return kSanitized ? 2 : 50;
}

// A SavedVariables probe: HoarderDB is on disk before; the probe changes it; logout must keep it.
Breaches unsavable(const fs::path& scratch, const std::string& probe, const std::string& expected,
                   Expect expect = {}) {
  WorldOptions options = with(scratch, "Hoarder");
  options.prepare = [](const fs::path& saved) { write_hoarder_db(saved, ""); };
  World world(std::move(options));
  std::size_t from = world.victim.log().size();
  world.slash("/hoard " + probe);
  world.run(1);
  Breaches breaches = world.verify(expect);
  if (!logged_error(world.victim, from, expected))
    breaches.push_back(missing_error(world.victim, from, expected));
  check_hoarder_kept(world, breaches);
  return breaches;
}

// 21 tables, each holding the next one twice (a few KB of Lua memory): what logout writes must
// stay in proportion, not grow to 2^20 copies of the innermost table.
Breaches shared_table_bomb(const fs::path& scratch) {
  Breaches breaches = unsavable(scratch, kSanitized ? "shared tables 18" : "shared tables 20", "");
  auto file = scratch / "saved" / "Victim" / "SavedVariables" / "Hoarder.lua";
  std::error_code ec;
  if (auto size = fs::file_size(file, ec); !ec && size > (4u << 20)) {
    breaches.push_back("logout wrote " + std::to_string(size >> 20) +
                       " MB of SavedVariables for a few KB of tables");
  }
  return breaches;
}

Breaches huge_saved_variables(const fs::path& scratch) {
  const std::size_t megabytes = huge_megabytes();
  // The default time limit: collecting a heap this size takes its time inside any handler.
  WorldOptions options = with(scratch, "Hoarder", 256u << 20, kDefaultTimeLimit);
  options.prepare = [megabytes](const fs::path& saved) { write_huge_hoarder_db(saved, megabytes); };
  World world(std::move(options));
  Client::Evaluation rows = world.victim.evaluate("return #HoarderDB.rows");
  Breaches breaches;
  double count = rows.ok && !rows.values.empty() ? rows.values[0].as_number() : 0;
  if (count < 1) breaches.push_back("the huge HoarderDB was not loaded: " + rows.error);
  for (std::string& b : world.verify({.memory_mb = 24.0 * static_cast<double>(megabytes)}))
    breaches.push_back(std::move(b));
  check_hoarder_kept(world, breaches, count);
  return breaches;
}

// A file that needs more than twice its size in Lua memory, for a client allowed 4 MB.
Breaches saved_variables_over_memory_limit(const fs::path& scratch) {
  const std::size_t megabytes = kSanitized ? 2 : 4;
  WorldOptions options = with(scratch, "Hoarder", 4u << 20, kDefaultTimeLimit);
  options.prepare = [megabytes](const fs::path& saved) { write_huge_hoarder_db(saved, megabytes); };
  World world(std::move(options));
  Breaches breaches = world.verify({.memory_mb = 24.0 * static_cast<double>(megabytes)});
  if (!logged_error(world.victim, 0, "memory limit"))
    breaches.push_back("the victim logged no memory limit error");
  check_hoarder_kept(world, breaches);
  return breaches;
}

Breaches deeply_nested_saved_variables(const fs::path& scratch) {
  constexpr std::size_t kDepth = 100000;
  WorldOptions options = with(scratch, "Hoarder");
  options.prepare = [](const fs::path& saved) {
    write_hoarder_db(
        saved, "\t[\"deep\"] = " + std::string(kDepth, '{') + std::string(kDepth, '}') + ",\n");
  };
  World world(std::move(options));
  Breaches breaches = world.verify({});
  if (!logged_error(world.victim, 0, "SavedVariables not loaded"))
    breaches.push_back("the nested file was not refused");
  // The refused file is kept aside, whole.
  bool kept = false;
  auto dir = world.saved_variables(world.victim, "Hoarder").parent_path();
  for (const auto& entry : fs::directory_iterator(dir)) {
    kept = kept || (entry.path().filename().string().rfind("Hoarder.lua.unreadable-", 0) == 0 &&
                    read_file(entry.path()).find("\"keep\"") != std::string::npos);
  }
  if (!kept) breaches.push_back("the refused SavedVariables file was not kept aside");
  return breaches;
}

// ---------------------------------------------------------------------------------------------
// Malicious .toc files: the addon must not load, and nothing outside its folder may run.

Breaches malicious_toc(const fs::path& scratch, const std::string& addon, const std::string& reason,
                       const fs::path& addons_dir = kHostileAddons) {
  WorldOptions options = with(scratch, addon);
  options.addons_dir = addons_dir;
  World world(std::move(options));
  Breaches breaches;
  auto& addons = world.catalog().addons;
  if (std::none_of(addons.begin(), addons.end(),
                   [&](const AddonInfo& a) { return a.name == addon; })) {
    breaches.push_back(addon + " is not in the AddOns folder");
  }
  for (const AddonInfo& info : addons) {
    if (info.name != addon) continue;
    if (info.loadable)
      breaches.push_back(addon + " was loadable");
    else if (info.reason.find(reason) == std::string::npos)
      breaches.push_back("unexpected reason: " + info.reason);
  }
  const auto& loaded = world.victim.loaded_addons();
  if (std::find(loaded.begin(), loaded.end(), addon) != loaded.end())
    breaches.push_back(addon + " was loaded");
  for (const char* global :
       {"OutsideRan", "TocTraversalRan", "TocAbsoluteRan", "TocMissingRan", "XmlTraversalRan"}) {
    Client::Evaluation e =
        world.victim.evaluate(std::string("return rawget(_G, '") + global + "')");
    if (!e.ok || (!e.values.empty() && e.values[0].type() != savedvars::Value::Type::Nil)) {
      breaches.push_back(std::string(global) + " is set: code from a refused toc ran");
    }
  }
  for (std::string& b : world.verify({})) breaches.push_back(std::move(b));
  return breaches;
}

// An AddOns folder with Anchor and "Linker", whose toc lists Secret.lua: a symbolic link to a
// file outside the addon folder.
Breaches symlinked_toc_file(const fs::path& scratch) {
  fs::path addons = scratch / "AddOns";
  fs::create_directories(addons / "Linker");
  fs::create_directory_symlink(kHostileAddons / "Anchor", addons / "Anchor");
  std::ofstream(addons / "Linker" / "Linker.toc") << "## Interface: 11507\nSecret.lua\n";
  fs::create_symlink(kHostileAddons / "outside.lua", addons / "Linker" / "Secret.lua");
  return malicious_toc(scratch, "Linker", "leaves the addon folder", addons);
}

// ---------------------------------------------------------------------------------------------

Case quick(std::string name, std::function<Breaches(const fs::path&)> run) {
  return {"addon", std::move(name), kQuick, std::move(run)};
}

}  // namespace

std::vector<Case> addon_cases() {
  std::vector<Case> cases;
  std::vector<std::string> probes = escapist_probes();
  if (probes.empty()) {
    cases.push_back(quick("Escapist", [](const fs::path&) {
      return Breaches{"Escapist lists no probes: does Escapist.lua still load?"};
    }));
  }
  for (const std::string& probe : probes) {
    cases.push_back(
        quick("Escapist: " + probe, [probe](const fs::path& s) { return escape(s, probe); }));
  }

  // Runaway code: killed after the victim's time limit, once; its handler is not run again.
  for (const char* probe :
       {"OnUpdate", "OnEvent", "timer", "ticker", "slash command", "OnShow", "mutator",
        "mutator retried", "authorize at send", "coroutine", "coroutine catch loop",
        "pcall catch loop", "loadstring", "sort comparator", "pattern backtracking"}) {
    std::string p = probe;
    cases.push_back(quick("Spinner: " + p, [p](const fs::path& s) {
      return run_probe(with(s, "Spinner"), "/spin " + p, 3, "script ran too long", {});
    }));
  }
  // Recursion: a clean error in the victim, however the recursion is built (any error where
  // LuaJIT has no message of its own for it). With the default time limit, so that the depth,
  // not the clock, ends it.
  const std::pair<const char*, const char*> recursions[] = {
      {"recursion", "stack overflow"},
      {"recursion through __index", "stack overflow"},
      {"recursion through table.sort", "stack overflow"},
      {"recursion through __tostring", "stack overflow"},
      {"recursion through string.gsub", ""},
      {"coroutine nesting", ""},
      {"source nesting", "too many syntax levels"},
  };
  for (const auto& [probe, error] : recursions) {
    std::string p = probe, e = error;
    cases.push_back(quick("Spinner: " + p, [p, e](const fs::path& s) {
      return run_probe(with(s, "Spinner", 256u << 20, kDefaultTimeLimit), "/spin " + p, 1, e, {});
    }));
  }

  // Memory bombs: refused at the victim's limit, and the host's own memory stays bounded.
  for (const char* probe : {"table growth", "string growth", "string.rep"}) {
    std::string p = probe;
    cases.push_back(quick("Hoarder: " + p, [p](const fs::path& s) {
      return run_probe(with(s, "Hoarder", 64u << 20, kDefaultTimeLimit), "/hoard " + p, 1,
                       "memory limit", {});
    }));
  }
  cases.push_back(quick("Hoarder: retained growth", [](const fs::path& s) {
    return run_probe(with(s, "Hoarder", 64u << 20, kDefaultTimeLimit), "/hoard retained growth", 3,
                     "memory limit", {.victim_keeps_working = false});
  }));
  cases.push_back(quick("Hoarder: loadstring amplification", [](const fs::path& s) {
    return run_probe(with(s, "Hoarder"), "/hoard loadstring amplification 3500000", 1, "", {});
  }));
  cases.push_back(quick("Hoarder: print flood", [](const fs::path& s) {
    return run_probe(with(s, "Hoarder"), "/hoard print flood 8", 3, "", {});
  }));

  // SavedVariables that cannot be saved: reported, and the value saved before is kept.
  cases.push_back(quick("Hoarder: SavedVariables cycle", [](const fs::path& s) {
    return unsavable(s, "cycle", "contains itself");
  }));
  cases.push_back(
      quick("Hoarder: SavedVariables functions, threads, NaN, table keys",
            [](const fs::path& s) { return unsavable(s, "unsavable values", "cannot save"); }));
  cases.push_back(
      quick("Hoarder: SavedVariables string over the file limit", [](const fs::path& s) {
        return unsavable(s, "string over the file limit", "SavedVariables not written");
      }));
  cases.push_back(
      quick("Hoarder: SavedVariables nested deeper than the limit",
            [](const fs::path& s) { return unsavable(s, "deep nesting 300", "nested deeper"); }));
  cases.push_back({"addon", "Hoarder: SavedVariables shared-table bomb", kSlow, shared_table_bomb});
  cases.push_back(
      {"addon", "Hoarder: huge SavedVariables file at login", kSlow, huge_saved_variables});
  cases.push_back({"addon", "Hoarder: SavedVariables file larger than the memory limit", kSlow,
                   saved_variables_over_memory_limit});
  cases.push_back(
      quick("Hoarder: SavedVariables file nested 100000 deep", deeply_nested_saved_variables));

  // Error handlers that fail: logged, never fatal, and never a stall on every frame.
  for (const char* probe :
       {"error in error handler", "error handler that spins", "error handler that rethrows",
        "error handler that replaces itself", "error object whose __tostring errors",
        "error object whose __tostring spins", "error objects of every type"}) {
    std::string p = probe;
    cases.push_back(quick("Grumbler: " + p, [p](const fs::path& s) {
      return run_probe(with(s, "Grumbler"), "/grumble " + p, 3, "", {});
    }));
  }
  cases.push_back(quick("Grumbler: error flood", [](const fs::path& s) {
    return run_probe(with(s, "Grumbler"), "/grumble error flood 8", 3, "", {});
  }));

  cases.push_back(quick("toc: ..\\ path traversal", [](const fs::path& s) {
    return malicious_toc(s, "TocTraversal", "leaves the addon folder");
  }));
  cases.push_back(quick("toc: absolute paths", [](const fs::path& s) {
    return malicious_toc(s, "TocAbsolute", "leaves the addon folder");
  }));
  cases.push_back(quick("toc: missing file", [](const fs::path& s) {
    return malicious_toc(s, "TocMissing", "file not found");
  }));
  cases.push_back(quick("toc: XML script and include outside the folder", [](const fs::path& s) {
    return malicious_toc(s, "XmlTraversal", "leaves the addon folder");
  }));
  cases.push_back(quick("toc: file that is a symbolic link out of the folder", symlinked_toc_file));
  return cases;
}

}  // namespace hostile
