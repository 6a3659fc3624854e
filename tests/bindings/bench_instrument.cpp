// Cost of budget-check instrumentation against plain JIT code and an interpreter with a count hook.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <lua.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bindings/lua_instrument.hpp"

namespace {

using Clock = tally::RunawayGuard::Clock;

// How the addon code runs.
enum class Mode { Jit, JitInstrumented, InterpreterHook, InterpreterInstrumented };

constexpr const char* kModeNames[] = {"JIT, plain", "JIT, instrumented",
                                      "jit.off + count hook (1000)", "jit.off, instrumented"};

// Armed once with a deadline no run reaches: every check still reads the clock, as in a host.
tally::RunawayGuard g_guard;
const Clock::time_point g_deadline = Clock::now() + std::chrono::hours(1);

int budget_check(lua_State* L) {
  const auto budget = g_guard.next_budget();
  if (budget == 0) return luaL_error(L, "script ran too long");
  lua_pushinteger(L, static_cast<lua_Integer>(budget));
  return 1;
}

void count_hook(lua_State* L, lua_Debug*) {
  if (Clock::now() >= g_deadline) luaL_error(L, "script ran too long");
}

void check(lua_State* L, int rc) {
  if (rc != 0) {
    std::fprintf(stderr, "lua error: %s\n", lua_tostring(L, -1));
    std::exit(1);
  }
}

// A fresh state running `source` (a chunk that returns the functions to time) in `mode`; leaves
// the chunk's results on the stack.
lua_State* open_state(Mode mode, std::string_view source, int results) {
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  const bool instrumented = mode == Mode::JitInstrumented || mode == Mode::InterpreterInstrumented;
  if (mode == Mode::InterpreterHook || mode == Mode::InterpreterInstrumented) {
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
  }
  if (mode == Mode::InterpreterHook) lua_sethook(L, count_hook, LUA_MASKCOUNT, 1000);
  const tally::InstrumentedLua inst = tally::instrument_lua_source(source);
  const std::string_view code = instrumented ? std::string_view(inst.code) : source;
  check(L, luaL_loadbuffer(L, code.data(), code.size(), "=bench"));
  if (instrumented) {
    lua_createtable(L, 2, 0);  // the budget table: {ticks left, checker}
    lua_pushinteger(L, 0);
    lua_rawseti(L, -2, 1);
    lua_pushcfunction(L, budget_check);
    lua_rawseti(L, -2, 2);
    lua_call(L, 1, 1);
  }
  check(L, lua_pcall(L, 0, results, 0));
  return L;
}

// Median of `runs` timings of `body`, in nanoseconds per one of `n` iterations.
template <class Body>
double median_ns(int runs, double n, Body body) {
  std::vector<double> ns;
  for (int r = 0; r < runs; ++r) {
    const auto start = Clock::now();
    body();
    ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() / n);
  }
  std::sort(ns.begin(), ns.end());
  return ns[ns.size() / 2];
}

// Times `run(n)`, the one function the chunk returns, called from Lua's side.
double lua_loop_ns(Mode mode, std::string_view source, double n, int runs) {
  lua_State* L = open_state(mode, source, 1);
  const auto call = [&] {
    lua_pushvalue(L, -1);
    lua_pushnumber(L, n);
    check(L, lua_pcall(L, 1, 0, 0));
  };
  call();  // warm-up: the JIT compiles here
  const double ns = median_ns(runs, n, call);
  lua_close(L);
  return ns;
}

constexpr std::string_view kTightLoop =
    "return function(n) local s = 0 for i = 1, n do s = s + i end return s end";

// The DKP mutator over 1000 pre-interned names, as in MISSION.md. The JIT records its trace on
// the first run, when every name is new to `points`.
constexpr std::string_view kMutator =
    "local points, names = {}, {}\n"
    "for i = 1, 1000 do names[i] = 'player' .. i end\n"
    "local function award(name, amount) points[name] = (points[name] or 0) + amount end\n"
    "return function(n) for i = 1, n do award(names[i % 1000 + 1], 1) end end, award, names\n";

// The same with every name already in `points`: the trace is recorded on the steady-state path.
constexpr std::string_view kMutatorWarm =
    "local points, names = {}, {}\n"
    "for i = 1, 1000 do names[i] = 'player' .. i points[names[i]] = 0 end\n"
    "local function award(name, amount) points[name] = (points[name] or 0) + amount end\n"
    "return function(n) for i = 1, n do award(names[i % 1000 + 1], 1) end end\n";

// The mutator called once per event from C++ with lua_pcall, as a replay loop in the host would.
double host_calls_ns(Mode mode, double n, int runs) {
  lua_State* L = open_state(mode, kMutator, 3);  // run, award, names
  const int award = lua_gettop(L) - 1;
  const int names = lua_gettop(L);
  const auto events = static_cast<int>(n);
  const auto replay = [&] {
    for (int i = 0; i < events; ++i) {
      lua_pushvalue(L, award);
      lua_rawgeti(L, names, i % 1000 + 1);
      lua_pushnumber(L, 1);
      check(L, lua_pcall(L, 2, 0, 0));
    }
  };
  replay();
  const double ns = median_ns(runs, n, replay);
  lua_close(L);
  return ns;
}

// A source of about 1 MB with loops, functions, strings and comments, for the rewrite's speed.
std::string large_source() {
  const std::string_view unit =
      "-- award points to every member of the raid, [[ not a string ]]\n"
      "local function award_all(raid, amount, reason)\n"
      "  for i, name in ipairs(raid) do\n"
      "    if name ~= '' then points[name] = (points[name] or 0) + amount end\n"
      "  end\n"
      "  local note = \"awarded \\\"\" .. reason .. [==[\" while true do end ]==]\n"
      "  repeat amount = amount - 1 until amount <= 0\n"
      "  return note, 0x1p4, 1e-3\n"
      "end\n";
  std::string s;
  while (s.size() < (1u << 20)) s += unit;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  g_guard.arm(g_deadline);
  std::printf("median of %d runs, ns per iteration (lower is better)\n\n", runs);
  std::printf("%-28s %11s %14s %14s %14s\n", "", "tight loop", "mutator, Lua", "(warm trace)",
              "mutator, C++");
  for (int m = 0; m < 4; ++m) {
    const auto mode = static_cast<Mode>(m);
    const bool interpreted = mode == Mode::InterpreterHook || mode == Mode::InterpreterInstrumented;
    const double loop = lua_loop_ns(mode, kTightLoop, interpreted ? 2e7 : 2e8, runs);
    const double lua = lua_loop_ns(mode, kMutator, 1e6, runs);
    const double warm = lua_loop_ns(mode, kMutatorWarm, 1e6, runs);
    const double host = host_calls_ns(mode, 1e6, runs);
    std::printf("%-28s %11.2f %14.2f %14.2f %14.2f\n", kModeNames[m], loop, lua, warm, host);
  }

  const std::string source = large_source();
  std::size_t out = 0;
  const double ns = median_ns(runs, static_cast<double>(source.size()),
                              [&] { out = tally::instrument_lua_source(source).code.size(); });
  std::printf("\ninstrument_lua_source: %.0f MB/s (%zu bytes in, %zu out)\n", 1e3 / ns,
              source.size(), out);
}
