// Rewrites addon Lua source so that runaway loops and recursion reach a host budget check.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tally {

// The wrapper put before the source, on its first line (so no line number moves). The chunk it
// makes is a factory: called with the state's budget table, it returns the addon's real main
// function. The table is a local of the factory, which no addon code can name, or reach without
// the debug library.
inline constexpr std::string_view kLuaInstrumentPrefix =
    "local __tally_b = ... return function(...) ";

// The tick inserted after every `do` and `repeat`, at the start of every function body and after
// every label that is not at the end of its block. Plain Lua, so traces still compile: it counts
// budget[1] down and calls the checker, budget[2], only when it runs out. The ';' keeps a stray
// ';' after it as invalid as in the original.
inline constexpr std::string_view kLuaBudgetTick =
    "__tally_b[1] = __tally_b[1] - 1 if __tally_b[1] < 0 then __tally_b[1] = __tally_b[2]() end;";

// The longest source a host instruments (an addon file, a loadstring text). Instrumenting takes
// memory outside the Lua heap, up to about 40 times the source's size (a token per byte, a tick
// per `do`), so a larger source is refused before it is looked at. Addon files are well under
// 1 MiB.
inline constexpr std::size_t kMaxLuaSourceBytes = 4u << 20;

// Identifiers with this prefix are the runtime's; a source using one is refused.
inline constexpr std::string_view kLuaReservedPrefix = "__tally_";

// What instrument_lua_source made of one source text.
struct InstrumentedLua {
  bool ok = false;
  std::string code;   // ok: the factory chunk
  std::string error;  // !ok: "line N: what went wrong"
};

// Instruments one chunk of LuaJIT source (Lua 5.1 with goto and labels). Text is copied
// byte for byte, with insertions that hold no newline, so every token stays on its line and
// Lua's messages and tracebacks name the original lines. How a host uses the result:
//
//  1. Once per Lua state, make the budget table {0, checker}; keep it in the registry, never give
//     it to addon code. The checker (a C function) asks a RunawayGuard for the next budget and
//     raises "script ran too long" when it gets 0.
//  2. Load `code` as text only (luaL_loadbufferx mode "t") under the addon file's chunk name, set
//     the addon's environment on that function (closures inherit it) and call it with the budget
//     table; it returns the main function, to be called with the addon's usual `...`. The
//     factory itself runs no addon code.
//  3. Around every call into addon code: guard.arm(deadline), budget[1] = 0 (so the first tick
//     checks the new deadline), the pcall, then guard.disarm(): when that says the call ran too
//     long, it failed, even if it returned normally (the addon caught the error with pcall).
//  4. When !ok, or when `code` does not load, load the original source (never run it) for Lua's
//     own message; if the original loads, report `error` or the instrumented load error (e.g. a
//     function at the limit of 60 upvalues, as each function gets the budget table as one more).
//
// !ok when the source does not lex (unfinished string, long string or comment, a character Lua
// has no token for), when a function header or label is malformed, when its blocks do not balance
// (an extra `end` would otherwise close the wrapper early and run code in the factory), or when it
// uses a reserved identifier. Malformed numbers and escapes are left for Lua to report: they cannot
// change where a token ends in a valid chunk, and they leave the instrumented chunk as invalid as
// the original.
InstrumentedLua instrument_lua_source(std::string_view source);

// The host's side of the budget checks of one Lua state: the deadline of the call into addon
// code in progress, and how many ticks to allow between checks. The budget adapts so that checks
// come about every kCheckInterval: a slow loop body (one that builds a large string, say) gets
// checked as often in time as a fast one, which keeps the overshoot past a deadline small.
class RunawayGuard {
 public:
  using Clock = std::chrono::steady_clock;

  // A call starts with one tick between checks, doubling while checks come fast: a loop whose
  // every iteration takes seconds is still checked after its first.
  static constexpr std::int64_t kFirstBudget = 1;
  static constexpr std::int64_t kMaxBudget = 10'000;  // caps a cheap loop's budget
  static constexpr Clock::duration kCheckInterval = std::chrono::milliseconds(1);

  // A call into addon code starts and must end by `deadline`.
  void arm(Clock::time_point deadline, Clock::time_point now = Clock::now());
  // The call ended; true if it ran too long.
  bool disarm();
  // For the checker: ticks until the next check, or 0 when the call has run too long or was
  // stopped for memory. Once 0, always 0 until the next arm(), so an addon's pcall cannot
  // swallow the kill. Also 0 outside a call: no addon code should run then.
  std::int64_t next_budget(Clock::time_point now = Clock::now());
  // Stops addon code at its next check because its state is out of memory. Only sets a flag, so
  // the state's allocator may call it.
  void stop_for_memory() { out_of_memory_ = true; }
  // The error for the checker to raise when next_budget gave 0.
  const char* stop_message() const {
    return out_of_memory_ && !expired_ ? "not enough memory: the addons reached the client's memory limit"
                                       : "script ran too long";
  }

 private:
  Clock::time_point deadline_{};
  Clock::time_point last_check_{};
  std::int64_t budget_ = kFirstBudget;
  bool armed_ = false;
  bool expired_ = false;
  bool out_of_memory_ = false;
};

}  // namespace tally
