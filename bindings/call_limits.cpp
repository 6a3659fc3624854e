// The state's CallLimits, and coroutine.resume/wrap counted as nesting (see call_limits.hpp).
#include "bindings/call_limits.hpp"

#include <lua.hpp>

#include "bindings/lua_instrument.hpp"
#include "bindings/lua_patterns.hpp"

#include <new>

namespace tally {

namespace {

constexpr const char* kLimitsKey = "tally.call_limits";

// Calls upvalue 2 (coroutine.resume, or the function coroutine.wrap made) with the arguments,
// as one level of nesting: each resume nests the coroutine's run on the C stack.
int nested_coroutine_call(lua_State* L) {
  CallLimits& limits = *call_limits_upvalue(L);
  const void* frame = __builtin_frame_address(0);
  if (!limits.nesting.enter(frame)) {
    return luaL_error(L, "coroutine nesting too deep (over %d levels, or too much C stack)", CallNesting::kMaxDepth);
  }
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  limits.nesting.leave(frame);
  return lua_gettop(L);
}

// table.sort(t, comp): the comparator may sort again; Lua's stack limit ends that within one
// coroutine, not across nested ones.
int stack_checked_sort(lua_State* L) {
  if (!call_limits_upvalue(L)->nesting.room(__builtin_frame_address(0))) {
    return luaL_error(L, "stack overflow (C calls nested too deep through table.sort)");
  }
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 0);
  return 0;
}

int nested_resume(lua_State* L) {
  if (lua_type(L, 1) != LUA_TTHREAD) return luaL_argerror(L, 1, "coroutine expected");
  return nested_coroutine_call(L);
}

// coroutine.wrap(f): the original's function, called through nested_coroutine_call.
int nested_wrap(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, 1, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, -2);
  lua_pushcclosure(L, nested_coroutine_call, 2);
  return 1;
}

// Replaces library[name] with fn, which gets (limits, the original) as upvalues.
void wrap_member(lua_State* L, const char* name, lua_CFunction fn, int limits_index) {
  lua_pushvalue(L, limits_index);
  lua_getfield(L, -2, name);
  lua_pushcclosure(L, fn, 2);
  lua_setfield(L, -2, name);
}

}  // namespace

void install_call_limits(lua_State* L, RunawayGuard* guard) {
  auto* limits = new (lua_newuserdata(L, sizeof(CallLimits))) CallLimits{guard, {}};
  lua_setfield(L, LUA_REGISTRYINDEX, kLimitsKey);  // keeps the userdata alive with the state
  lua_pushlightuserdata(L, limits);
  int limits_index = lua_gettop(L);
  lua_getglobal(L, "string");
  install_bounded_patterns(L, limits_index);
  lua_pop(L, 1);
  lua_getglobal(L, "coroutine");
  wrap_member(L, "resume", nested_resume, limits_index);
  wrap_member(L, "wrap", nested_wrap, limits_index);
  lua_pop(L, 1);
  lua_getglobal(L, "table");
  wrap_member(L, "sort", stack_checked_sort, limits_index);
  lua_pop(L, 2);
}

void reset_call_limits(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kLimitsKey);
  if (auto* limits = static_cast<CallLimits*>(lua_touserdata(L, -1))) {
    limits->nesting.reset(__builtin_frame_address(0));
  }
  lua_pop(L, 1);
}

CallLimits* call_limits_upvalue(lua_State* L) {
  return static_cast<CallLimits*>(lua_touserdata(L, lua_upvalueindex(1)));
}

void check_runaway(lua_State* L, CallLimits& limits) {
  if (limits.guard->next_budget() != 0) return;
  luaL_where(L, 1);
  lua_pushstring(L, "script ran too long");
  lua_concat(L, 2);
  lua_error(L);
}

}  // namespace tally
