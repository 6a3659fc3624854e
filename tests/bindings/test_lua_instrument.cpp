// Budget-check instrumentation: the rewrite itself, and runaway code stopped in real LuaJIT states.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <lua.hpp>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "bindings/lua_instrument.hpp"

using namespace tally;
using namespace std::chrono_literals;
using namespace std::string_view_literals;

namespace {

using Clock = RunawayGuard::Clock;
const std::string kTick = " " + std::string(kLuaBudgetTick) + " ";

std::size_t count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string_view::npos;
       p = text.find(what, p + what.size())) {
    ++n;
  }
  return n;
}

// Instruments `source`, which must succeed, and checks that the result is the prefix, the source
// byte for byte with ticks (which hold no newline) in it, and the closing `end`.
std::string instrument(std::string_view source) {
  const InstrumentedLua r = instrument_lua_source(source);
  REQUIRE_MESSAGE(r.ok, r.error);
  std::string body = r.code;
  REQUIRE(body.starts_with(kLuaInstrumentPrefix));
  body.erase(0, kLuaInstrumentPrefix.size());
  for (auto p = body.find(kTick); p != std::string::npos; p = body.find(kTick, p)) {
    body.erase(p, kTick.size());
  }
  REQUIRE((body.ends_with(" end") || body.ends_with("\nend")));
  const bool own_line = body.ends_with("\nend");
  body.erase(body.size() - 4);
  CHECK(body == source);
  CHECK(count(r.code, "\n") == count(source, "\n") + (own_line ? 1 : 0));
  CHECK(count(r.code, "\r") == count(source, "\r"));
  CHECK(count(kLuaBudgetTick, "\n") + count(kLuaInstrumentPrefix, "\n") == 0);
  return r.code;
}

// The instrumented source with the prefix and suffix cut and each tick shown as '@'.
std::string shown(std::string_view source) {
  std::string code = instrument(source);
  code = code.substr(kLuaInstrumentPrefix.size(), code.size() - kLuaInstrumentPrefix.size() - 4);
  for (auto p = code.find(kTick); p != std::string::npos; p = code.find(kTick, p + 1)) {
    code.replace(p, kTick.size(), "@");
  }
  return code;
}

std::string refused(std::string_view source) {
  const InstrumentedLua r = instrument_lua_source(source);
  CHECK_FALSE(r.ok);
  CHECK(r.code.empty());
  return r.error;
}

}  // namespace

TEST_CASE("ticks go after do and repeat, at function bodies, and after labels") {
  CHECK(shown("while x do y() end") == "while x do@ y() end");
  CHECK(shown("for i = 1, 10 do end") == "for i = 1, 10 do@ end");
  CHECK(shown("for k, v in pairs(t) do f(k) end") == "for k, v in pairs(t) do@ f(k) end");
  CHECK(shown("repeat x = x + 1 until x > 3") == "repeat@ x = x + 1 until x > 3");
  CHECK(shown("do local a = 1 end") == "do@ local a = 1 end");
  CHECK(shown("while x do repeat y() until z end") == "while x do@ repeat@ y() until z end");
  // Every form of function header.
  CHECK(shown("local function f(a, b) return a end") == "local function f(a, b)@ return a end");
  CHECK(shown("function M.a.b:c(...) end") == "function M.a.b:c(...)@ end");
  CHECK(shown("function M.go(x, ...) end") == "function M.go(x, ...)@ end");
  CHECK(shown("f(function() end, function (a)end)") == "f(function()@ end, function (a)@end)");
  CHECK(shown("t = {f = function(self) return function() end end}") ==
        "t = {f = function(self)@ return function()@ end end}");
  CHECK(shown("local function goto() end") == "local function goto()@ end");
  // Labels: a tick after a label that starts statements; none after one that ends its block.
  CHECK(shown("::top:: x() goto top") == "::top::@ x() goto top");
  CHECK(shown("::a:: ::b:: x()") == "::a:: ::b::@ x()");
  CHECK(shown("for i = 1, 3 do if i then goto continue end local x = i ::continue:: end") ==
        "for i = 1, 3 do@ if i then goto continue end local x = i ::continue:: end");
  CHECK(shown("if a then ::x:: else ::y:: end ::z::") == "if a then ::x:: else ::y:: end ::z::");
  CHECK(shown("if a then ::x:: elseif b then ::y:: ::w:: end") ==
        "if a then ::x:: elseif b then ::y:: ::w:: end");
  CHECK(shown("repeat ::r:: until x") == "repeat@ ::r::@ until x");
  CHECK(shown("::goto:: x()") == "::goto::@ x()");
  // A ';' after a label belongs to the label statement; the tick goes after it.
  CHECK(shown("::a:: ; x()") == "::a:: ;@ x()");
  CHECK(shown("do ::a:: ; end") == "do@ ::a:: ;@ end");
  // `goto` is a name unless a statement; nothing is inserted for it.
  CHECK(shown("local goto = 1 x = goto") == "local goto = 1 x = goto");
}

