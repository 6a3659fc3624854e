// Lua table constructors as SavedVariables files hold them, read and written without a Lua VM.
// Values are modelled as JSON values whose strings may hold any bytes: lists are arrays,
// string-keyed tables are objects, integers stay integers.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tally {

// Malformed text; the message is "<source>:<line>:<column>: <what>".
class LuaTextError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `name = { ... }` in the game's style: tabs, ["key"] = value, list items with a `-- [i]`
// comment, trailing commas, keys in sorted order. Throws std::invalid_argument naming the path
// of a value Lua files cannot hold (a non-finite number, null).
std::string write_saved_variable(std::string_view name, const nlohmann::json& value);

// Every `name = value` statement of a SavedVariables file, in file order. Tables must be lists
// or string-keyed (what ledger documents use); nesting is limited to 200 levels.
std::vector<std::pair<std::string, nlohmann::json>> read_saved_variables(std::string_view text,
                                                                         std::string_view source_name);

}  // namespace tally
