// Limits on work that runs inside one C function call, where no budget tick of the addon's
// instrumented code runs: pattern matching (lua_patterns.hpp) and C functions that call back
// into Lua (string.gsub callbacks, coroutine.resume/wrap), whose nesting LuaJIT does not bound
// before the C stack overflows (SIGSEGV).
#pragma once

#include <cstdint>

struct lua_State;

namespace tally {

class RunawayGuard;

// How deep C calls that can call back into Lua nest, counted by their C stack frames. A level
// that an error unwound (no leave() ran) is dropped the next time a level at or above its
// frame enters or leaves, so errors caught by pcall never leave stale levels behind. Besides
// the count, the C stack used since the call into addon code began is bounded: each coroutine
// has a Lua stack of its own, so table.sort or __tostring recursion (about 300 bytes of C
// stack a level, until Lua's "stack overflow") inside nested coroutines adds up.
class CallNesting {
 public:
  static constexpr int kMaxDepth = 150;
#if defined(__SANITIZE_ADDRESS__)
  static constexpr long kMaxStackBytes = 6L << 20;  // instrumented frames are larger
#else
  static constexpr long kMaxStackBytes = 3L << 20;
#endif

  // Whether the C stack at `frame` is within kMaxStackBytes of the call's start.
  bool room(const void* frame) const {
    return base_ == nullptr || static_cast<const char*>(base_) - static_cast<const char*>(frame) < kMaxStackBytes;
  }
  // Enters a level whose C frame is `frame`; false (nothing entered) past kMaxDepth or without room.
  bool enter(const void* frame) {
    drop_unwound(frame);
    if (depth_ == kMaxDepth || !room(frame)) return false;
    frames_[depth_++] = frame;
    return true;
  }
  void leave(const void* frame) { drop_unwound(frame); }
  // A call into addon code starts with its C stack at `base`.
  void reset(const void* base) {
    depth_ = 0;
    base_ = base;
  }

 private:
  // The stack grows down: a level entered at or below `frame` is not live any more.
  void drop_unwound(const void* frame) {
    while (depth_ > 0 && frames_[depth_ - 1] <= frame) --depth_;
  }
  const void* frames_[kMaxDepth] = {};
  int depth_ = 0;
  const void* base_ = nullptr;
};

// What the bounded library functions of one Lua state share; lives in a userdata the registry
// holds, so it goes away with the state.
struct CallLimits {
  RunawayGuard* guard;
  CallNesting nesting;
};

// Replaces string.find/match/gmatch/gsub with the bounded matcher, coroutine.resume/wrap with
// versions that count nesting and table.sort with one that checks the C stack (before the
// sandbox's lock_down; game_api.lua captures them).
void install_call_limits(lua_State* L, RunawayGuard* guard);

// A call into addon code starts here: forgets nesting an error left, and measures the C stack
// from the caller's frame.
void reset_call_limits(lua_State* L);

// The state's limits (for the bounded functions, which get them as upvalue 1).
CallLimits* call_limits_upvalue(lua_State* L);

// Raises "<where>: script ran too long" when the guard says the call has run too long.
void check_runaway(lua_State* L, CallLimits& limits);

}  // namespace tally
