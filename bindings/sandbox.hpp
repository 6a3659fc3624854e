// What an addon's Lua state may reach: the allow-lists, and the steps that enforce them.
#pragma once

#include <string_view>

struct lua_State;

namespace tally {

class RunawayGuard;

// Opens only the libraries addons may use, plus debug (install_game_api takes traceback from
// it) and jit (opening it turns the JIT compiler on); lock_down removes both globals.
void open_allowed_libraries(lua_State* L);

// Makes the state's budget table {ticks, checker} (see lua_instrument.hpp), the checker asking
// `guard` and raising "script ran too long"; keeps the table in the registry only. Also bounds
// what runs inside one C call by the same guard (call_limits.hpp).
void install_runaway_guard(lua_State* L, RunawayGuard* guard);

// Zeroes the budget so the first check of the next call into addon code sees its new deadline,
// and forgets the nesting counts an error left.
void reset_budget(lua_State* L);

// Compiles addon text (never bytecode) with the budget checks in it. Pushes the addon's main
// function and returns true, or pushes the error message and returns false (also for a text
// over kMaxLuaSourceBytes, refused before instrumenting).
bool load_addon_code(lua_State* L, std::string_view code, const char* chunk_name);

// Replaces loadstring with the instrumented text-only loader and collectgarbage with a safe subset.
void install_safe_builtins(lua_State* L);

// Removes every global, and every library member, that is not on the allow-lists.
void lock_down(lua_State* L);

}  // namespace tally
