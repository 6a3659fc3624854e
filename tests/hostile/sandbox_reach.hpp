// What addon code in a client's Lua state can reach, and whether any of the host's privileged
// objects (the registry, the libraries the sandbox removed, the game API's internals, ledger
// bindings, cdata) is among it.
#pragma once

#include <string>
#include <vector>

struct lua_State;

namespace hostile {

// Walks everything reachable from the globals, the string metatable and the addons' private
// tables through table keys, values and metatables (what addon code can follow without the
// debug library), and returns one line per privileged object found: where, and what it is.
// Allocates nothing in the Lua state, so it works on a state whose heap is full.
std::vector<std::string> sandbox_leaks(lua_State* L);

}  // namespace hostile
