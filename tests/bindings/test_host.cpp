// The host: real addon folders loaded into real LuaJIT states, events, timers, slash commands,
// SavedVariables across runs, and the game API addons see.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <lua.hpp>

#include "bindings/host.hpp"
#include "runtime/atomic_file.hpp"
#include "runtime/saved_variables.hpp"
#include "../runtime/temp_dir.hpp"
#include "client_fixture.hpp"

using namespace tally;

namespace {

const std::filesystem::path kAddons = std::filesystem::path(TALLY_TEST_DATA_DIR) / "addons_host";

}  // namespace

TEST_CASE("an addon folder loads, runs and persists across two runs") {
  TempDir saved;
  AddonCatalog catalog = scan_addons(kAddons);
  for (int run = 1; run <= 2; ++run) {
    Host host;
    Client& c = host.add_client({.name = "Dagna", .saved_variables_dir = saved.path()});
    host.load_addons(catalog);
    host.start();
    CHECK(c.loaded_addons() == std::vector<std::string>{"HostProbe"});
    // Files ran before SavedVariables and ADDON_LOADED; the second file shares the addon table.
    CHECK(logged(c, "loaded; runs=" + std::to_string(run) + " file2=true"));
    CHECK(logged(c, "entering world true false"));
    CHECK(c.run_slash_command("/probe hello world"));
    CHECK(c.run_slash_command("/HP again"));
    CHECK_FALSE(c.run_slash_command("/nosuchcommand"));
    CHECK(logged(c, "Unknown command: /nosuchcommand"));
    for (int f = 0; f < 300; ++f) host.tick(1.0 / 60);  // five seconds: the ticker ran 3 times
    CHECK(c.run_slash_command("/probe late"));
    CHECK(logged(c, "slash:late ticks=3"));
    host.shutdown();
    CHECK(texts(c, true).empty());
  }
  auto account = savedvars::parse(read_file(saved.path() / "Dagna/SavedVariables/HostProbe.lua"), "account");
  REQUIRE(account.size() == 1);
  CHECK(account[0].first == "HostProbeDB");
  CHECK(account[0].second.find("runs")->as_number() == 2);
  CHECK(account[0].second.find("events")->as_string() ==
        "ADDON_LOADED,PLAYER_LOGIN,PLAYER_ENTERING_WORLD,PLAYER_LOGOUT");
  auto character = savedvars::parse(read_file(saved.path() / "Dagna/Tally/Dagna/SavedVariables/HostProbe.lua"), "char");
  REQUIRE(character.size() == 1);
  const auto* seen = character[0].second.find("seen");
  REQUIRE(seen != nullptr);
  CHECK(seen->as_table().size() == 6);  // three slash commands per run, two runs
}

TEST_CASE("clients are isolated Lua states") {
  Host host;
  Client& a = host.add_client({.name = "A"});
  Client& b = host.add_client({.name = "B"});
  host.start();
  a.run_script("Shared = 'a'");
  b.run_script("print(tostring(Shared))");
  CHECK(texts(b).back() == "nil");
  CHECK_THROWS_AS(host.add_client({.name = "A"}), std::invalid_argument);
}

TEST_CASE("forbidden globals and library members are absent") {
  Bare bare;
  for (const char* name : {"io", "os", "debug", "package", "require", "ffi", "jit", "dofile", "loadfile",
                           "load", "getfenv", "setfenv", "newproxy", "module", "gcinfo_nope"}) {
    CHECK_MESSAGE(bare.one(std::string("print(type(") + name + "))") == "nil", name);
  }
  CHECK(bare.one("print(type(string.dump))") == "nil");
  CHECK(bare.one("print(type(('').dump))") == "nil");
  CHECK(bare.one("print(type(math.floor), type(bit.band), type(strsplit), type(CreateFrame))") ==
        "function function function function");
  CHECK(bare.one("print(undeclared_global == nil)") == "true");
}

TEST_CASE("precompiled bytecode cannot be loaded") {
  Bare bare;
  CHECK(bare.one("print(loadstring('\\27LJ\\2\\0'))") == "nil loadstring: precompiled bytecode is not allowed");
  CHECK(bare.one("print(loadstring('return 1 + 1')())") == "2");
  CHECK(bare.one("print(pcall(collectgarbage, 'stop'))").find("option 'stop' is not allowed") != std::string::npos);
  CHECK(bare.one("print(type(collectgarbage('count')))") == "number");
}

