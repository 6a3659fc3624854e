// The walk over what addon code can reach, and the list of what it must never find.
#include "sandbox_reach.hpp"

#include <cstring>
#include <lua.hpp>
#include <map>
#include <string>
#include <unordered_set>

namespace hostile {

namespace {

// Libraries the sandbox hands to addons (filtered); every other loaded library is privileged.
constexpr const char* kSandboxLibraries[] = {"_G", "string", "table", "math", "bit", "coroutine"};
// LuaJIT's lua_type for cdata, which addons must never hold (mutators get plain values).
constexpr int kCdataType = 10;
// Deeper chains are not followed; the walk's stack use stays bounded (three slots a level).
constexpr int kMaxDepth = 1000;

bool is_sandbox_library(const char* name) {
  for (const char* library : kSandboxLibraries) {
    if (std::strcmp(library, name) == 0) return true;
  }
  return false;
}

class Walk {
 public:
  explicit Walk(lua_State* L) : L_(L) {}

  std::vector<std::string> run() {
    collect_privileged();
    if (lua_checkstack(L_, 3 * kMaxDepth + 8) == 0)
      return {"cannot walk the sandbox: the Lua stack cannot grow"};
    lua_pushvalue(L_, LUA_GLOBALSINDEX);
    visit("_G", 0);
    lua_pop(L_, 1);
    lua_pushliteral(L_, "");
    if (lua_getmetatable(L_, -1) != 0) {
      visit("getmetatable('')", 0);
      lua_pop(L_, 1);
    }
    lua_pop(L_, 1);
    // Each addon's private table (its files' second `...`).
    lua_pushnil(L_);
    while (lua_next(L_, LUA_REGISTRYINDEX) != 0) {
      if (lua_type(L_, -2) == LUA_TSTRING &&
          std::strncmp(lua_tostring(L_, -2), "tally.addon.", 12) == 0) {
        visit(std::string("(addon table of ") + (lua_tostring(L_, -2) + 12) + ")", 0);
      }
      lua_pop(L_, 1);
    }
    return leaks_;
  }

 private:
  // The value on top is privileged; so are its members when it is a table.
  void mark(const std::string& what, bool with_members) {
    privileged_.emplace(lua_topointer(L_, -1), what);
    if (!with_members || !lua_istable(L_, -1)) return;
    lua_pushnil(L_);
    while (lua_next(L_, -2) != 0) {
      if (lua_type(L_, -1) == LUA_TTABLE || lua_type(L_, -1) == LUA_TFUNCTION ||
          lua_type(L_, -1) == LUA_TUSERDATA) {
        std::string member =
            what + "." + (lua_type(L_, -2) == LUA_TSTRING ? lua_tostring(L_, -2) : "?");
        privileged_.emplace(lua_topointer(L_, -1), member);
      }
      lua_pop(L_, 1);
    }
  }

  // Everything the host keeps in the registry, except the sandbox's own libraries and the
  // addons' private tables.
  void collect_privileged() {
    lua_pushvalue(L_, LUA_REGISTRYINDEX);
    mark("the registry", false);
    lua_pop(L_, 1);
    lua_pushnil(L_);
    while (lua_next(L_, LUA_REGISTRYINDEX) != 0) {
      if (lua_type(L_, -2) == LUA_TSTRING) {
        std::string key = lua_tostring(L_, -2);
        if (key == "_LOADED") {
          mark("package.loaded", false);
          collect_libraries();
        } else if (key.rfind("tally.addon.", 0) != 0 && !lua_isnumber(L_, -1)) {
          mark("registry['" + key + "']", true);
        }
      } else if (lua_istable(L_, -1) || lua_isfunction(L_, -1)) {
        mark("the host's internals (registry ref)", true);
      }
      lua_pop(L_, 1);
    }
    luaL_getmetatable(L_, "tally.ledger");
    ledger_meta_ = lua_topointer(L_, -1);
    lua_pop(L_, 1);
  }

  // The table on top is package.loaded.
  void collect_libraries() {
    lua_pushnil(L_);
    while (lua_next(L_, -2) != 0) {
      if (lua_type(L_, -2) == LUA_TSTRING && !is_sandbox_library(lua_tostring(L_, -2))) {
        mark(std::string("library ") + lua_tostring(L_, -2), true);
      }
      lua_pop(L_, 1);
    }
  }

  static std::string key_text(lua_State* L, int index) {
    switch (lua_type(L, index)) {
      case LUA_TSTRING:
        return std::string(".") + lua_tostring(L, index);
      case LUA_TNUMBER:
        return "[" + std::to_string(lua_tonumber(L, index)) + "]";
      default:
        return std::string("[") + lua_typename(L, lua_type(L, index)) + "]";
    }
  }

  // The value on top of the stack, reached by `path`.
  void visit(const std::string& path, int depth) {
    int type = lua_type(L_, -1);
    if (type == LUA_TNIL || type == LUA_TBOOLEAN || type == LUA_TNUMBER || type == LUA_TSTRING)
      return;
    const void* id = lua_topointer(L_, -1);
    if (auto it = privileged_.find(id); it != privileged_.end()) {
      leaks_.push_back(path + " is " + it->second);
      return;
    }
    if (type == kCdataType) {
      leaks_.push_back(path + " is cdata");
      return;
    }
    if (type == LUA_TLIGHTUSERDATA) {
      leaks_.push_back(path + " is a raw host pointer (light userdata)");
      return;
    }
    if (!seen_.insert(id).second || depth >= kMaxDepth) return;
    if (type == LUA_TTABLE) {
      lua_pushnil(L_);
      while (lua_next(L_, -2) != 0) {
        std::string at = path + key_text(L_, -2);
        visit(at, depth + 1);  // the value
        lua_pop(L_, 1);
        lua_pushvalue(L_, -1);
        visit(at + " (as a key)", depth + 1);
        lua_pop(L_, 1);
      }
    }
    if ((type == LUA_TTABLE || type == LUA_TUSERDATA) && lua_getmetatable(L_, -1) != 0) {
      if (type == LUA_TUSERDATA && lua_topointer(L_, -1) == ledger_meta_) {
        leaks_.push_back(path + " is a ledger binding (it can insert entries with any creator)");
      }
      // getmetatable() gives the __metatable field instead when there is one.
      lua_pushliteral(L_, "__metatable");
      lua_rawget(L_, -2);
      if (lua_isnil(L_, -1)) {
        lua_pop(L_, 1);
        visit("getmetatable(" + path + ")", depth + 1);
      } else {
        visit("getmetatable(" + path + ")", depth + 1);
        lua_pop(L_, 1);
      }
      lua_pop(L_, 1);
    }
  }

  lua_State* L_;
  std::map<const void*, std::string> privileged_;
  const void* ledger_meta_ = nullptr;
  std::unordered_set<const void*> seen_;
  std::vector<std::string> leaks_;
};

}  // namespace

std::vector<std::string> sandbox_leaks(lua_State* L) {
  int top = lua_gettop(L);
  std::vector<std::string> leaks = Walk(L).run();
  lua_settop(L, top);
  return leaks;
}

}  // namespace hostile
