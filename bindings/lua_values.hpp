// Moving SavedVariables values between a Lua state and their plain C++ form.
#pragma once

#include <string>

#include "runtime/saved_variables.hpp"

struct lua_State;

namespace tally {

// Pushes a copy of value onto the Lua stack.
void push_saved_value(lua_State* L, const savedvars::Value& value);

// Reads the value at `index` for saving. Throws std::runtime_error naming the path
// ("GuildDKP_DB.players.Alice: cannot save a function") for functions, userdata, threads,
// cycles, tables nested deeper than the SavedVariables limit, non-finite numbers, and tables
// reached from several places whose copies (each place gets one) would hold over 100,000 values.
savedvars::Value read_saved_value(lua_State* L, int index, const std::string& path);

}  // namespace tally
