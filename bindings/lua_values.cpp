// Conversion between Lua values and savedvars::Value, with cycle, depth and copy checks.
#include "bindings/lua_values.hpp"

#include <lua.hpp>

#include <cmath>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace tally {

void push_saved_value(lua_State* L, const savedvars::Value& value) {
  luaL_checkstack(L, 4, "SavedVariables nested too deeply");
  switch (value.type()) {
    case savedvars::Value::Type::Nil: lua_pushnil(L); return;
    case savedvars::Value::Type::Boolean: lua_pushboolean(L, value.as_boolean()); return;
    case savedvars::Value::Type::Number: lua_pushnumber(L, value.as_number()); return;
    case savedvars::Value::Type::String:
      lua_pushlstring(L, value.as_string().data(), value.as_string().size());
      return;
    case savedvars::Value::Type::Table: break;
  }
  const savedvars::Table& table = value.as_table();
  lua_createtable(L, 0, static_cast<int>(table.size()));
  for (const auto& [key, item] : table) {
    push_saved_value(L, key);
    push_saved_value(L, item);
    lua_rawset(L, -3);
  }
}

namespace {

// A table reached from several places is written once per place, as the game does. Copies are
// counted: past kMaxCopiedValues a variable is refused, since a few tables that each hold the
// next twice would otherwise be written 2^n times over (a few KB of Lua, gigabytes of file).
constexpr std::size_t kMaxCopiedValues = 100'000;

class Reader {
 public:
  explicit Reader(lua_State* L) : L_(L) {}

  savedvars::Value read(int index, const std::string& path, int depth) {
    ++values_;
    switch (lua_type(L_, index)) {
      case LUA_TNIL: return {};
      case LUA_TBOOLEAN: return static_cast<bool>(lua_toboolean(L_, index));
      case LUA_TNUMBER: {
        double d = lua_tonumber(L_, index);
        if (!std::isfinite(d)) throw std::runtime_error(path + ": cannot save a non-finite number");
        return d;
      }
      case LUA_TSTRING: {
        std::size_t len = 0;
        const char* s = lua_tolstring(L_, index, &len);
        return std::string(s, len);
      }
      case LUA_TTABLE: return table(index, path, depth);
      default:
        throw std::runtime_error(path + ": cannot save a " + lua_typename(L_, lua_type(L_, index)));
    }
  }

 private:
  savedvars::Value table(int index, const std::string& path, int depth) {
    if (depth >= savedvars::kMaxDepth) {
      throw std::runtime_error(path + ": tables nested deeper than " + std::to_string(savedvars::kMaxDepth));
    }
    const void* id = lua_topointer(L_, index);
    if (!on_path_.insert(id).second) throw std::runtime_error(path + ": cannot save a table that contains itself");
    // A copy's inner tables were all read before, inside the first copy: only the outermost
    // copy counts, with everything in it.
    bool outermost_copy = false;
    if (auto first = written_.find(id); first != written_.end() && !copying_) {
      copied_ += first->second.values;
      if (copied_ > kMaxCopiedValues) {
        throw std::runtime_error(path + ": cannot save tables reached from more than one place (here and " +
                                 first->second.path + ", among others) that would be copied over " +
                                 std::to_string(kMaxCopiedValues) + " values");
      }
      outermost_copy = copying_ = true;
    }
    luaL_checkstack(L_, 4, "SavedVariables nested too deeply");
    if (index < 0) index = lua_gettop(L_) + 1 + index;
    const std::size_t values_before = values_;
    savedvars::Table out;
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      std::string key_path = path + key_text(-2);
      savedvars::Value key = read_key(-2, key_path);
      out.set(std::move(key), read(-1, key_path, depth + 1));
      lua_pop(L_, 1);
    }
    on_path_.erase(id);
    if (outermost_copy) copying_ = false;
    written_.try_emplace(id, Written{values_ - values_before, path});
    return out;
  }

  savedvars::Value read_key(int index, const std::string& path) {
    int type = lua_type(L_, index);
    if (type == LUA_TTABLE || type == LUA_TFUNCTION || type == LUA_TUSERDATA || type == LUA_TTHREAD ||
        type == LUA_TLIGHTUSERDATA) {
      throw std::runtime_error(path + ": cannot save a " + lua_typename(L_, type) + " as a key");
    }
    return read(index, path, 0);
  }

  std::string key_text(int index) {
    if (lua_type(L_, index) == LUA_TSTRING) return "." + std::string(lua_tostring(L_, index));
    if (lua_type(L_, index) == LUA_TNUMBER) {
      lua_Number n = lua_tonumber(L_, index);
      return "[" + (std::trunc(n) == n ? std::to_string(static_cast<long long>(n)) : std::to_string(n)) + "]";
    }
    return std::string("[") + lua_typename(L_, lua_type(L_, index)) + "]";
  }

  struct Written {
    std::size_t values;  // keys and values inside the table, nested ones included
    std::string path;    // where it was first written
  };

  lua_State* L_;
  std::unordered_set<const void*> on_path_;  // tables being read: one seen again is a cycle
  std::unordered_map<const void*, Written> written_;  // tables read whole
  std::size_t values_ = 0;   // keys and values read so far
  std::size_t copied_ = 0;   // of those, in second and later copies of a table
  bool copying_ = false;     // inside a second or later copy
};

}  // namespace

savedvars::Value read_saved_value(lua_State* L, int index, const std::string& path) {
  return Reader(L).read(index, path, 0);
}

}  // namespace tally
