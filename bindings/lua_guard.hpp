// The one place C++ errors cross into Lua: lua_CFunction wrappers that catch exceptions.
#pragma once

#include <lua.hpp>

#include <exception>
#include <string>

namespace tally {

// guarded<Fn> runs Fn; a std::exception it throws becomes a Lua error raised after the catch
// block has ended, so no exception crosses into Lua and the longjmp/unwind of lua_error never
// skips a live catch. Lua errors raised inside Fn pass through untouched (they are not
// std::exceptions).
template <int (*Fn)(lua_State*)>
int guarded(lua_State* L) {
  std::string message;
  try {
    return Fn(L);
  } catch (const std::exception& e) {
    message = e.what();
  }
  lua_pushlstring(L, message.data(), message.size());
  return lua_error(L);
}

}  // namespace tally
