// The bounded string patterns and nesting limits (bindings/call_limits.hpp): the same results as
// LuaJIT's own string library, a time limit on backtracking, errors instead of C stack
// overflows.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include <lua.hpp>

#include "bindings/call_limits.hpp"
#include "bindings/lua_instrument.hpp"

using namespace tally;

namespace {

// A state with LuaJIT's libraries, the originals kept as orig_find etc., and the bounded ones
// installed as string.find etc.
struct Limited {
  RunawayGuard guard;
  lua_State* L = luaL_newstate();
  explicit Limited(double seconds = 10) {
    luaL_openlibs(L);
    REQUIRE(luaL_dostring(L, R"lua(
      orig_find, orig_match, orig_gmatch, orig_gsub = string.find, string.match, string.gmatch, string.gsub
    )lua") == 0);
    install_call_limits(L, &guard);
    reset_call_limits(L);
    arm(seconds);
  }
  ~Limited() { lua_close(L); }
  void arm(double seconds) {
    guard.arm(RunawayGuard::Clock::now() +
              std::chrono::duration_cast<RunawayGuard::Clock::duration>(std::chrono::duration<double>(seconds)));
  }
  // Runs code; its result (a string) or its error.
  std::string run(const std::string& code) {
    if (luaL_dostring(L, code.c_str()) != 0) {
      std::string error = lua_tostring(L, -1);
      lua_pop(L, 1);
      return "error: " + error;
    }
    std::string result = lua_isstring(L, -1) ? lua_tostring(L, -1) : "(no string)";
    lua_settop(L, 0);
    return result;
  }
};

// Lua that compares the bounded functions with the originals on (subject, pattern) pairs and
// returns the first difference, or "same". Errors compare without their position prefix.
constexpr const char* kCompare = R"lua(
  local function results(ok, ...)
    local out = { tostring(ok) }
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      if not ok then v = tostring(v):gsub("^[^:]*:%d+: ", "") end
      out[#out + 1] = type(v) .. ":" .. tostring(v)
    end
    return table.concat(out, "|")
  end
  local function all_matches(gmatch, s, p)
    local out = {}
    for a, b in gmatch(s, p) do
      out[#out + 1] = tostring(a) .. "," .. tostring(b)
      if #out > 1000 then break end
    end
    return table.concat(out, ";")
  end
  local replacements = { "<%0>", "%1%1", "x%%y", "%2", "", "%", 7,
    function(a, b) return b and a .. b or a end, function() return false end,
    { a = "A", ab = 1, ["1"] = "one" }, function() return {} end }
  function compare(s, p)
    for _, init in ipairs({ 1, 2, -2, 0, 100 }) do
      local a = results(pcall(orig_find, s, p, init))
      local b = results(pcall(string.find, s, p, init))
      if a ~= b then return ("find(%q, %q, %d): %s vs %s"):format(s, p, init, a, b) end
      a = results(pcall(orig_find, s, p, init, true))
      b = results(pcall(string.find, s, p, init, true))
      if a ~= b then return ("find plain(%q, %q, %d): %s vs %s"):format(s, p, init, a, b) end
      a = results(pcall(orig_match, s, p, init))
      b = results(pcall(string.match, s, p, init))
      if a ~= b then return ("match(%q, %q, %d): %s vs %s"):format(s, p, init, a, b) end
    end
    local a = results(pcall(all_matches, orig_gmatch, s, p))
    local b = results(pcall(all_matches, string.gmatch, s, p))
    if a ~= b then return ("gmatch(%q, %q): %s vs %s"):format(s, p, a, b) end
    for i, r in ipairs(replacements) do
      for _, max in ipairs({ 1, 3 }) do
        a = results(pcall(orig_gsub, s, p, r, i % 2 == 0 and max or nil))
        b = results(pcall(string.gsub, s, p, r, i % 2 == 0 and max or nil))
        if a ~= b then return ("gsub(%q, %q, #%d): %s vs %s"):format(s, p, i, a, b) end
      end
    end
    return nil
  end
)lua";

}  // namespace

TEST_CASE("bounded patterns give LuaJIT's results and errors") {
  Limited lua;
  REQUIRE(lua.run(kCompare) == "(no string)");
  const char* patterns[] = {
      "", "a", "^a", "a$", "^$", "$", "^", ".", "..", "a*", "a+", "a-", "a?", "a*b", "a-b", "^a-$",
      "(a)", "(a)(b)", "()", "()a()", "(a*)", "((a)(b))", "%a+", "%A+", "%d+", "%D", "%s*", "%S+",
      "%w+", "%W", "%l", "%u", "%p+", "%c", "%x+", "%z", "%Z", "%g", "%.", "%%", "[abc]", "[^abc]",
      "[a-c]+", "[%a_][%w_]*", "[]]", "[^]]", "[a-]", "[-a]", "[%]]", "[a%-z]", "%bab", "%b()",
      "%f[%w]%w+", "%f[%W]", "(a)%1", "(a*)%1", "()%1", "%1", "(", ")", "(()", "[a", "%", "a%",
      "%b", "%ba", "%f", "%fa", "[", "[^", "^(%S+)%s+(.-)%s*$", "(.-)=(.*)", "^/(%S+)%s*(.*)$",
      "(%d+)%.(%d+)", "[%z\1-\31]", "%$", "$a", "a$b", "%bxy*", "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)",
      "(.)%1", "x*$", "[%w%-]+", "[a-z0-9]+$", "^%s*(.-)%s*$", "%-", "%f[%a]", "(%w+)=(%w+)",
  };
  const std::string subjects[] = {
      "", "a", "b", "ab", "aab", "abab", "aaa", "ba", "a b c", "  trim me  ", "key=value",
      "/cmd arg one", "Name-Realm", "x(y(z)w)v", std::string("ab\0ab", 5), "3.14 and 2.71", "]]", "a-b-c",
      "DKP 100 Olwen", "\1\2abc\31", "a%b%c", "aaaaaaaaab", "([{}])", "[a]",
  };
  for (const char* pattern : patterns) {
    for (const std::string& subject : subjects) {
      lua_getglobal(lua.L, "compare");
      lua_pushlstring(lua.L, subject.data(), subject.size());
      lua_pushstring(lua.L, pattern);
      REQUIRE(lua_pcall(lua.L, 2, 1, 0) == 0);
      if (!lua_isnil(lua.L, -1)) FAIL_CHECK(lua_tostring(lua.L, -1));
      lua_pop(lua.L, 1);
    }
  }
}

TEST_CASE("bounded patterns agree with LuaJIT's on random patterns and subjects") {
  Limited lua;
  REQUIRE(lua.run(kCompare) == "(no string)");
  // Random token soup: classes, sets, quantifiers, anchors, captures, back-references.
  std::string difference = lua.run(R"lua(
    math.randomseed(7)
    local tokens = { "a", "b", ".", "%a", "%d", "%s", "%w", "[ab]", "[^a]", "[a-c]", "*", "+", "-",
      "?", "^", "$", "(", ")", "()", "%1", "%2", "%b()", "%f[%w]", "%%", "[%d%s]", "x", " " }
    local chars = { "a", "b", "c", "1", " ", "(", ")", "x", "%" }
    for round = 1, 4000 do
      local p, s = {}, {}
      for i = 1, math.random(0, 7) do p[i] = tokens[math.random(#tokens)] end
      for i = 1, math.random(0, 12) do s[i] = chars[math.random(#chars)] end
      local d = compare(table.concat(s), table.concat(p))
      if d then return d end
    end
    return "same"
  )lua");
  CHECK(difference == "same");
}

TEST_CASE("pattern backtracking stops at the time limit") {
  Limited lua(0.05);
  auto start = std::chrono::steady_clock::now();
  std::string result = lua.run(R"lua(return (string.find(string.rep("a", 40), string.rep("a*", 40) .. "b")))lua");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(result.find("script ran too long") != std::string::npos);
  CHECK(seconds < 0.5);
  // Quadratic work in one call is bounded the same way.
  lua.arm(0.05);
  result = lua.run(R"lua(return (string.find(string.rep("a", 2e5), "a*b")))lua");
  CHECK(result.find("script ran too long") != std::string::npos);
  // Ordinary patterns on large subjects finish.
  lua.arm(10);
  CHECK(lua.run(R"lua(return select(2, string.gsub(string.rep("word ", 1e5), "%w+", "%0")))lua") == "100000");
}

TEST_CASE("C calls that call back into Lua nest to a limit, and errors leave no stale levels") {
  Limited lua;
  std::string gsub = lua.run(R"lua(
    local function f(s) return (string.gsub(s, ".", f)) end
    local ok, err = pcall(f, "ab")
    return err
  )lua");
  CHECK(gsub.find("string.gsub nested too deep") != std::string::npos);
  std::string wrap = lua.run(R"lua(
    local function nest() return coroutine.wrap(nest)() end
    local ok, err = pcall(nest)
    return err
  )lua");
  CHECK(wrap.find("coroutine nesting too deep") != std::string::npos);
  std::string resume = lua.run(R"lua(
    local function nest() local ok, err = coroutine.resume(coroutine.create(nest)) error(err, 0) end
    local ok, err = pcall(nest)
    return err
  )lua");
  CHECK(resume.find("coroutine nesting too deep") != std::string::npos);
  // Deep errors caught by pcall many times over, then legitimate nesting 100 deep still works.
  CHECK(lua.run(R"lua(
    for i = 1, 300 do
      pcall(string.gsub, "a", ".", function() error("x") end)
      pcall(coroutine.wrap(function() error("y") end))
    end
    local depth = 0
    local function f(s) depth = depth + 1 if depth < 100 then string.gsub(s, ".", f) end end
    f("a")
    local function nest(n) if n > 0 then return coroutine.wrap(nest)(n - 1) end return "bottom" end
    return depth .. " " .. nest(100)
  )lua") == "100 bottom");
  // Coroutines behave as before: yields, results, errors, status.
  CHECK(lua.run(R"lua(
    local co = coroutine.create(function(a, b) local c = coroutine.yield(a + b) return c * 2 end)
    local _, x = coroutine.resume(co, 1, 2)
    local _, y = coroutine.resume(co, 5)
    local ok, err = coroutine.resume(co)
    local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
    local ok2, err2 = pcall(coroutine.wrap(function() error("boom") end))
    return table.concat({ x, y, tostring(ok), err, gen() .. gen() .. gen(), coroutine.status(co), err2 }, " ")
  )lua") == "3 10 false cannot resume dead coroutine 123 dead [string \"...\"]:7: boom");
  // table.sort recursion inside nested coroutines: an error, not a C stack overflow.
  std::string sort = lua.run(R"lua(
    local function level(d)
      local deeper = false
      local function f()
        local ok, err = pcall(table.sort, { 2, 1 }, function(a, b) f() return a < b end)
        if not ok and not deeper then  -- at the deepest sort of this coroutine: one more coroutine
          deeper = true
          coroutine.wrap(level)(d + 1)
        end
        error(err, 0)
      end
      f()
    end
    local ok, err = pcall(level, 1)
    return err
  )lua");
  CHECK((sort.find("stack overflow") != std::string::npos || sort.find("too deep") != std::string::npos));
  CHECK(lua.run("return select(2, pcall(function() local r = coroutine.resume(1) return r end))").find("bad argument #1 to 'resume'") !=
        std::string::npos);
}
