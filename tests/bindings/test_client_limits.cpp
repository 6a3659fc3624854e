// What a hostile addon can make its client hold, and what it cannot take from the saved data:
// the log's bounds, the memory cap's headroom, source size, SavedVariables that would explode
// or do not fit.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "bindings/client_log.hpp"
#include "bindings/host.hpp"
#include "runtime/atomic_file.hpp"
#include "runtime/saved_variables.hpp"
#include "../runtime/temp_dir.hpp"
#include "client_fixture.hpp"

using namespace tally;

TEST_CASE("the log cuts long lines and keeps the newest lines within its bounds") {
  ClientLog log;
  const LogLine& cut = log.append(1.0, true, std::string(ClientLog::kMaxLineBytes + 1000, 'x'));
  CHECK(cut.text.size() < ClientLog::kMaxLineBytes + 100);
  CHECK(cut.text.ends_with("[... line cut: 1000 more bytes]"));
  // A UTF-8 sequence across the cut is not split.
  std::string accented = std::string(ClientLog::kMaxLineBytes - 1, 'a') + "\xC3\xA9" + "tail";
  CHECK(log.append(2.0, false, accented).text.starts_with(std::string(ClientLog::kMaxLineBytes - 1, 'a') + " [..."));

  for (std::size_t i = 0; i < ClientLog::kMaxLines + 10; ++i) log.append(3.0, false, std::to_string(i));
  CHECK(log.size() == ClientLog::kMaxLines);
  CHECK(log.dropped() == 12);
  CHECK(log[0].text == "10");
  CHECK(log[log.size() - 1].text == std::to_string(ClientLog::kMaxLines + 9));
  CHECK(log.errors() == 1);  // counted though dropped

  // The byte budget: lines of the longest kept length.
  ClientLog big;
  for (int i = 0; i < 20; ++i) big.append(0, false, std::string(ClientLog::kMaxLineBytes, 'y'));
  CHECK(big.size() * ClientLog::kMaxLineBytes <= ClientLog::kMaxBytes);
  CHECK(big.size() + big.dropped() == 20);
  CHECK(big.dropped() > 0);
}

TEST_CASE("a print or error flood costs the host a bounded log") {
  Bare bare;
  bare.run("for i = 1, 40 do print(string.rep('p', 2 ^ 21)) end");
  bare.run("for i = 1, 40 do pcall(error, 'never reported') end error(string.rep('e', 2 ^ 21))");
  std::size_t bytes = 0;
  for (const LogLine& line : bare.client.log()) {
    CHECK(line.text.size() < ClientLog::kMaxLineBytes + 100);
    bytes += line.text.size();
  }
  CHECK(bytes <= ClientLog::kMaxBytes);
  CHECK(bare.client.log()[bare.client.log().size() - 1].error);
  CHECK(logged(bare.client, "more bytes]", true));
}

namespace {

const std::filesystem::path kAddons = std::filesystem::path(TALLY_TEST_DATA_DIR) / "addons_host";

}  // namespace

TEST_CASE("shared tables are saved once per place until their copies grow too large") {
  TempDir saved;
  auto file = saved.path() / "Dagna/SavedVariables/HostProbe.lua";
  std::filesystem::create_directories(file.parent_path());
  write_file_atomically(file, "HostProbeDB = {\n\t[\"runs\"] = 41,\n}\n");
  Host host;
  Client& c = host.add_client({.name = "Dagna", .saved_variables_dir = saved.path()});
  host.load_addons(scan_addons(kAddons));
  host.start();
  // A profile reached from two places is written twice, as the game does.
  c.run_script("local p = {name = 'Default'} HostProbeCharDB.profiles = {p} HostProbeCharDB.current = p");
  // 21 tables each holding the next twice: 2^20 copies of the innermost, refused.
  c.run_script("local t = {'leaf'} for _ = 1, 20 do t = {t, t} end HostProbeDB.shared = t");
  host.shutdown();
  CHECK(logged(c, "HostProbeDB.shared[1][1]", true));
  CHECK(logged(c, "copied over 100000 values", true));
  CHECK(logged(c, "HostProbeDB keeps its previously saved value", true));
  auto account = savedvars::parse(read_file(file), "account");
  REQUIRE(account.size() == 1);
  CHECK(account[0].second.find("runs")->as_number() == 41);
  CHECK(account[0].second.find("shared") == nullptr);
  auto character = savedvars::parse(read_file(saved.path() / "Dagna/Tally/Dagna/SavedVariables/HostProbe.lua"), "char");
  REQUIRE(character.size() == 1);
  CHECK(character[0].second.find("current")->find("name")->as_string() == "Default");
  CHECK(character[0].second.find("profiles")->find(1)->find("name")->as_string() == "Default");
}

