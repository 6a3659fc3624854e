// An owned lua_State whose allocations are capped, so an allocation bomb fails only its client.
#pragma once

#include <cstddef>
#include <memory>

struct lua_State;

namespace tally {

class LuaState {
 public:
  // `memory_limit` bytes at most (0: unlimited). Throws std::runtime_error if no state can be made.
  explicit LuaState(std::size_t memory_limit);
  ~LuaState();
  LuaState(const LuaState&) = delete;
  LuaState& operator=(const LuaState&) = delete;

  lua_State* get() const { return L_; }
  std::size_t memory_used() const { return budget_->used; }
  std::size_t memory_limit() const { return budget_->limit; }
  void set_memory_limit(std::size_t limit) { budget_->limit = limit; }
  std::size_t refused_allocations() const { return budget_->refused; }

 private:
  struct Budget {
    std::size_t used = 0;
    std::size_t limit = 0;
    std::size_t refused = 0;
  };
  static void* allocate(void* ud, void* ptr, std::size_t old_size, std::size_t new_size);

  std::unique_ptr<Budget> budget_;
  lua_State* L_ = nullptr;
};

}  // namespace tally
