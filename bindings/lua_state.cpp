// The capped allocator behind every client's lua_State.
#include "bindings/lua_state.hpp"

#include <lua.hpp>

#include <cstdlib>
#include <stdexcept>

namespace tally {

void* LuaState::allocate(void* ud, void* ptr, std::size_t old_size, std::size_t new_size) {
  auto* budget = static_cast<Budget*>(ud);
  if (new_size == 0) {
    std::free(ptr);
    budget->used -= ptr != nullptr ? old_size : 0;
    return nullptr;
  }
  std::size_t old_bytes = ptr != nullptr ? old_size : 0;
  // Growth past the cap fails; Lua turns that into a "not enough memory" error in this state.
  if (budget->limit != 0 && new_size > old_bytes && budget->used - old_bytes + new_size > budget->limit) {
    ++budget->refused;
    return nullptr;
  }
  void* out = std::realloc(ptr, new_size);
  if (out == nullptr) return nullptr;
  budget->used = budget->used - old_bytes + new_size;
  if (budget->soft_limit != 0 && new_size > old_bytes && budget->used > budget->soft_limit) {
    budget->crossed = true;
    if (budget->over_soft != nullptr) budget->over_soft(budget->context);
  }
  return out;
}

LuaState::LuaState(std::size_t memory_limit) : budget_(std::make_unique<Budget>()) {
  // The base libraries need some room before the cap applies.
  L_ = lua_newstate(&LuaState::allocate, budget_.get());
  if (L_ == nullptr) throw std::runtime_error("cannot create a Lua state");
  budget_->limit = memory_limit;
  budget_->soft_limit = memory_limit - memory_limit / 8;
}

LuaState::~LuaState() {
  if (L_ != nullptr) lua_close(L_);
}

}  // namespace tally
