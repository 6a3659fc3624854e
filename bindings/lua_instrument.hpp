// Rewrites addon Lua source so that runaway loops and recursion hit a host budget check, even when JIT-compiled.
#pragma once

#include <string>
#include <string_view>

namespace tally {

// The wrapper put before the source, on its first line (so no line number moves). The chunk it
// makes is a factory: called with the checker, it returns the addon's real main function. The
// checker and the tick counter are locals of the factory, which no addon code can name or reach
// (without the debug library).
inline constexpr std::string_view kLuaInstrumentPrefix =
    "local __tally_check = ... local __tally_n = 0 return function(...) ";

// The tick inserted after every `do` and `repeat`, at the start of every function body and after
// every label that is not at the end of its block. Plain Lua, so traces still compile; the checker
// runs once per budget only. The ';' keeps a stray ';' after it as invalid as in the original.
inline constexpr std::string_view kLuaBudgetTick =
    "__tally_n = __tally_n - 1 if __tally_n < 0 then __tally_n = __tally_check() end;";

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
//  1. Load `code` as text only (luaL_loadbufferx mode "t") under the addon file's chunk name, set
//     the addon's environment on that function (closures inherit it), call it with one argument,
//     the checker; it returns the main function, to be called with the addon's usual `...`.
//  2. The checker is called with no argument and returns the next budget, a number of ticks
//     (e.g. 10000), or raises "script ran too long" once the host's deadline for the current
//     call has passed. Once it has raised it must keep raising until the host resets it, and the
//     host treats the call as failed even if the addon caught the error with pcall.
//  3. When !ok, or when `code` does not load, load the original source (never run it) for Lua's
//     own message; if the original loads, report `error` or the instrumented load error (e.g.
//     more than 60 upvalues, as each function gets the factory's two).
//
// !ok when the source does not lex (unfinished string, long string or comment, a character Lua
// has no token for), when a function header or label is malformed, when its blocks do not balance
// (an extra `end` would otherwise close the wrapper early and run code in the factory), or when it
// uses a reserved identifier. Malformed numbers and escapes are left for Lua to report: they cannot change where a
// token ends in a valid chunk, and they leave the instrumented chunk as invalid as the original.
InstrumentedLua instrument_lua_source(std::string_view source);

}  // namespace tally
