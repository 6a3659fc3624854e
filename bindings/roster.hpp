// The guild and group rosters as the game API reports them: who is in the player's guild and
// raid or party, with rank, class, level and online state, drawn from the host's clients.
#pragma once

#include <lua.hpp>

namespace tally {

class Client;

// host.roster(kind) for game_api.lua, with the asking Client as upvalue 1. kind "player": the
// player alone; "guild": the player's guild sorted by name; "group": the player's raid (or
// party) in join order. Each member is a table { name = "Name-Realm", short, guid, class_file,
// level, online, guild, rank_index, rank_name, raid, subgroup, leader }.
int host_roster(lua_State* L);
// host.roster_version(): changes whenever a roster would (game_api.lua caches rosters on it).
int host_roster_version(lua_State* L);

}  // namespace tally