TEST_CASE("keywords in strings, comments and long brackets are left alone") {
  CHECK(shown("s = 'while true do end'") == "s = 'while true do end'");
  CHECK(shown("s = \"function() repeat\"") == "s = \"function() repeat\"");
  CHECK(shown(R"(s = "a \"do\" b \\" do end)") == R"(s = "a \"do\" b \\" do@ end)");
  CHECK(shown(R"(s = 'it\'s do' .. "\'" do end)") == R"(s = 'it\'s do' .. "\'" do@ end)");
  CHECK(shown("s = \"line\\\ndo\" do end") == "s = \"line\\\ndo\" do@ end");
  CHECK(shown("s = \"crlf\\\r\ndo\" do end") == "s = \"crlf\\\r\ndo\" do@ end");
  CHECK(shown("s = \"\\z\n   do\" do end") == "s = \"\\z\n   do\" do@ end");
  CHECK(shown(R"(s = "\x41\65\u{10FFFF}\ndo" do end)") == R"(s = "\x41\65\u{10FFFF}\ndo" do@ end)");
  CHECK(shown("s = [[do ]] do end") == "s = [[do ]] do@ end");
  CHECK(shown("s = [==[ ]] ]=] do ]===] ]==] do end") == "s = [==[ ]] ]=] do ]===] ]==] do@ end");
  CHECK(shown("s = [=[ ]=]=] do end") == "s = [=[ ]=]=] do@ end");
  CHECK(shown("s = [[\n\ndo\n]] do end") == "s = [[\n\ndo\n]] do@ end");
  CHECK(shown("-- while true do end\ndo end") == "-- while true do end\ndo@ end");
  CHECK(shown("--[[ do\n function() ]] do end") == "--[[ do\n function() ]] do@ end");
  CHECK(shown("--[==[ ]] do ]==] do end") == "--[==[ ]] do ]==] do@ end");
  CHECK(shown("--[= not long, do\ndo end") == "--[= not long, do\ndo@ end");
  CHECK(shown("--[\ndo end") == "--[\ndo@ end");
  CHECK(shown("t[ [[x]] ] = 1 t[ [=[y]=] ] = 2") == "t[ [[x]] ] = 1 t[ [=[y]=] ] = 2");
  CHECK(shown("a = b--[[c]]do end") == "a = b--[[c]]do@ end");
}

TEST_CASE("numbers are single tokens, LuaJIT suffixes and hex floats included") {
  CHECK(shown("for i = 0x1p4, 1e+5, 0x.8p1 do end") == "for i = 0x1p4, 1e+5, 0x.8p1 do@ end");
  CHECK(shown("x = 1LL + 0x10ULL + 3i + .5 + 1e-3 + 0xe+1 do end") ==
        "x = 1LL + 0x10ULL + 3i + .5 + 1e-3 + 0xe+1 do@ end");
  CHECK(shown("x = 1 .. 2 ... do end") == "x = 1 .. 2 ... do@ end");
  CHECK(shown("x = a.b..c[1]:d() do end") == "x = a.b..c[1]:d() do@ end");
}

TEST_CASE("line breaks of every kind keep every token on its line") {
  const std::vector<std::string> sources = {
      "local t = {}\nfor i = 1, 3 do\n  t[i] = function(x)\n    return x\n  end\nend\n",
      "while a do\r\n  repeat\r\n    b()\r\n  until c\r\nend\r\n",
      "x = 1\n\rdo\n\r\n\rend\r\r",
      "s = [[\r\n]]\n--[[\n\n]] function f()\nend",
      "-- a comment that ends the file",
      "do end -- ends in a comment\n-- and another",
      "",
      "\n\n\n",
      "é = 1 for ü = 1, é do end",
  };
  for (const auto& source : sources) {
    CAPTURE(source);
    instrument(source);
  }
  CHECK(instrument("x = 1 -- last").ends_with("-- last\nend"));
  CHECK(instrument("x = 1 --[[ closed ]]").ends_with("]] end"));
}

TEST_CASE("a byte-order mark and a #! line, which LuaJIT skips, make way for the prefix") {
  const InstrumentedLua bom = instrument_lua_source("\xEF\xBB\xBFreturn 1");
  REQUIRE(bom.ok);
  CHECK(bom.code == std::string(kLuaInstrumentPrefix) + "return 1 end");
  const InstrumentedLua shebang =
      instrument_lua_source("\xEF\xBB\xBF#!/usr/bin/luajit do\nwhile x do end");
  REQUIRE(shebang.ok);
  CHECK(shebang.code == std::string(kLuaInstrumentPrefix) + "\nwhile x do" + kTick + " end end");
}

TEST_CASE("sources that do not lex, do not balance or name the runtime are refused with a line") {
  CHECK(refused("x = 1\ns = 'open") == "line 2: unfinished string");
  CHECK(refused("s = \"a\nb\"") == "line 1: unfinished string");
  CHECK(refused("s = 'a\\") == "line 1: unfinished string");
  CHECK(refused("\n\ns = [==[ ]] ]=]") == "line 3: unfinished long string");
  CHECK(refused("--[[ do\n\n") == "line 3: unfinished long comment");
  CHECK(refused("t = [=x") == "line 1: invalid long string delimiter");
  CHECK(refused("x = a ~ b") == "line 1: unexpected symbol '~'");
  CHECK(refused("x = $") == "line 1: unexpected character (byte 36)");
  CHECK(refused("\x1bLJ") == "line 1: unexpected character (byte 27)");  // bytecode
  CHECK(refused("x = 1\0y"sv) == "line 1: unexpected character (byte 0)");
  CHECK(refused("function (a b) end") == "line 1: ')' expected near 'b'");
  CHECK(refused("function f.(a) end") == "line 1: name expected in function name near '('");
  CHECK(refused("function f(a,) end") == "line 1: parameter expected near ')'");
  CHECK(refused("function f(..., a) end") == "line 1: ')' expected near ','");
  CHECK(refused("::a b::") == "line 1: '::' expected near 'b'");
  CHECK(refused("::end::") == "line 1: label name expected near 'end'");
  CHECK(refused("do end end") == "line 1: no open block to close near 'end'");
  CHECK(refused("x = 1\nuntil x") == "line 2: no open block to close near 'until'");
  CHECK(refused("if x then\n") == "line 2: 'end' expected near <eof>");
  // Without the balance check this would close the wrapper and run its rest in the factory.
  CHECK(refused("end, (function() end)()") == "line 1: no open block to close near 'end'");
  CHECK(refused("__tally_b = {1e308}") ==
        "line 1: identifier reserved for the runtime near '__tally_b'");
  CHECK(refused("local t = {}\nt.__tally_x = 1") ==
        "line 2: identifier reserved for the runtime near '__tally_x'");
  CHECK(refused("local function f(__tally_b) end") ==
        "line 1: identifier reserved for the runtime near '__tally_b'");
  // Malformed numbers and escapes are Lua's to report: the rewrite keeps them as they are.
  CHECK(instrument_lua_source("x = 0x1.8p1e2").ok);
  CHECK(instrument_lua_source("x = '\\q'").ok);
}

TEST_CASE("the guard's budget follows the speed of the ticks, and its kill sticks") {
  RunawayGuard guard;
  const auto t0 = Clock::time_point{} + 1h;
  CHECK(guard.next_budget(t0) == 0);  // outside a call
  guard.arm(t0 + 100ms, t0);
  // Fast ticks: the budget doubles up to its cap.
  std::int64_t budget = 0;
  auto now = t0;
  for (int i = 0; i < 20; ++i) budget = guard.next_budget(now += 10us);
  CHECK(budget == RunawayGuard::kMaxBudget);
  // A budget that took 4 ms is cut to a quarter, one of 1 s to a single tick.
  CHECK(guard.next_budget(now += 4ms) == RunawayGuard::kMaxBudget / 4);
  CHECK(guard.next_budget(now += 10s - 1ms) == 0);  // past the deadline
  guard.arm(now + 10s, now);
  CHECK(guard.next_budget(now += 1s) == 1);
  CHECK(guard.next_budget(now += 600us) == 1);  // neither fast nor slow: kept
  CHECK(guard.next_budget(now += 100us) == 2);
  // Past the deadline: 0, and 0 again even with the clock turned back, until the next arm().
  CHECK(guard.next_budget(now += 10s) == 0);
  CHECK(guard.next_budget(t0) == 0);
  CHECK(guard.disarm());
  guard.arm(now + 1s, now);
  CHECK(guard.next_budget(now) == 2 * RunawayGuard::kFirstBudget);
  CHECK_FALSE(guard.disarm());
}

// ---- Real LuaJIT states -----------------------------------------------------------------------

namespace {

// The checker in every budget table: the guard's next budget, or the kill.
int budget_check(lua_State* L) {
  auto* guard = static_cast<RunawayGuard*>(lua_touserdata(L, lua_upvalueindex(1)));
  const std::int64_t budget = guard->next_budget();
  if (budget == 0) return luaL_error(L, "script ran too long");
  lua_pushinteger(L, static_cast<lua_Integer>(budget));
  return 1;
}

struct Outcome {
  bool ok = false;
  std::string text;  // the first result, or the error message (with traceback if asked)
  std::chrono::duration<double> took{};
};

// One LuaJIT state, loading chunks the way the header says a host should.
class Sandbox {
 public:
  explicit Sandbox(bool jit = true) : L_(luaL_newstate()) {
    REQUIRE(L_ != nullptr);
    luaL_openlibs(L_);
    if (!jit) luaJIT_setmode(L_, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    lua_getglobal(L_, "tostring");
    tostring_ = luaL_ref(L_, LUA_REGISTRYINDEX);
    lua_createtable(L_, 2, 0);
    lua_pushinteger(L_, 0);
    lua_rawseti(L_, -2, 1);
    lua_pushlightuserdata(L_, &guard_);
    lua_pushcclosure(L_, budget_check, 1);
    lua_rawseti(L_, -2, 2);
    budget_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  }
  ~Sandbox() { lua_close(L_); }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  lua_State* state() const { return L_; }

  // Runs `source` instrumented, as addon "Demo" with `limit` of wall-clock time.
  Outcome run(std::string_view source, std::chrono::milliseconds limit = 50ms,
              bool traceback = false) {
    const InstrumentedLua inst = instrument_lua_source(source);
    if (!inst.ok) return load_failure(source, inst.error);
    if (luaL_loadbufferx(L_, inst.code.data(), inst.code.size(), "=addon.lua", "t") != 0) {
      std::string error = lua_tostring(L_, -1);
      lua_pop(L_, 1);
      return load_failure(source, error);
    }
    lua_rawgeti(L_, LUA_REGISTRYINDEX, budget_);
    lua_call(L_, 1, 1);  // the factory runs no addon code: it returns the main function
    guard_.arm(Clock::now() + limit);
    lua_rawgeti(L_, LUA_REGISTRYINDEX, budget_);
    lua_pushinteger(L_, 0);
    lua_rawseti(L_, -2, 1);
    lua_pop(L_, 1);
    Outcome out = call_main(traceback);
    if (guard_.disarm() && out.ok) {
      out = {false, "script ran too long (caught by the addon)", out.took};
    }
    return out;
  }

  // Runs `source` as it is, with nothing to stop it: for comparisons with terminating code.
  Outcome run_plain(std::string_view source, bool traceback = false) {
    if (luaL_loadbufferx(L_, source.data(), source.size(), "=addon.lua", "t") != 0) {
      return pop_error();
    }
    return call_main(traceback);
  }

 private:
  // Why a source cannot run: Lua's own message for the original if it has one, else ours.
  Outcome load_failure(std::string_view source, const std::string& ours) {
    if (luaL_loadbufferx(L_, source.data(), source.size(), "=addon.lua", "t") != 0) {
      return pop_error();
    }
    lua_pop(L_, 1);  // the original compiles (it is never run)
    return {false, "cannot instrument: " + ours, {}};
  }

  Outcome pop_error() {
    Outcome out{false, lua_tostring(L_, -1), {}};
    lua_pop(L_, 1);
    return out;
  }

  // Calls the function on top with the addon's ("Demo", {}) arguments; the first result or the
  // error goes through tostring.
  Outcome call_main(bool traceback) {
    const int base = lua_gettop(L_);
    if (traceback) {
      lua_getglobal(L_, "debug");
      lua_getfield(L_, -1, "traceback");
      lua_replace(L_, -2);
      lua_insert(L_, base);
    }
    lua_pushliteral(L_, "Demo");
    lua_newtable(L_);
    const auto start = Clock::now();
    const int rc = lua_pcall(L_, 2, 1, traceback ? base : 0);
    const auto took = Clock::now() - start;
    lua_rawgeti(L_, LUA_REGISTRYINDEX, tostring_);
    lua_insert(L_, -2);
    lua_call(L_, 1, 1);
    Outcome out{rc == 0, lua_tostring(L_, -1), took};
    lua_settop(L_, base - 1);
    return out;
  }

  lua_State* L_;
  int tostring_ = LUA_NOREF;
  int budget_ = LUA_NOREF;  // {ticks left, checker}
  RunawayGuard guard_;
};

// Counts traces the JIT finished while `body` ran, through jit.attach.
template <class Body>
int traces_compiled_during(Sandbox& box, Body body) {
  REQUIRE(box.run_plain("traces = 0 function count_trace(what) "
                        "if what == 'stop' then traces = traces + 1 end end "
                        "jit.attach(count_trace, 'trace')")
              .ok);
  body();
  const Outcome n = box.run_plain("jit.attach(count_trace) count_trace = nil return traces");
  REQUIRE(n.ok);
  return std::stoi(n.text);
}

}  // namespace

TEST_CASE("the JIT is on, and an instruction-count hook does not see a compiled loop") {
  Sandbox box;
  REQUIRE(box.run_plain("return (jit.status())").text == "true");
  static int hooks = 0;
  hooks = 0;
  lua_sethook(
      box.state(), [](lua_State*, lua_Debug*) { ++hooks; }, LUA_MASKCOUNT, 1000);
  REQUIRE(box.run_plain("local n = 0 for i = 1, 1e7 do n = n + 1 end return n").text == "10000000");
  lua_sethook(box.state(), nullptr, 0, 0);
  // Interpreted, the loop runs 2e7 instructions: 20,000 hooks. Compiled, only the first few.
  CHECK(hooks < 100);
}

TEST_CASE("runaway code is stopped within 0.5 s, compiled by the JIT or not") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"while", "local n = 0\nwhile true do n = n + 1 end"},
      {"empty while", "while true do end"},
      {"repeat", "repeat until false"},
      {"huge for", "for i = 1, math.huge do end"},
      {"for in", "local function it() return 1 end for x in it do end"},
      {"tail call", "local function f() return f() end return f()"},
      {"mutual tail calls",
       "local g local function f(n) return g(n + 1) end "
       "g = function(n) return f(n) end return f(0)"},
      {"goto", "::top:: goto top"},
      {"goto with work", "local x = 0 ::top:: x = x + 1 if x > 0 then goto top end"},
      {"exponential recursion",
       "local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end "
       "return fib(80)"},
      {"nested loops", "for i = 1, 1e9 do for j = 1, 1e9 do local x = i * j end end"},
      {"callback from C", "string.gsub('xxxx', 'x', function() while true do end end)"},
      {"sort comparator", "table.sort({3, 2, 1}, function(a, b) while true do end end)"},
      {"pcall in a loop", "while true do pcall(function() while true do end end) end"},
      {"pcall, then return",
       "pcall(function() while true do end end) pcall(error) return 'survived'"},
      {"xpcall with a looping handler",
       "xpcall(function() while true do end end, function() while true do end end) "
       "return 'survived'"},
      {"coroutines",
       "while true do coroutine.resume(coroutine.create(function() while true do end end)) end"},
      {"slow iterations", "local t = {} while true do t[1] = string.rep('ab', 2^21) end"},
      {"coroutine.wrap",
       "local co = coroutine.wrap(function() while true do coroutine.yield() end end) "
       "while true do co() end"},
  };
  Sandbox box;
  for (const auto& c : cases) {
    const std::string& name = c.first;
    const std::string& source = c.second;
    CAPTURE(name);
    Outcome out;
    const int compiled = traces_compiled_during(box, [&] { out = box.run(source, 50ms); });
    CHECK_FALSE(out.ok);
    CHECK(out.text.find("script ran too long") != std::string::npos);
    CHECK(out.took >= 50ms);
    CHECK(out.took < 500ms);
    if (name == "while" || name == "huge for") {
      CHECK(compiled > 0);  // the loop ran as machine code when the kill came
    }
    // The state lives on, and the next call gets a fresh budget.
    const Outcome after = box.run("local s = 0 for i = 1, 100 do s = s + i end return s");
    CHECK(after.ok);
    CHECK(after.text == "5050");
  }
}

