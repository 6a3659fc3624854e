// The sandbox's allow-lists (reviewable in one screen) and the code that enforces them.
#include "bindings/sandbox.hpp"

#include <lua.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace tally {

namespace {

// ---------------------------------------------------------------------------------------------
// The allow-lists. Anything not named here is absent for addons: no io, os, debug, package,
// require, ffi, jit, dofile, loadfile, string.dump, getfenv/setfenv, newproxy.

constexpr const char* kAllowedGlobals[] = {
    // Lua 5.1 base
    "_G", "_VERSION", "assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "print",
    "rawequal", "rawget", "rawset", "select", "setmetatable", "getmetatable", "tonumber",
    "tostring", "type", "unpack", "loadstring", "collectgarbage", "gcinfo",
    // libraries (members filtered below)
    "string", "table", "math", "bit", "coroutine",
    // game API (bindings/lua/game_api.lua)
    "seterrorhandler", "geterrorhandler", "debugstack", "CreateFrame", "GetTime",
    "GetTimePreciseSec", "GetServerTime", "time", "date", "C_Timer", "UnitName", "UnitGUID",
    "GetRealmName", "GetBuildInfo", "IsLoggedIn", "SlashCmdList", "C_ChatInfo", "Enum",
    // game aliases
    "strsplit", "strjoin", "strtrim", "wipe", "tContains", "strmatch", "strfind", "strsub",
    "strlen", "strlower", "strupper", "strrep", "strbyte", "strchar", "strrev", "gsub", "gmatch",
    "format", "tinsert", "tremove", "sort", "getn", "abs", "ceil", "floor", "max", "min", "mod",
    "sqrt", "exp", "log", "log10", "random",
};

struct LibraryAllowList {
  const char* library;
  std::vector<const char*> members;
};

const LibraryAllowList kAllowedMembers[] = {
    {"string", {"byte", "char", "find", "format", "gmatch", "gsub", "len", "lower", "match", "rep",
                "reverse", "sub", "upper"}},
    {"table", {"concat", "insert", "maxn", "remove", "sort", "getn", "wipe"}},
    {"math", {"abs", "acos", "asin", "atan", "atan2", "ceil", "cos", "cosh", "deg", "exp", "floor",
              "fmod", "frexp", "huge", "ldexp", "log", "log10", "max", "min", "modf", "pi", "pow",
              "rad", "random", "randomseed", "sin", "sinh", "sqrt", "tan", "tanh"}},
    {"bit", {"tobit", "tohex", "bnot", "band", "bor", "bxor", "lshift", "rshift", "arshift",
             "rol", "ror", "bswap"}},
    {"coroutine", {"create", "resume", "running", "status", "wrap", "yield"}},
};

constexpr const char* kAllowedCollectOptions[] = {"collect", "count", "step"};

// ---------------------------------------------------------------------------------------------

bool is_listed(const char* const* begin, const char* const* end, std::string_view name) {
  return std::any_of(begin, end, [&](const char* n) { return name == n; });
}

// Removes keys of the table at `index` that `keep` rejects.
template <typename Keep>
void filter_table(lua_State* L, int index, Keep keep) {
  if (index < 0) index = lua_gettop(L) + 1 + index;
  std::vector<std::string> doomed;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      continue;
    }
    std::size_t len = 0;
    const char* key = lua_tolstring(L, -1, &len);
    if (!keep(std::string_view(key, len))) doomed.emplace_back(key, len);
  }
  for (const auto& key : doomed) {
    lua_pushlstring(L, key.data(), key.size());
    lua_pushnil(L);
    lua_rawset(L, index);
  }
}

// loadstring(text [, chunkname]) that refuses precompiled bytecode.
int text_only_loadstring(lua_State* L) {
  std::size_t len = 0;
  const char* code = luaL_checklstring(L, 1, &len);
  const char* name = luaL_optstring(L, 2, code);
  if (len > 0 && code[0] == LUA_SIGNATURE[0]) {
    lua_pushnil(L);
    lua_pushstring(L, "loadstring: precompiled bytecode is not allowed");
    return 2;
  }
  if (luaL_loadbuffer(L, code, len, name) != 0) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}

// collectgarbage limited to what cannot turn off the collector or its pacing.
int safe_collectgarbage(lua_State* L) {
  const char* option = luaL_optstring(L, 1, "collect");
  if (!is_listed(std::begin(kAllowedCollectOptions), std::end(kAllowedCollectOptions), option)) {
    return luaL_error(L, "collectgarbage: option '%s' is not allowed", option);
  }
  if (std::strcmp(option, "count") == 0) {
    lua_pushnumber(L, lua_gc(L, LUA_GCCOUNT, 0) + lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
    return 1;
  }
  if (std::strcmp(option, "step") == 0) {
    lua_pushboolean(L, lua_gc(L, LUA_GCSTEP, static_cast<int>(luaL_optinteger(L, 2, 0))));
    return 1;
  }
  lua_gc(L, LUA_GCCOLLECT, 0);
  lua_pushinteger(L, 0);
  return 1;
}

}  // namespace

void open_allowed_libraries(lua_State* L) {
  const lua_CFunction openers[] = {luaopen_base, luaopen_string, luaopen_table, luaopen_math,
                                   luaopen_bit, luaopen_debug};
  for (lua_CFunction open : openers) {
    lua_pushcfunction(L, open);
    lua_call(L, 0, 0);
  }
}

void install_safe_builtins(lua_State* L) {
  lua_pushcfunction(L, text_only_loadstring);
  lua_setglobal(L, "loadstring");
  lua_pushcfunction(L, safe_collectgarbage);
  lua_setglobal(L, "collectgarbage");
}

void lock_down(lua_State* L) {
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  filter_table(L, -1, [](std::string_view name) {
    return is_listed(std::begin(kAllowedGlobals), std::end(kAllowedGlobals), name);
  });
  for (const auto& lib : kAllowedMembers) {
    lua_getfield(L, -1, lib.library);
    if (lua_istable(L, -1)) {
      filter_table(L, -1, [&](std::string_view name) {
        return is_listed(lib.members.data(), lib.members.data() + lib.members.size(), name);
      });
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  // The string metatable's __index is the string library itself, filtered above.
}

}  // namespace tally
