// An owned lua_State whose allocations are capped, so an allocation bomb fails only its client.
#pragma once

#include <cstddef>
#include <memory>

struct lua_State;

namespace tally {

// The cap has two levels. Allocations fail only at the hard limit; past the soft limit (the
// hard one less a reserve of an eighth) they still succeed, but the state reports that it is
// over, so its owner can stop addon code at a safe point while the VM's own allocations (GC
// steps, trace exits, the host's calls) find room. LuaJIT 2.1.0-beta3 cannot fail an allocation
// inside JIT-compiled code or a GC step run from it: it crashes (see docs/reliability.md).
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
  std::size_t soft_memory_limit() const { return budget_->soft_limit; }
  std::size_t refused_allocations() const { return budget_->refused; }
  // Called (from inside the allocator: it must not touch the Lua state) after every allocation
  // that leaves more than the soft limit in use.
  void on_over_soft_limit(void (*callback)(void*), void* context) {
    budget_->over_soft = callback;
    budget_->context = context;
  }
  // Whether an allocation went past the soft limit since the last call.
  bool take_soft_limit_crossed() {
    bool crossed = budget_->crossed;
    budget_->crossed = false;
    return crossed;
  }

 private:
  struct Budget {
    std::size_t used = 0;
    std::size_t limit = 0;
    std::size_t soft_limit = 0;
    std::size_t refused = 0;
    bool crossed = false;
    void (*over_soft)(void*) = nullptr;
    void* context = nullptr;
  };
  static void* allocate(void* ud, void* ptr, std::size_t old_size, std::size_t new_size);

  std::unique_ptr<Budget> budget_;
  lua_State* L_ = nullptr;
};

}  // namespace tally
