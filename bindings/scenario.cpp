// The scenario director: a trusted Lua state with a `tally` table that drives the host.
#include "bindings/scenario.hpp"

#include <lua.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "bindings/lua_guard.hpp"
#include "bindings/lua_values.hpp"
#include "runtime/atomic_file.hpp"

namespace tally {

namespace {

constexpr const char* kClientMeta = "tally.scenario.client";

Scenario& scenario_of(lua_State* L) {
  return *static_cast<Scenario*>(lua_touserdata(L, lua_upvalueindex(1)));
}

// Client handles are userdata holding the client's name, resolved on every use.
Client& check_client(lua_State* L, int index) {
  auto* name = static_cast<std::string*>(luaL_checkudata(L, index, kClientMeta));
  lua_getfield(L, LUA_REGISTRYINDEX, "tally.scenario");
  auto* scenario = static_cast<Scenario*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  Client* client = scenario->host().find_client(*name);
  if (client == nullptr) luaL_error(L, "no client named '%s'", name->c_str());
  return *client;
}

void push_client(lua_State* L, const std::string& name) {
  void* block = lua_newuserdata(L, sizeof(std::string));
  new (block) std::string(name);
  luaL_getmetatable(L, kClientMeta);
  lua_setmetatable(L, -2);
}

int client_gc(lua_State* L) {
  static_cast<std::string*>(luaL_checkudata(L, 1, kClientMeta))->~basic_string();
  return 0;
}

int client_name(lua_State* L) {
  lua_pushstring(L, check_client(L, 1).name().c_str());
  return 1;
}

int client_slash(lua_State* L) {
  lua_pushboolean(L, check_client(L, 1).run_slash_command(luaL_checkstring(L, 2)));
  return 1;
}

int client_run(lua_State* L) {
  lua_pushboolean(L, check_client(L, 1).run_script(luaL_checkstring(L, 2), "=(scenario)"));
  return 1;
}

// c:eval("return expr") -> the values, copied; an error in the client raises here.
int client_eval(lua_State* L) {
  Client& client = check_client(L, 1);
  Client::Evaluation result = client.evaluate(luaL_checkstring(L, 2));
  if (!result.ok) return luaL_error(L, "%s: %s", client.name().c_str(), result.error.c_str());
  for (const auto& value : result.values) push_saved_value(L, value);
  return static_cast<int>(result.values.size());
}

// c:log([errors_only]) -> array of log lines
int client_log(lua_State* L) {
  Client& client = check_client(L, 1);
  bool errors_only = lua_toboolean(L, 2) != 0;
  lua_newtable(L);
  int n = 0;
  for (const auto& line : client.log()) {
    if (errors_only && !line.error) continue;
    lua_pushlstring(L, line.text.data(), line.text.size());
    lua_rawseti(L, -2, ++n);
  }
  return 1;
}

int client_fire(lua_State* L) {
  Client& client = check_client(L, 1);
  const char* event = luaL_checkstring(L, 2);
  std::vector<EventArg> args;
  for (int i = 3; i <= lua_gettop(L); ++i) {
    switch (lua_type(L, i)) {
      case LUA_TBOOLEAN: args.emplace_back(lua_toboolean(L, i) != 0); break;
      case LUA_TNUMBER: args.emplace_back(lua_tonumber(L, i)); break;
      case LUA_TSTRING: args.emplace_back(std::string(lua_tostring(L, i))); break;
      case LUA_TNIL: args.emplace_back(std::monostate{}); break;
      default: return luaL_argerror(L, i, "events carry nil, booleans, numbers and strings");
    }
  }
  client.fire_event(event, args);
  return 0;
}

int client_logout(lua_State* L) {
  check_client(L, 1).logout();
  return 0;
}

int client_login(lua_State* L) {
  check_client(L, 1).login();
  return 0;
}

int client_online(lua_State* L) {
  Client& client = check_client(L, 1);
  client.host().network().set_online(client.id(), lua_toboolean(L, 2) != 0);
  return 0;
}

// c:set_rank(index): the client's guild rank (0 = guild master); GUILD_ROSTER_UPDATE everywhere.
int client_set_rank(lua_State* L) {
  check_client(L, 1).set_guild_rank(static_cast<int>(luaL_checkinteger(L, 2)));
  return 0;
}

// c:set_group(raid [, party]): joins raid `raid` (0: leaves it) with subgroup or party `party`;
// GROUP_ROSTER_UPDATE everywhere.
int client_set_group(lua_State* L) {
  Client& client = check_client(L, 1);
  lua_Integer raid = luaL_checkinteger(L, 2), party = luaL_optinteger(L, 3, raid != 0 ? 1 : 0);
  if (raid < 0 || party < 0 || raid > 0xffffffffLL || party > 0xffffffffLL) {
    return luaL_error(L, "set_group: raid and party must be ids >= 0");
  }
  client.host().network().set_group(client.id(), static_cast<std::uint32_t>(raid), static_cast<std::uint32_t>(party));
  client.host().broadcast_event("GROUP_ROSTER_UPDATE");
  return 0;
}

// tally.share(from, to, ledgerName [, seed]) -> entries queued. A stand-in for sync in tests:
// every entry of `from`'s ledger goes into `to`'s remote queue (authorized there with stage
// "receive" and `from` as sender, committed over the next frames), shuffled when a seed is given.
int tally_share(lua_State* L) {
  Client& from = check_client(L, 1);
  Client& to = check_client(L, 2);
  const char* name = luaL_checkstring(L, 3);
  LedgerBinding* source = from.ledgers().find(name);
  LedgerBinding* target = to.ledgers().find(name);
  if (source == nullptr || target == nullptr) {
    return luaL_error(L, "tally.share: %s has no ledger named '%s'", (source ? to : from).name().c_str(), name);
  }
  std::vector<Entry> entries;
  entries.reserve(source->ledger().size());
  source->ledger().for_each(0, source->ledger().size(),
                            [&](std::size_t, const EntryView& e) { entries.push_back(e.to_entry()); });
  if (!lua_isnoneornil(L, 4)) {
    std::mt19937_64 random(static_cast<std::uint64_t>(luaL_checknumber(L, 4)));
    std::shuffle(entries.begin(), entries.end(), random);
  }
  const std::string& sender = from.host().network().client(from.id()).name;
  lua_pushnumber(L, static_cast<lua_Number>(target->enqueue_remote(std::move(entries), sender)));
  return 1;
}

// c:set_knobs(ledgerName, "batch=50,interval=0.5,budget=0"): the operator's knobs for one ledger
// (parse_knobs syntax, on top of the ledger's current knobs), from the next frame on.
int client_set_knobs(lua_State* L) {
  Client& client = check_client(L, 1);
  const char* name = luaL_checkstring(L, 2);
  LedgerBinding* ledger = client.ledgers().find(name);
  if (ledger == nullptr) return luaL_error(L, "set_knobs: %s has no ledger named '%s'", client.name().c_str(), name);
  ledger->planner().set_knobs(parse_knobs(luaL_checkstring(L, 3), ledger->planner().requested_knobs()));
  return 0;
}

// tally.client(name) -> handle
int tally_client(lua_State* L) {
  std::string name = luaL_checkstring(L, 1);
  if (scenario_of(L).host().find_client(name) == nullptr) return luaL_error(L, "no client named '%s'", name.c_str());
  push_client(L, name);
  return 1;
}

// tally.clients() -> array of handles, in host order
int tally_clients(lua_State* L) {
  lua_newtable(L);
  int n = 0;
  for (const auto& client : scenario_of(L).host().clients()) {
    push_client(L, client->name());
    lua_rawseti(L, -2, ++n);
  }
  return 1;
}

// tally.advance(seconds): runs frames at the scenario's fps until that much time has passed.
int tally_advance(lua_State* L) {
  Scenario& s = scenario_of(L);
  double seconds = luaL_checknumber(L, 1);
  if (!(seconds >= 0) || seconds > 86400 * 365) return luaL_error(L, "tally.advance: seconds must be in 0..31536000");
  auto frames = static_cast<long long>(std::llround(seconds * s.fps()));
  for (long long i = 0; i < frames; ++i) s.host().tick(1.0 / s.fps());
  return 0;
}

int tally_now(lua_State* L) {
  lua_pushnumber(L, scenario_of(L).host().now());
  return 1;
}

}  // namespace

Scenario::Scenario(Host& host, double fps) : host_(host), fps_(fps), L_(luaL_newstate()) {
  if (L_ == nullptr) throw std::runtime_error("cannot create the scenario's Lua state");
  luaL_openlibs(L_);
  lua_pushlightuserdata(L_, this);
  lua_setfield(L_, LUA_REGISTRYINDEX, "tally.scenario");

  luaL_newmetatable(L_, kClientMeta);
  lua_pushcfunction(L_, client_gc);
  lua_setfield(L_, -2, "__gc");
  lua_newtable(L_);
  const luaL_Reg methods[] = {{"name", client_name},     {"slash", client_slash},
                              {"run", client_run},       {"eval", client_eval},
                              {"log", client_log},       {"fire", client_fire},
                              {"logout", guarded<client_logout>}, {"login", client_login},
                              {"set_online", guarded<client_online>},
                              {"set_rank", guarded<client_set_rank>},
                              {"set_group", guarded<client_set_group>},
                              {"set_knobs", guarded<client_set_knobs>}, {nullptr, nullptr}};
  luaL_register(L_, nullptr, methods);
  lua_setfield(L_, -2, "__index");
  lua_pop(L_, 1);

  lua_newtable(L_);
  const std::pair<const char*, lua_CFunction> functions[] = {
      {"client", tally_client}, {"clients", tally_clients}, {"advance", guarded<tally_advance>}, {"now", tally_now},
      {"share", guarded<tally_share>}};
  for (const auto& [name, fn] : functions) {
    lua_pushlightuserdata(L_, this);
    lua_pushcclosure(L_, fn, 1);
    lua_setfield(L_, -2, name);
  }
  lua_setglobal(L_, "tally");
}

Scenario::~Scenario() { lua_close(L_); }

std::string Scenario::run_file(const std::filesystem::path& script) {
  std::string code;
  try {
    code = read_file(script);
  } catch (const std::exception& e) {
    return e.what();
  }
  std::string chunk = "@" + script.string();
  if (luaL_loadbuffer(L_, code.data(), code.size(), chunk.c_str()) != 0 || lua_pcall(L_, 0, 0, 0) != 0) {
    std::string message = lua_tostring(L_, -1) != nullptr ? lua_tostring(L_, -1) : "(non-string error)";
    lua_pop(L_, 1);
    return message;
  }
  return {};
}

}  // namespace tally
