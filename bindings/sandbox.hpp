// What an addon's Lua state may reach: the allow-lists, and the steps that enforce them.
#pragma once

struct lua_State;

namespace tally {

// Opens only the libraries addons may use (plus debug, which install_game_api takes
// traceback from and lock_down removes).
void open_allowed_libraries(lua_State* L);

// Replaces loading functions with text-only versions and collectgarbage with a safe subset.
void install_safe_builtins(lua_State* L);

// Removes every global, and every library member, that is not on the allow-lists.
void lock_down(lua_State* L);

}  // namespace tally
