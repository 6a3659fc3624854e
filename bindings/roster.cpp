// Roster tables for the game API: members of the asking client's guild or group.
#include "bindings/roster.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "bindings/client.hpp"
#include "bindings/host.hpp"

namespace tally {

namespace {

void set_field(lua_State* L, const char* name, const std::string& value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, name);
}

void set_field(lua_State* L, const char* name, double value) {
  lua_pushnumber(L, value);
  lua_setfield(L, -2, name);
}

void set_flag(lua_State* L, const char* name, bool value) {
  lua_pushboolean(L, value ? 1 : 0);
  lua_setfield(L, -2, name);
}

// Whether two clients are in one group: the same raid, or the same party outside raids.
bool same_group(const ClientInfo& a, const ClientInfo& b) {
  if (a.raid_id != 0) return b.raid_id == a.raid_id;
  return a.party_id != 0 && b.raid_id == 0 && b.party_id == a.party_id;
}

// The members of `self`'s group in join order (the lowest id first: the group's leader).
std::vector<const Client*> group_of(const Client& self) {
  const AddonNetwork& network = self.host().network();
  const ClientInfo& mine = network.client(self.id());
  std::vector<const Client*> members;
  for (const auto& c : self.host().clients()) {
    if (same_group(mine, network.client(c->id()))) members.push_back(c.get());
  }
  return members;
}

void push_member(lua_State* L, const Client& member) {
  const Host& host = member.host();
  const ClientInfo& info = host.network().client(member.id());
  const auto& ranks = host.options().guild_ranks;
  int rank = std::clamp(member.options().guild_rank, 0, static_cast<int>(ranks.size()) - 1);
  std::vector<const Client*> group = group_of(member);
  lua_createtable(L, 0, 12);
  set_field(L, "name", info.name);
  set_field(L, "short", member.name());
  set_field(L, "guid", member.guid());
  set_field(L, "class_file", member.options().class_file);
  set_field(L, "level", member.options().level);
  set_flag(L, "online", info.online && member.logged_in());
  if (!info.guild.empty()) {
    set_field(L, "guild", info.guild);
    set_field(L, "rank_index", rank);
    set_field(L, "rank_name", ranks.empty() ? std::string() : ranks[static_cast<std::size_t>(rank)]);
  }
  set_flag(L, "raid", info.raid_id != 0);
  set_field(L, "subgroup", info.party_id == 0 ? 1 : info.party_id);
  set_flag(L, "leader", !group.empty() && group.front() == &member);
}

}  // namespace

int host_roster(lua_State* L) {
  auto& self = *static_cast<Client*>(lua_touserdata(L, lua_upvalueindex(1)));
  const char* kind = luaL_checkstring(L, 1);
  Host& host = self.host();
  std::vector<const Client*> members;
  if (std::strcmp(kind, "player") == 0) {
    members.push_back(&self);
  } else if (std::strcmp(kind, "guild") == 0) {
    const std::string& guild = host.network().client(self.id()).guild;
    if (!guild.empty()) {
      for (const auto& c : host.clients()) {
        if (host.network().client(c->id()).guild == guild) members.push_back(c.get());
      }
      std::sort(members.begin(), members.end(), [](const Client* a, const Client* b) { return a->name() < b->name(); });
    }
  } else if (std::strcmp(kind, "group") == 0) {
    members = group_of(self);
  } else {
    return luaL_error(L, "host.roster: unknown roster '%s'", kind);
  }
  lua_createtable(L, static_cast<int>(members.size()), 0);
  for (std::size_t i = 0; i < members.size(); ++i) {
    push_member(L, *members[i]);
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  return 1;
}

int host_roster_version(lua_State* L) {
  auto& self = *static_cast<Client*>(lua_touserdata(L, lua_upvalueindex(1)));
  lua_pushnumber(L, static_cast<lua_Number>(self.host().roster_version()));
  return 1;
}

}  // namespace tally