TEST_CASE("the kill names the line of the runaway loop") {
  Sandbox box;
  const Outcome out = box.run("local x = 1\n\nwhile x do\n  x = x + 1\nend\n");
  CHECK(out.text == "addon.lua:3: script ran too long");
}

TEST_CASE("normal code gives the same results instrumented, with the JIT on") {
  const std::vector<std::string> sources = {
      "local s = 0 for i = 1, 1e6 do s = s + i end return s",
      "local name, t = ... return name .. ':' .. type(t)",
      "local points = {} local names = {} for i = 1, 1000 do names[i] = 'p' .. i end\n"
      "local function award(name, amount) points[name] = (points[name] or 0) + amount end\n"
      "for i = 1, 1e6 do award(names[i % 1000 + 1], 1) end return points.p1 + points.p1000",
      "local M = {} function M.add(a, b) return a + b end "
      "function M:twice(x) return self.add(x, x) end return M:twice(21)",
      "local t = {} for i = 1, 10 do if i % 2 == 0 then goto continue end "
      "local x = i t[#t + 1] = x ::continue:: end return table.concat(t, ',')",
      "local i = 0 repeat local j = i i = i + 1 until j >= 5 return i",
      "local n = 0 ::again:: n = n + 1 if n < 100 then goto again end return n",
      "local n = 0 ::again:: ; n = n + 1 if n < 100 then goto again end return n",
      "local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end "
      "return fib(25)",
      "local function count(n, acc) if n == 0 then return acc end return count(n - 1, acc + 1) end "
      "return count(1e6, 0)",
      "return 'while true do end' .. [[ repeat ]] .. [==[ ]] function() ]==] -- do\n",
      "return tostring(0x1p4 + 0xe+1 + .5) .. tostring(1LL + 0x10ULL) .. tostring(3i)",
      "local co = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end) "
      "return co() + co() + co()",
      "local s = 0 for _, v in ipairs({1, 2, 3}) do s = s + v end return s",
      "return select('#', ...)",
      "return",
  };
  Sandbox box;
  for (const auto& source : sources) {
    CAPTURE(source);
    const Outcome plain = box.run_plain(source);
    const Outcome inst = box.run(source, 5000ms);
    CHECK(plain.ok);
    CHECK(inst.ok);
    CHECK(inst.text == plain.text);
  }
}

