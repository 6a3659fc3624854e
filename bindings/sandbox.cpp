// The sandbox's allow-lists (reviewable in one screen) and the code that enforces them.
#include "bindings/sandbox.hpp"

#include <lua.hpp>

#include "bindings/call_limits.hpp"
#include "bindings/lua_guard.hpp"
#include "bindings/lua_instrument.hpp"

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
    "UnitExists", "UnitClass", "UnitLevel", "UnitIsGroupLeader", "UnitInRaid", "Ambiguate",
    "IsInGuild", "GetGuildInfo", "GetNumGuildMembers", "GetGuildRosterInfo", "GuildRoster",
    "C_GuildInfo", "GuildControlGetNumRanks", "GuildControlGetRankName", "IsInRaid", "IsInGroup",
    "GetNumGroupMembers", "GetRaidRosterInfo", "C_AddOnProfiler", "GetAddOnCPUUsage",
    "UpdateAddOnCPUUsage", "ResetCPUUsage", "debugprofilestart", "debugprofilestop",
    // ledger API (bindings/lua/ledger_api.lua)
    "Tally",
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

constexpr const char* kBudgetKey = "tally.budget";

// The checker behind every budget tick: the next budget, or the kill (for time or memory). Raised from here, the
// error names the addon line that was running (level 1 is the Lua function that ticked).
int budget_checker(lua_State* L) {
  auto* guard = static_cast<RunawayGuard*>(lua_touserdata(L, lua_upvalueindex(1)));
  std::int64_t budget = guard->next_budget();
  if (budget == 0) {
    luaL_where(L, 1);
    lua_pushstring(L, guard->stop_message());
    lua_concat(L, 2);
    return lua_error(L);
  }
  lua_pushnumber(L, static_cast<lua_Number>(budget));
  return 1;
}

// loadstring(text [, chunkname]): text only, with the budget checks, as addon files get them.
int instrumented_loadstring(lua_State* L) {
  std::size_t len = 0;
  const char* code = luaL_checklstring(L, 1, &len);
  const char* name = luaL_optstring(L, 2, code);
  if (len > 0 && code[0] == LUA_SIGNATURE[0]) {
    lua_pushnil(L);
    lua_pushstring(L, "loadstring: precompiled bytecode is not allowed");
    return 2;
  }
  if (!load_addon_code(L, {code, len}, name)) {
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
  // luaopen_jit is what switches the JIT compiler on; its `jit` global is removed by lock_down.
  const lua_CFunction openers[] = {luaopen_base, luaopen_string, luaopen_table, luaopen_math,
                                   luaopen_bit,  luaopen_debug,  luaopen_jit};
  for (lua_CFunction open : openers) {
    lua_pushcfunction(L, open);
    lua_call(L, 0, 0);
  }
}

void install_runaway_guard(lua_State* L, RunawayGuard* guard) {
  lua_createtable(L, 2, 0);
  lua_pushinteger(L, 0);
  lua_rawseti(L, -2, 1);
  lua_pushlightuserdata(L, guard);
  lua_pushcclosure(L, budget_checker, 1);
  lua_rawseti(L, -2, 2);
  lua_setfield(L, LUA_REGISTRYINDEX, kBudgetKey);
  install_call_limits(L, guard);
}

void reset_budget(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kBudgetKey);
  lua_pushinteger(L, 0);
  lua_rawseti(L, -2, 1);
  lua_pop(L, 1);
  reset_call_limits(L);
}

bool load_addon_code(lua_State* L, std::string_view code, const char* chunk_name) {
  if (code.size() > kMaxLuaSourceBytes) {
    // Named as Lua names chunks ("=name", "@file", else the text's start), which may be the
    // source itself.
    std::string_view name(chunk_name);
    bool named = name.starts_with('=') || name.starts_with('@');
    name = named ? name.substr(1) : name.substr(0, std::min<std::size_t>(name.find('\n'), 40));
    std::string message = (named ? std::string(name) : "[string \"" + std::string(name) + "...\"]") +
                          ": source of " + std::to_string(code.size() >> 10) + " KiB is over the limit of " +
                          std::to_string(kMaxLuaSourceBytes >> 10) + " KiB";
    lua_pushlstring(L, message.data(), message.size());
    return false;
  }
  InstrumentedLua instrumented = instrument_lua_source(code);
  if (instrumented.ok &&
      luaL_loadbufferx(L, instrumented.code.data(), instrumented.code.size(), chunk_name, "t") == 0) {
    lua_getfield(L, LUA_REGISTRYINDEX, kBudgetKey);
    lua_call(L, 1, 1);  // the factory runs no addon code: it returns the main function
    return true;
  }
  if (instrumented.ok) lua_pop(L, 1);
  // Lua's own message for the original text; it is compiled here, never run.
  if (luaL_loadbufferx(L, code.data(), code.size(), chunk_name, "t") != 0) return false;
  lua_pop(L, 1);
  std::string message = std::string(chunk_name) + ": cannot guard this code against running too long: " +
                        (instrumented.ok ? "it has too many upvalues" : instrumented.error);
  lua_pushlstring(L, message.data(), message.size());
  return false;
}

void install_safe_builtins(lua_State* L) {
  lua_pushcfunction(L, guarded<instrumented_loadstring>);  // instrumenting allocates: bad_alloc
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