TEST_CASE("a memory bomb fails only its own client") {
  Host host;
  Client& bomber = host.add_client({.name = "Bomber", .memory_limit = 16u << 20});
  Client& bystander = host.add_client({.name = "Bystander"});
  host.start();
  bomber.run_script("local t = {} for i = 1, 1e8 do t[i] = string.rep('x', 100) .. i end");
  CHECK(logged(bomber, "not enough memory", true));
  bomber.run_script("collectgarbage() print('still alive')");
  CHECK(texts(bomber).back() == "still alive");
  bystander.run_script("print('fine')");
  CHECK(texts(bystander).back() == "fine");
  CHECK(texts(bystander, true).empty());
}

TEST_CASE("errors reach the error handler; an error inside it is logged, not fatal") {
  Bare bare;
  bare.run("seterrorhandler(function(msg) print('handled: ' .. msg:match('^[^\\n]*')) end)");
  CHECK(bare.one("error('oops')").find("handled: ") == 0);
  bare.run("seterrorhandler(function() error('handler broke') end)");
  bare.run("error('first')");
  CHECK(logged(bare.client, "error in error handler", true));
  CHECK(logged(bare.client, "handler broke", true));
  CHECK(bare.one("print(type(geterrorhandler()))") == "function");
  CHECK(bare.one("print(pcall(seterrorhandler, 5))").find("Usage: seterrorhandler") != std::string::npos);
}

TEST_CASE("an error handler that runs too long is replaced by the default one") {
  Bare bare({.name = "Tester", .memory_limit = 64u << 20, .script_time_limit = 0.05});
  bare.run("seterrorhandler(function() while true do end end)");
  bare.run("error('first')");
  CHECK(logged(bare.client, "which is replaced by the default one", true));
  CHECK(logged(bare.client, "first", true));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) bare.run("error('again')");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(40));
  CHECK(logged(bare.client, "again", true));
  auto errors = texts(bare.client, true);
  CHECK(std::count_if(errors.begin(), errors.end(), [](const std::string& e) {
          return e.find("script ran too long") != std::string::npos;
        }) == 1);
}

TEST_CASE("error objects are shown without running their __tostring") {
  Bare bare({.name = "Tester", .memory_limit = 64u << 20, .script_time_limit = 0.05});
  bare.run("called = false error(setmetatable({}, { __tostring = function() called = true while true do end end }), 0)");
  CHECK(bare.one("print(called)") == "false");
  CHECK(logged(bare.client, "table: 0x", true));
  CHECK_FALSE(logged(bare.client, "script ran too long", true));
}