TEST_CASE("errors and tracebacks name the same lines as the original") {
  const std::vector<std::string> sources = {
      "local x = 1\n\nerror('boom')\n",
      "local t = nil\nfor i = 1, 3 do\n  if i == 2 then\n    t.field = i\n  end\nend\n",
      "local function inner(v)\n  return v + {}\nend\n"
      "local function outer()\n  return 1 + inner(2)\nend\n"
      "\r\nouter()\n",
      "local s = [[\n\n\n]] --[==[\n\n]==]\nlocal y = s .. nil\n",
      "local n = 0\n::top::\nn = n + 1\nif n == 50 then undefined_function() end\ngoto top\n",
      "x = = 1",
      "local function f()\n  return 1\n",
      "local a = 'unfinished\n",
  };
  Sandbox box;
  for (const auto& source : sources) {
    CAPTURE(source);
    const Outcome plain = box.run_plain(source);
    const Outcome inst = box.run(source, 5000ms);
    CHECK_FALSE(plain.ok);
    CHECK(inst.text.substr(0, inst.text.find('\n')) == plain.text.substr(0, plain.text.find('\n')));
    // Every line a traceback names, in order.
    const auto lines = [](const std::string& text) {
      const std::regex at(R"(addon\.lua:(\d+):)");
      std::vector<std::string> out;
      for (auto it = std::sregex_iterator(text.begin(), text.end(), at);
           it != std::sregex_iterator(); ++it) {
        out.push_back((*it)[1]);
      }
      return out;
    };
    const Outcome plain_tb = box.run_plain(source, true);
    const Outcome inst_tb = box.run(source, 5000ms, true);
    CHECK(lines(inst_tb.text) == lines(plain_tb.text));
  }
}

