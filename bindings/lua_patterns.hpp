// string.find, string.match, string.gmatch and string.gsub for addon states: Lua 5.1's pattern
// language and results, as LuaJIT 2.1 gives them, from a matcher that counts its steps and asks
// the runaway guard every few thousand, so backtracking (`("a*"):rep(40) .. "b"`) is stopped at
// the script time limit like any loop, instead of hanging the host inside one C call.
#pragma once

struct lua_State;

namespace tally {

// Sets find, match, gmatch and gsub in the table at the top of the stack (the string library),
// each with the light userdata at `limits_index` (a CallLimits) as upvalue 1.
void install_bounded_patterns(lua_State* L, int limits_index);

}  // namespace tally