TEST_CASE("frames receive events in registration order and run OnUpdate every frame") {
  Bare bare;
  bare.run(R"(
    order = {}
    local a, b = CreateFrame("Frame"), CreateFrame("Frame", "NamedFrame")
    b:RegisterEvent("PING") a:RegisterEvent("PING")
    a:SetScript("OnEvent", function(self, event, x) order[#order + 1] = "a" .. x end)
    b:SetScript("OnEvent", function(self, event, x) order[#order + 1] = "b" .. x end)
    b:HookScript("OnEvent", function() order[#order + 1] = "hook" end)
    updates = 0
    a:SetScript("OnUpdate", function(self, elapsed) updates = updates + 1 end)
  )");
  bare.client.fire_event("PING", {1.0});
  CHECK(bare.one("print(table.concat(order, ','))") == "b1,hook,a1");
  bare.host.tick(0.5);
  bare.host.tick(0.5);
  CHECK(bare.one("print(updates, GetTime())") == "2 1");
  bare.run("NamedFrame:UnregisterEvent('PING') order = {}");
  bare.client.fire_event("PING", {2.0});
  CHECK(bare.one("print(table.concat(order, ','), NamedFrame:IsEventRegistered('PING'))") == "a2 false");
  CHECK(bare.one("print(pcall(CreateFrame, 'Button'))").find("not supported by Tally") != std::string::npos);
  bare.run("local f = CreateFrame('Frame') f:SetScript('OnShow', function() print('shown') end) f:Hide() f:Show()");
  CHECK(logged(bare.client, "shown"));
}

TEST_CASE("timers and tickers follow the game's rules") {
  Bare bare;
  bare.run(R"(
    fired = {}
    C_Timer.After(1, function() fired[#fired + 1] = "after" end)
    t3 = C_Timer.NewTicker(0.5, function(self) fired[#fired + 1] = "tick" end, 3)
    forever = C_Timer.NewTicker(1, function(self) fired[#fired + 1] = "forever" end)
    bad = C_Timer.NewTicker(0.5, function() error("ticker failed") end)
    cancelled = C_Timer.NewTimer(0.5, function() fired[#fired + 1] = "never" end)
    cancelled:Cancel()
  )");
  for (int i = 0; i < 40; ++i) bare.host.tick(0.1);  // 4 seconds
  std::string fired = bare.one("print(table.concat(fired, ','))");
  CHECK(std::count(fired.begin(), fired.end(), 'k') == 3);  // "tick" x3
  CHECK(fired.find("after") != std::string::npos);
  CHECK(fired.find("never") == std::string::npos);
  CHECK(bare.one("print(t3:IsCancelled(), forever:IsCancelled(), bad:IsCancelled(), cancelled:IsCancelled())") ==
        "true false true true");
  CHECK(std::count_if(bare.client.log().begin(), bare.client.log().end(), [](const LogLine& l) {
          return l.error && l.text.find("ticker failed") != std::string::npos;
        }) == 1);  // the erroring ticker ran once, then stopped
  bare.run("forever:Cancel()");
  CHECK(bare.one("print(pcall(C_Timer.After, 'x', print))").find("Usage: C_Timer.After") != std::string::npos);
}

TEST_CASE("player, realm, build and time functions") {
  Host host({.start_server_time = 1764000000, .interface_version = 11507});
  Client& c = host.add_client({.name = "Dagna", .realm = "Mirage", .realm_id = 4, .player_id = 0xABCDEF12});
  Client& other = host.add_client({.name = "Eowald"});
  host.start();
  host.tick(2.5);
  c.run_script("print(UnitName('player'), UnitGUID('player'), GetRealmName(), select(4, GetBuildInfo()))");
  CHECK(texts(c).back() == "Dagna Player-4-ABCDEF12 Mirage 11507");
  c.run_script("print(GetServerTime(), time(), GetTime(), date('!%Y-%m-%d %H:%M:%S', 0))");
  CHECK(texts(c).back() == "1764000002 1764000002 2.5 1970-01-01 00:00:00");
  other.run_script("print(GetServerTime())");
  CHECK(texts(other).back() == "1764000002");
  c.run_script("local t = date('*t', 86400) print(t.year, t.month, t.day, time({year=1970, month=1, day=2, hour=0}))");
  CHECK(texts(c).back() == "1970 1 2 86400");
  c.run_script("print(strsplit(',', 'a,b,,c'))");
  CHECK(texts(c).back() == "a b  c");
  c.run_script("print(strjoin('-', 'x', 'y'), strtrim('  pad  '), tContains({1, 2}, 2), #wipe({1, 2, 3}))");
  CHECK(texts(c).back() == "x-y pad true 0");
}

TEST_CASE("SavedVariables that cannot be saved are reported and keep their old value") {
  TempDir saved;
  auto file = saved.path() / "Dagna/SavedVariables/HostProbe.lua";
  std::filesystem::create_directories(file.parent_path());
  write_file_atomically(file, "HostProbeDB = {\n\t[\"runs\"] = 41,\n}\n");
  AddonCatalog catalog = scan_addons(kAddons);
  Host host;
  Client& c = host.add_client({.name = "Dagna", .saved_variables_dir = saved.path()});
  host.load_addons(catalog);
  host.start();
  c.run_script("HostProbeDB.callback = function() end");
  c.run_script("HostProbeCharDB.loop = HostProbeCharDB");
  host.shutdown();
  CHECK(logged(c, "HostProbeDB.callback: cannot save a function", true));
  CHECK(logged(c, "HostProbeCharDB.loop: cannot save a table that contains itself", true));
  auto account = savedvars::parse(read_file(file), "account");
  REQUIRE(account.size() == 1);
  CHECK(account[0].second.find("runs")->as_number() == 41);  // the value loaded at login
}

TEST_CASE("addon messages between three clients: fan-out, result codes, throttling") {
  Host host;
  Client& a = host.add_client({.name = "Aelric", .guild = "G", .raid = 1});
  Client& b = host.add_client({.name = "Brannoc", .guild = "G", .raid = 1});
  Client& c = host.add_client({.name = "Cyrielle", .guild = "Other"});
  host.start();
  const char* listener = R"(
    got = {}
    local f = CreateFrame("Frame")
    f:RegisterEvent("CHAT_MSG_ADDON")
    f:SetScript("OnEvent", function(self, event, prefix, text, channel, sender, target)
      got[#got + 1] = prefix .. "|" .. text .. "|" .. channel .. "|" .. sender .. "|" .. (target or "")
    end)
    print(C_ChatInfo.RegisterAddonMessagePrefix("TALLY"), C_ChatInfo.IsAddonMessagePrefixRegistered("TALLY"))
  )";
  for (Client* client : {&a, &b, &c}) {
    client->run_script(listener);
    CHECK(texts(*client).back() == "0 true");
  }
  a.run_script(R"(
    local R = Enum.SendAddonMessageResult
    print(C_ChatInfo.SendAddonMessage("TALLY", "hello guild", "GUILD") == R.Success,
          C_ChatInfo.SendAddonMessage("TALLY", "to raid", "RAID") == R.Success,
          C_ChatInfo.SendAddonMessage("TALLY", "psst", "WHISPER", "cyrielle-tally") == R.Success,
          C_ChatInfo.SendAddonMessage("TALLY", "x", "WHISPER") == R.TargetRequired,
          C_ChatInfo.SendAddonMessage("TALLY", string.rep("x", 256), "GUILD") == R.InvalidMessage,
          C_ChatInfo.SendAddonMessage("TALLY", "a\0b", "GUILD") == R.InvalidMessage,
          C_ChatInfo.SendAddonMessage("WAYTOOLONGPREFIX!", "x", "GUILD") == R.InvalidPrefix,
          C_ChatInfo.SendAddonMessage("TALLY", "x", "SHOUT") == R.InvalidChatType)
  )");
  CHECK(texts(a).back() == "true true true true true true true true");
  c.run_script("print(C_ChatInfo.SendAddonMessage('TALLY', 'x', 'PARTY') == Enum.SendAddonMessageResult.NotInGroup)");
  CHECK(texts(c).back() == "true");
  host.tick(0.1);  // past the network latency
  b.run_script("print(table.concat(got, ';'))");
  CHECK(texts(b).back() == "TALLY|hello guild|GUILD|Aelric-Tally|;TALLY|to raid|RAID|Aelric-Tally|");
  c.run_script("print(table.concat(got, ';'))");
  CHECK(texts(c).back() == "TALLY|psst|WHISPER|Aelric-Tally|Cyrielle-Tally");
  a.run_script("print(#got)");
  CHECK(texts(a).back() == "0");  // no echo to the sender

  // The per-prefix allowance: 10 messages, then throttled until a second has passed.
  b.run_script(R"(
    local codes = {}
    for i = 1, 11 do codes[i] = C_ChatInfo.SendAddonMessage("BURST", "m" .. i, "GUILD") end
    print(codes[10], codes[11])
  )");
  CHECK(texts(b).back() == "0 3");
  host.tick(1.0);
  b.run_script("print(C_ChatInfo.SendAddonMessage('BURST', 'again', 'GUILD'))");
  CHECK(texts(b).back() == "0");
  // The byte allowance: 4000-byte burst at 40 bytes of overhead per message.
  b.run_script(R"(
    local sent, code = 0, 0
    for i = 1, 100 do
      code = C_ChatInfo.SendAddonMessage("P" .. i, string.rep("y", 250), "GUILD")
      if code ~= 0 then break end
      sent = sent + 1
    end
    print(sent, code)
  )");
  CHECK(texts(b).back() == "13 8");
  CHECK(host.network().stats(b.id()).refused_for(SendAddonMessageResult::ChannelThrottle) == 1);
}

TEST_CASE("logging out and in again starts a new session with the saved state") {
  TempDir saved;
  AddonCatalog catalog = scan_addons(kAddons);
  Host host;
  Client& c = host.add_client({.name = "Dagna", .saved_variables_dir = saved.path()});
  Client& other = host.add_client({.name = "Eowald"});
  host.load_addons(catalog);
  host.start();
  c.run_script("Scratch = 'only in this session'");
  c.logout();
  CHECK_FALSE(c.logged_in());
  other.run_script("print(C_ChatInfo.SendAddonMessage('X', 'hi', 'WHISPER', 'Dagna-Tally'))");
  CHECK(texts(other).back() == "12");  // TargetOffline while logged out
  host.tick(1);
  c.login();
  CHECK(c.logged_in());
  CHECK(logged(c, "loaded; runs=2 file2=true"));
  CHECK(c.evaluate("return Scratch").values.at(0).is_nil());
  CHECK(texts(c, true).empty());
}

TEST_CASE("runaway scripts are stopped, even JIT-compiled, and only their client is hurt") {
  Host host;
  Client& bad = host.add_client({.name = "Bad", .script_time_limit = 0.05});
  Client& good = host.add_client({.name = "Good", .script_time_limit = 0.05});
  host.start();
  good.run_script("counter = 0 local f = CreateFrame('Frame') f:SetScript('OnUpdate', function() counter = counter + 1 end)");
  // The JIT compiler is on in client states (jit.status() read through the registry, since
  // addons cannot see `jit`).
  lua_State* L = bad.lua();
  lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
  lua_getfield(L, -1, "jit");
  lua_getfield(L, -1, "status");
  REQUIRE(lua_pcall(L, 0, 1, 0) == 0);
  CHECK(lua_toboolean(L, -1) == 1);
  lua_pop(L, 3);
  // A hot loop first, so the JIT is compiling loops by the time the runaway one starts.
  bad.run_script("local s = 0 for i = 1, 1e6 do s = s + i end");
  bad.run_script(R"(
    local f = CreateFrame("Frame")
    f:SetScript("OnUpdate", function() while true do end end)
    local g = CreateFrame("Frame")
    g:SetScript("OnUpdate", function() healthy = (healthy or 0) + 1 end)
  )");
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) host.tick(1.0 / 60);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(seconds < 1.0);  // one kill (~0.05 s), then the disabled handler costs nothing
  CHECK(logged(bad, "script ran too long (this handler is disabled)", true));
  CHECK(bad.evaluate("return healthy").values.at(0).as_number() >= 9);  // other frames still run
  CHECK(good.evaluate("return counter").values.at(0).as_number() == 10);
  CHECK(texts(good, true).empty());

  // Every shape of endless code, each with an addon pcall trying to swallow the kill.
  const char* runaways[] = {
      "while true do end",
      "repeat until false",
      "for i = 1, math.huge do end",
      "local function f() return f() end f()",
      "::top:: goto top",
      "loadstring('while true do end')()",
      "table.sort({3, 2, 1, 4, 5}, function(a, b) while true do end end)",
      "local t = setmetatable({}, {__index = function(t, k) while true do end end}) local _ = t.x",
  };
  for (const char* code : runaways) {
    std::size_t errors_before = texts(bad, true).size();
    auto t0 = std::chrono::steady_clock::now();
    bad.run_script(std::string("for i = 1, 3 do pcall(function() ") + code + " end) end");
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK_MESSAGE(took < 0.5, std::string(code));
    auto errors = texts(bad, true);
    REQUIRE_MESSAGE(errors.size() > errors_before, std::string(code));
    bool killed = std::any_of(errors.begin() + static_cast<long>(errors_before), errors.end(),
                              [](const std::string& e) { return e.find("script ran too long") != std::string::npos; });
    CHECK_MESSAGE(killed, std::string(code));
  }
  // The client still works after all of that.
  bad.run_script("print('alive')");
  CHECK(texts(bad).back() == "alive");
}