TEST_CASE(
    "randomized sources: instrumented code compiles and runs exactly when the original does") {
  // Pieces that stress the lexer: quotes, escapes, long brackets, comments, keywords.
  const std::vector<std::string> pieces = {
      "do", " end ",     " ",        "\n",      "\r",      "\"",      "'",        "\\",
      "[[", "]]",        "[=[",      "]=]",     "[",       "]",       "=",        "--",
      "x",  "1",         "0x",       "e",       "+",       "-",       ".",        "..",
      "z",  " function", "(",        ")",       "::",      "goto ",   " return ", "local ",
      ";",  ",",         " repeat ", " until ", " while ", "true",    " if ",     " then ",
      "{",  "}",         "\\z",      "\\\n",    "\\x4",    "\\u{41}", "--[[",     "\xC3\xA9"};
  // Strings whose contents hold keywords, quotes, escapes and brackets: a tick inside one would
  // change its value.
  const std::vector<std::pair<std::string, std::string>> quotes = {
      {"'", "'"}, {"\"", "\""}, {"[[", "]]"}, {"[=[", "]=]"}, {"[==[", "]==]"}};
  const std::vector<std::string> contents = {
      "do",    "end",     " ",    "\n",   "\r",   "\"",  "'",        "\\",   "[[",
      "]]",    "[=[",     "]=]",  "]==]", "=",    "--",  "\\z",      "\\\n", "\\\r\n",
      "\\x41", "\\u{41}", "\\12", "\\\\", "\\\"", "\\'", "function", "::"};
  const auto stop = [](lua_State* L, lua_Debug*) { luaL_error(L, "hook"); };
  const std::regex address("0x[0-9a-f]+|builtin#[0-9]+");
  std::mt19937 rng(20240611);
  int completed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string source;
    if (i % 2 == 0) {
      for (int k = 0, n = 1 + static_cast<int>(rng() % 12); k < n; ++k) {
        source += pieces[rng() % pieces.size()];
      }
    } else {
      const auto& [open, close] = quotes[rng() % quotes.size()];
      source = "local s = " + open;
      for (int k = 0, n = static_cast<int>(rng() % 10); k < n; ++k) {
        source += contents[rng() % contents.size()];
      }
      source += close + " return s";
    }
    CAPTURE(source);
    // Interpreted, so that the hook stops loops in the original too; fresh globals for each.
    Sandbox plain_box(false);
    Sandbox inst_box(false);
    lua_sethook(plain_box.state(), stop, LUA_MASKCOUNT, 1 << 20);
    lua_sethook(inst_box.state(), stop, LUA_MASKCOUNT, 1 << 20);
    const Outcome plain = plain_box.run_plain(source);
    const Outcome inst = inst_box.run(source, 1000ms);
    CHECK(inst.ok == plain.ok);
    CHECK(std::regex_replace(inst.text, address, "@") ==
          std::regex_replace(plain.text, address, "@"));
    completed += plain.ok ? 1 : 0;
  }
  CHECK(completed > 1000);  // the comparison covered real runs, not only compile errors
}
