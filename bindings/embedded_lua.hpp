// Lua glue compiled into the binary (generated from bindings/lua/*.lua at build time).
#pragma once

#include <cstddef>

namespace tally {

extern const char kGameApiLua[];
extern const std::size_t kGameApiLuaSize;
extern const char kLedgerApiLua[];
extern const std::size_t kLedgerApiLuaSize;
extern const char kModelApiLua[];
extern const std::size_t kModelApiLuaSize;

}  // namespace tally