TEST_CASE("a SavedVariables value too large for the client's memory stays in its file") {
  TempDir saved;
  auto file = saved.path() / "Dagna/SavedVariables/HostProbe.lua";
  std::filesystem::create_directories(file.parent_path());
  std::string rows;
  for (int i = 0; rows.size() < (6u << 20); ++i) rows += "\t\t\"row " + std::to_string(i) + " " + std::string(40, 'n') + "\",\n";
  const std::string before = "HostProbeDB = {\n\t[\"rows\"] = {\n" + rows + "\t},\n\t[\"runs\"] = 41,\n}\n";
  write_file_atomically(file, before);
  Host host;
  Client& c = host.add_client({.name = "Dagna", .memory_limit = 4u << 20, .saved_variables_dir = saved.path()});
  host.load_addons(scan_addons(kAddons));
  host.start();
  CHECK(logged(c, "memory limit", true));
  CHECK(logged(c, "HostProbeDB not loaded from", true));
  CHECK(logged(c, "loaded; runs=1"));  // the addon started without it
  host.shutdown();
  CHECK(read_file(file) == savedvars::write_file_contents(savedvars::parse(before, "before")));
  // The other file of the addon is written as usual.
  CHECK(std::filesystem::exists(saved.path() / "Dagna/Tally/Dagna/SavedVariables/HostProbe.lua"));
}

TEST_CASE("sources over the size limit are refused before instrumenting") {
  Bare bare;
  std::string out = bare.one("local f, e = loadstring(string.rep('do end ', 700000)) print(f, e)");
  CHECK(out == "nil [string \"" + std::string("do end do end do end do end do end do en") +
                   "...\"]: source of 4785 KiB is over the limit of 4096 KiB");
  CHECK(bare.one("print(type(loadstring(string.rep('do end ', 100000))))") == "function");
}

TEST_CASE("addons that keep filling their memory are stopped, JIT-compiled or not; the host goes on") {
  Host host;
  Client& hoarder = host.add_client({.name = "Hoarder", .memory_limit = 32u << 20});
  Client& bystander = host.add_client({.name = "Bystander"});
  host.start();
  // The loop gets compiled on the first frame; every frame keeps 100,000 more tables.
  hoarder.run_script(R"(
    Keep = {}
    CreateFrame("Frame"):SetScript("OnUpdate", function() for i = 1, 1e5 do Keep[#Keep + 1] = { i } end end)
    CreateFrame("Frame"):SetScript("OnUpdate", function() frames = (frames or 0) + 1 end)
  )");
  bystander.run_script("CreateFrame('Frame'):SetScript('OnUpdate', function() frames = (frames or 0) + 1 end)");
  for (int i = 0; i < 30; ++i) host.tick(1.0 / 60);
  CHECK(logged(hoarder, "memory limit of 32 MiB reached", true));
  CHECK(logged(hoarder, "out of memory: the addons keep", true));
  CHECK(logged(hoarder, "not enough memory: the addons reached the client's memory limit", true));
  CHECK(hoarder.memory_used() <= (32u << 20));
  CHECK(bystander.evaluate("return frames").values.at(0).as_number() == 30);
  CHECK(texts(bystander, true).empty());
  // The next session starts afresh.
  hoarder.logout();
  hoarder.login();
  hoarder.run_script("print('alive')");
  CHECK(texts(hoarder).back() == "alive");
}
