// One simulated client: builds its sandboxed Lua state, loads addons the way the game does,
// drives events and frames, and reads and writes SavedVariables.
#include "bindings/client.hpp"

#include <lua.hpp>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <stdexcept>

#include "bindings/lua_guard.hpp"
#include "bindings/embedded_lua.hpp"
#include "bindings/host.hpp"
#include "bindings/lua_values.hpp"
#include "bindings/profiler.hpp"
#include "bindings/client_sync.hpp"
#include "bindings/roster.hpp"
#include "bindings/sandbox.hpp"
#include "bindings/wrap_ledger.hpp"
#include "runtime/atomic_file.hpp"

// The FFI entry points of profiling, called by game_api.lua around each call into addon code
// (an FFI call stays in compiled traces, where a lua_CFunction call would break them).
// enter returns the depth to hand to leave, 0 when it failed; leave(0) does nothing.
extern "C" int tally_profile_enter(void* profiler, int owner, int work, const char* label,
                                   std::size_t len) {
  using tally::AddonProfiler, tally::AddonWork;
  try {
    auto kind = static_cast<std::size_t>(work) < tally::kAddonWorkKinds ? static_cast<AddonWork>(work)
                                                                        : AddonWork::Callback;
    std::string_view text = label != nullptr ? std::string_view(label, len) : std::string_view();
    return static_cast<int>(static_cast<AddonProfiler*>(profiler)->enter(
        static_cast<AddonProfiler::Owner>(owner), kind, text, AddonProfiler::Clock::now()));
  } catch (...) {
    return 0;  // an FFI call must not throw; this call goes unmeasured
  }
}

extern "C" void tally_profile_leave(void* profiler, int depth) {
  static_cast<tally::AddonProfiler*>(profiler)->leave(static_cast<std::size_t>(depth),
                                                       tally::AddonProfiler::Clock::now());
}

namespace tally {

namespace {

// ---------------------------------------------------------------------------------------------
// Host functions given to game_api.lua. Each gets its Client as upvalue 1; the ones that can
// throw are registered through guarded<> (lua_guard.hpp).

Client& client_of(lua_State* L) {
  return *static_cast<Client*>(lua_touserdata(L, lua_upvalueindex(1)));
}

// The text is handed over as a view: the log copies only what it keeps of a long line.
int host_log(lua_State* L) {
  std::size_t len = 0;
  const char* text = luaL_checklstring(L, 1, &len);
  client_of(L).append_log(false, {text, len});
  return 0;
}

int host_log_error(lua_State* L) {
  std::size_t len = 0;
  const char* text = luaL_checklstring(L, 1, &len);
  client_of(L).append_log(true, {text, len});
  return 0;
}

int host_precise_time(lua_State* L) {
  lua_pushnumber(L, client_of(L).host().now());
  return 1;
}

int host_server_time(lua_State* L) {
  lua_pushnumber(L, client_of(L).host().server_time());
  return 1;
}

int host_is_logged_in(lua_State* L) {
  lua_pushboolean(L, client_of(L).logged_in());
  return 1;
}

int field_or(lua_State* L, const char* name, int fallback) {
  lua_getfield(L, 1, name);
  int value = lua_isnumber(L, -1) ? static_cast<int>(lua_tointeger(L, -1)) : fallback;
  if (!lua_isnil(L, -1) && !lua_isnumber(L, -1)) luaL_error(L, "time: field '%s' is not a number", name);
  lua_pop(L, 1);
  return value;
}

// time(table): Unix seconds of a UTC date table (the host runs every client on UTC).
int host_make_time(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  std::tm t{};
  t.tm_year = field_or(L, "year", -1) - 1900;
  t.tm_mon = field_or(L, "month", -1) - 1;
  t.tm_mday = field_or(L, "day", -1);
  if (t.tm_year < -1899 || t.tm_mon < -1 || t.tm_mday < 0) return luaL_error(L, "time: table needs year, month and day");
  t.tm_hour = field_or(L, "hour", 12);
  t.tm_min = field_or(L, "min", 0);
  t.tm_sec = field_or(L, "sec", 0);
  lua_pushnumber(L, static_cast<lua_Number>(timegm(&t)));
  return 1;
}

// date([format [, time]]) on UTC; "*t" gives a table, as os.date does.
int host_date(lua_State* L) {
  std::string format = luaL_optstring(L, 1, "%c");
  auto when = static_cast<std::time_t>(luaL_optnumber(L, 2, client_of(L).host().server_time()));
  if (!format.empty() && format[0] == '!') format.erase(0, 1);
  std::tm t{};
  if (gmtime_r(&when, &t) == nullptr) return luaL_error(L, "date: time out of range");
  if (format == "*t") {
    lua_createtable(L, 0, 9);
    const std::pair<const char*, int> fields[] = {
        {"year", t.tm_year + 1900}, {"month", t.tm_mon + 1}, {"day", t.tm_mday},
        {"hour", t.tm_hour},        {"min", t.tm_min},       {"sec", t.tm_sec},
        {"wday", t.tm_wday + 1},    {"yday", t.tm_yday + 1}};
    for (const auto& [name, value] : fields) {
      lua_pushinteger(L, value);
      lua_setfield(L, -2, name);
    }
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "isdst");
    return 1;
  }
  if (format.size() > 256) return luaL_error(L, "date: format longer than 256 characters");
  char buffer[1024];
  std::size_t n = std::strftime(buffer, sizeof buffer, format.c_str(), &t);
  lua_pushlstring(L, buffer, n);
  return 1;
}

// C_ChatInfo.RegisterAddonMessagePrefix(prefix) -> Enum.RegisterAddonMessagePrefixResult
int host_register_prefix(lua_State* L) {
  std::size_t len = 0;
  const char* prefix = luaL_checklstring(L, 1, &len);
  Client& c = client_of(L);
  lua_pushinteger(L, static_cast<int>(c.host().network().register_prefix(c.id(), {prefix, len})));
  return 1;
}

int host_is_prefix_registered(lua_State* L) {
  std::size_t len = 0;
  const char* prefix = luaL_checklstring(L, 1, &len);
  Client& c = client_of(L);
  lua_pushboolean(L, c.host().network().is_prefix_registered(c.id(), {prefix, len}));
  return 1;
}

// C_ChatInfo.SendAddonMessage(prefix, text [, chatType [, target]]) -> Enum.SendAddonMessageResult
int host_send_addon_message(lua_State* L) {
  std::size_t prefix_len = 0, text_len = 0, type_len = 0, target_len = 0;
  const char* prefix = luaL_checklstring(L, 1, &prefix_len);
  const char* text = luaL_checklstring(L, 2, &text_len);
  const char* chat_type = luaL_optlstring(L, 3, "PARTY", &type_len);
  const char* target = luaL_optlstring(L, 4, "", &target_len);
  Client& c = client_of(L);
  auto result = c.host().network().send(c.id(), {prefix, prefix_len}, {text, text_len},
                                        {chat_type, type_len}, {target, target_len});
  lua_pushinteger(L, static_cast<int>(result));
  return 1;
}

// host.ledger_new(name, persist) -> ledger userdata. Persistent ledgers journal to
// <saved>/<Character>/Ledgers/<name>.journal.
int host_ledger_new(lua_State* L) {
  std::string name = luaL_checkstring(L, 1);
  bool persist = lua_toboolean(L, 2) != 0;
  bool file_safe = !name.empty() && name.size() <= 64 &&
                   std::all_of(name.begin(), name.end(), [](char c) {
                     return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
                   }) && name[0] != '.';
  if (!file_safe) {
    return luaL_error(L, "Tally.NewLedger: name '%s' must be 1-64 letters, digits, '_', '-' or '.'", name.c_str());
  }
  Client& c = client_of(L);
  LedgerBindingOptions options;
  options.name = name;
  options.forced_knobs = c.host().options().forced_knobs;
  options.decode_ahead = c.host().options().decode_ahead;
  if (persist && !c.options().saved_variables_dir.empty()) {
    options.journal = c.options().saved_variables_dir / c.name() / "Ledgers" / (name + ".journal");
  }
  std::vector<std::string> warnings;
  push_ledger(L, std::move(options), &warnings, &c.ledgers());
  for (const auto& w : warnings) c.append_log(true, "ledger " + name + ": " + w);
  return 1;
}

// host.ledger_sync(ledger, prefix, protocol, lanes): the ledger syncs with the other clients of
// the guild over addon messages on `prefix` (and prefix2.. prefixN for lanes > 1), reserved for
// it: addons do not see their messages.
int host_ledger_sync(lua_State* L) {
  LedgerBinding* binding = to_ledger_binding(L, 1);
  std::string prefix = luaL_checkstring(L, 2);
  std::string protocol = luaL_optstring(L, 3, "tally");
  lua_Integer lanes = luaL_optinteger(L, 4, 3);
  Client& c = client_of(L);
  if (lanes < 1 || lanes > static_cast<lua_Integer>(SyncLink::kMaxLanes)) return luaL_error(L, "sync: lanes must be 1..9");
  std::size_t longest = prefix.size() + (lanes > 1 ? 1 : 0);
  if (prefix.empty() || longest > 16) {
    return luaL_error(L, "sync: prefix '%s' must be 1-16 characters (15 with lanes)", prefix.c_str());
  }
  auto link = make_client_sync(c, *binding, prefix, protocol, static_cast<std::size_t>(lanes));
  for (const std::string& p : link->prefixes()) {
    if (c.ledgers().sync_for_prefix(p) != nullptr) {
      return luaL_error(L, "sync: prefix '%s' is already used by another ledger", p.c_str());
    }
    auto result = c.host().network().register_prefix(c.id(), p);
    if (result != RegisterPrefixResult::Success && result != RegisterPrefixResult::DuplicatePrefix) {
      return luaL_error(L, "sync: cannot register prefix '%s' (result %d)", p.c_str(), static_cast<int>(result));
    }
  }
  c.ledgers().attach_sync(binding, std::move(link));
  return 0;
}

// host.ledger_sync_status(ledger) -> { state, prefix, peers = { [name] = {...} }, ... } | nil
int host_ledger_sync_status(lua_State* L) {
  LedgerBinding* binding = to_ledger_binding(L, 1);
  Client& c = client_of(L);
  SyncLink* link = c.ledgers().sync_of(binding);
  if (link == nullptr) return 0;
  push_sync_status(L, *link, binding->ledger(), c.host().now());
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Profiling (bindings/profiler.hpp): game_api.lua reports each call into addon code; addons read
// the figures through C_AddOnProfiler and GetAddOnCPUUsage.

AddonProfiler& profiler_of(lua_State* L) { return client_of(L).profiler(); }

// host.function_owner(fn) -> the owner id of the addon whose file defined fn (0: none)
int host_function_owner(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_Debug ar;
  lua_pushvalue(L, 1);
  lua_getinfo(L, ">S", &ar);
  lua_pushinteger(L, profiler_of(L).owner_of_chunk(ar.source));
  return 1;
}

// host.caller_owner() -> the owner id of the innermost addon function on the stack (0: none)
int host_caller_owner(lua_State* L) {
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar) != 0; ++level) {
    lua_getinfo(L, "S", &ar);
    AddonProfiler::Owner owner = profiler_of(L).owner_of_chunk(ar.source);
    if (owner != AddonProfiler::kUnattributed) {
      lua_pushinteger(L, owner);
      return 1;
    }
  }
  lua_pushinteger(L, AddonProfiler::kUnattributed);
  return 1;
}

// host.profile_metric(addonName | nil, metric) -> the metric (0 for an addon not loaded)
int host_profile_metric(lua_State* L) {
  auto metric = static_cast<ProfilerMetric>(luaL_checkinteger(L, 2));
  AddonProfiler& profiler = profiler_of(L);
  if (lua_isnil(L, 1)) {
    lua_pushnumber(L, profiler.metric(std::nullopt, metric));
  } else {
    auto owner = profiler.find(luaL_checkstring(L, 1));
    lua_pushnumber(L, owner ? profiler.metric(*owner, metric) : 0.0);
  }
  return 1;
}

// host.cpu_usage(addonName) -> ms as of the last update_cpu_usage() (0: an addon not loaded)
int host_cpu_usage(lua_State* L) {
  AddonProfiler& profiler = profiler_of(L);
  auto owner = profiler.find(luaL_checkstring(L, 1));
  lua_pushnumber(L, owner ? profiler.cpu_usage(*owner) : 0.0);
  return 1;
}

int host_update_cpu_usage(lua_State* L) {
  profiler_of(L).update_cpu_usage(AddonProfiler::Clock::now());
  return 0;
}

int host_reset_cpu_usage(lua_State* L) {
  profiler_of(L).reset_cpu_usage();
  return 0;
}

// host.clock_ms() -> ms on the monotonic wall clock (debugprofilestop)
int host_clock_ms(lua_State* L) {
  auto now = AddonProfiler::Clock::now().time_since_epoch();
  lua_pushnumber(L, std::chrono::duration<double, std::milli>(now).count());
  return 1;
}

void set_function(lua_State* L, Client* client, const char* name, lua_CFunction fn) {
  lua_pushlightuserdata(L, client);
  lua_pushcclosure(L, fn, 1);
  lua_setfield(L, -2, name);
}

void set_string(lua_State* L, const char* name, const std::string& value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, name);
}

std::string pop_error(lua_State* L) {
  const char* message = lua_tostring(L, -1);
  std::string text = message != nullptr ? message : "(error object is not a string)";
  lua_pop(L, 1);
  return text;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Client::Client(Host& host, std::uint32_t id, ClientOptions options)
    : host_(host), id_(id), options_(std::move(options)), lua_(std::make_unique<LuaState>(options_.memory_limit)) {
  if (options_.player_id == 0) {
    // A stable id from the name, so a client keeps its GUID across runs.
    std::uint32_t h = 2166136261u;
    for (char c : options_.name) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    options_.player_id = h;
  }
  install_game_api();
}

Client::~Client() = default;

std::string Client::guid() const {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "Player-%u-%08X", static_cast<unsigned>(options_.realm_id),
                static_cast<unsigned>(options_.player_id));
  return buffer;
}

void Client::set_guild_rank(int rank) {
  int ranks = static_cast<int>(host_.options().guild_ranks.size());
  if (rank < 0 || rank >= ranks) {
    throw std::invalid_argument("guild rank " + std::to_string(rank) + " is not in 0.." + std::to_string(ranks - 1));
  }
  options_.guild_rank = rank;
  host_.note_rank_change();
  host_.broadcast_event("GUILD_ROSTER_UPDATE", {false});
}

void Client::install_game_api() {
  lua_State* L = lua_->get();
  out_of_memory_ = false;
  // Past the soft memory limit, addon code stops at its next budget check (see protect()).
  lua_->on_over_soft_limit([](void* guard) { static_cast<RunawayGuard*>(guard)->stop_for_memory(); }, &guard_);
  open_allowed_libraries(L);
  install_runaway_guard(L, &guard_);
  install_safe_builtins(L);
  // math.random must give the same sequence for the same client on every run.
  lua_getglobal(L, "math");
  lua_getfield(L, -1, "randomseed");
  lua_pushnumber(L, options_.player_id);
  lua_call(L, 1, 0);
  lua_pop(L, 1);

  // The FFI module, opened once (each luaopen_ffi starts a new C type state), stays at the
  // bottom of this stack: game_api.lua and ledger_api.lua get it, nothing else does.
  lua_pushcfunction(L, luaopen_ffi);
  lua_call(L, 0, 1);
  if (luaL_loadbuffer(L, kGameApiLua, kGameApiLuaSize, "=[tally game_api.lua]") != 0) {
    throw std::runtime_error("game_api.lua: " + pop_error(L));
  }
  lua_createtable(L, 0, 20);
  lua_getglobal(L, "debug");
  lua_getfield(L, -1, "traceback");
  lua_setfield(L, -3, "traceback");
  lua_pop(L, 1);
  set_function(L, this, "log", guarded<host_log>);
  set_function(L, this, "log_error", guarded<host_log_error>);
  set_function(L, this, "precise_time", host_precise_time);
  set_function(L, this, "server_time", host_server_time);
  set_function(L, this, "is_logged_in", host_is_logged_in);
  set_function(L, this, "make_time", host_make_time);
  set_function(L, this, "date", guarded<host_date>);
  set_function(L, this, "register_prefix", guarded<host_register_prefix>);
  set_function(L, this, "is_prefix_registered", host_is_prefix_registered);
  set_function(L, this, "send_addon_message", guarded<host_send_addon_message>);
  set_function(L, this, "ledger_new", guarded<host_ledger_new>);
  set_function(L, this, "roster", guarded<host_roster>);
  set_function(L, this, "roster_version", host_roster_version);
  set_function(L, this, "ledger_sync", guarded<host_ledger_sync>);
  set_function(L, this, "ledger_sync_status", guarded<host_ledger_sync_status>);
  if (options_.profile_addons) {  // absent: game_api.lua skips the accounting
    lua_pushlightuserdata(L, &profiler_);
    lua_setfield(L, -2, "profiler");
    lua_pushlightuserdata(L, reinterpret_cast<void*>(&tally_profile_enter));
    lua_setfield(L, -2, "profile_enter");
    lua_pushlightuserdata(L, reinterpret_cast<void*>(&tally_profile_leave));
    lua_setfield(L, -2, "profile_leave");
  }
  set_function(L, this, "function_owner", host_function_owner);
  set_function(L, this, "caller_owner", host_caller_owner);
  set_function(L, this, "profile_metric", guarded<host_profile_metric>);
  set_function(L, this, "cpu_usage", host_cpu_usage);
  set_function(L, this, "update_cpu_usage", host_update_cpu_usage);
  set_function(L, this, "reset_cpu_usage", host_reset_cpu_usage);
  set_function(L, this, "clock_ms", host_clock_ms);
  lua_createtable(L, 0, static_cast<int>(kAddonWorkKinds));
  for (std::size_t work = 0; work < kAddonWorkKinds; ++work) {
    lua_pushinteger(L, static_cast<lua_Integer>(work));
    lua_setfield(L, -2, std::string(work_name(static_cast<AddonWork>(work))).c_str());
  }
  lua_setfield(L, -2, "profile_work");
  lua_pushnumber(L, options_.player_id);
  lua_setfield(L, -2, "player_id");
  set_string(L, "player_name", options_.name);
  set_string(L, "player_guid", guid());
  set_string(L, "realm_name", options_.realm);
  set_string(L, "build_version", host_.options().build_version);
  set_string(L, "build_number", host_.options().build_number);
  set_string(L, "build_date", host_.options().build_date);
  lua_pushinteger(L, host_.options().interface_version);
  lua_setfield(L, -2, "interface_version");
  const auto& ranks = host_.options().guild_ranks;
  lua_createtable(L, static_cast<int>(ranks.size()), 0);
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    lua_pushlstring(L, ranks[i].data(), ranks[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  lua_setfield(L, -2, "guild_ranks");
  lua_pushvalue(L, -1);
  lua_insert(L, -3);  // keep the host table for ledger_api.lua
  lua_pushvalue(L, -4);  // ffi
  if (lua_pcall(L, 2, 1, 0) != 0) throw std::runtime_error("game_api.lua: " + pop_error(L));
  // ledger_api.lua gets (host, internal, ffi); ffi goes nowhere else.
  if (luaL_loadbuffer(L, kLedgerApiLua, kLedgerApiLuaSize, "=[tally ledger_api.lua]") != 0) {
    throw std::runtime_error("ledger_api.lua: " + pop_error(L));
  }
  lua_pushvalue(L, -3);
  lua_pushvalue(L, -3);
  lua_pushvalue(L, -6);  // ffi
  if (lua_pcall(L, 3, 0, 0) != 0) throw std::runtime_error("ledger_api.lua: " + pop_error(L));
  // model_api.lua (commands, queries, reports, repositories, sagas) gets (host, internal).
  if (luaL_loadbuffer(L, kModelApiLua, kModelApiLuaSize, "=[tally model_api.lua]") != 0) {
    throw std::runtime_error("model_api.lua: " + pop_error(L));
  }
  lua_pushvalue(L, -3);
  lua_pushvalue(L, -3);
  if (lua_pcall(L, 2, 0, 0) != 0) throw std::runtime_error("model_api.lua: " + pop_error(L));
  internal_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 2);  // the host table and ffi
  lock_down(L);
}

void Client::append_log(bool error, std::string_view text) {
  const LogLine& line = log_.append(host_.now(), error, text);
  if (sink_) sink_(*this, line);
}

// Every entry from C++ into the client's Lua state runs inside lua_cpcall, so a Lua error,
// including running out of the client's memory while pushing arguments, ends here: it is
// logged and the client goes on.
namespace {
struct ProtectedBody {
  const std::function<void(lua_State*)>* body;
};
int run_protected_body(lua_State* L) {
  auto* call = static_cast<ProtectedBody*>(lua_touserdata(L, 1));
  lua_pop(L, 1);
  reset_budget(L);
  (*call->body)(L);
  return 0;
}
}  // namespace

bool Client::protect(const std::function<void(lua_State*)>& body) {
  lua_State* L = lua_->get();
  ProtectedBody call{&body};
  int top = lua_gettop(L);
  std::size_t refused_before = lua_->refused_allocations();
  auto limit = std::chrono::duration_cast<RunawayGuard::Clock::duration>(
      std::chrono::duration<double>(options_.script_time_limit));
  guard_.arm(RunawayGuard::Clock::now() + limit);
  if (out_of_memory_) guard_.stop_for_memory();
  lua_->take_soft_limit_crossed();
  std::size_t profiled = profiler_.depth();
  bool ok = lua_cpcall(L, run_protected_body, &call) == 0;
  std::string message;
  profiler_.unwind_to(profiled);  // calls an error left open
  if (!ok) {
    message = pop_error(L);
    lua_settop(L, top);
    append_log(true, message);
  }
  if (guard_.disarm() && message.find("script ran too long") == std::string::npos) {
    // The addon caught the kill itself and returned: the call failed all the same.
    append_log(true, "script ran too long (the error was caught by addon code)");
    ok = false;
  }
  // Past the soft limit (once out of memory, only on a refused allocation: the heap stays there).
  bool crossed = lua_->take_soft_limit_crossed();
  if (lua_->refused_allocations() != refused_before || (crossed && !out_of_memory_)) {
    // LuaJIT does not collect before failing an allocation: free what the failed code left so
    // the client can run again.
    lua_gc(L, LUA_GCCOLLECT, 0);
    append_log(true, "memory limit of " + std::to_string(lua_->memory_limit() >> 20) + " MiB reached; " +
                         std::to_string(lua_->memory_used() >> 10) + " KiB in use after collecting");
    if (!out_of_memory_ && lua_->memory_used() > lua_->soft_memory_limit()) mark_out_of_memory(L);
  }
  return ok;
}

// What the addons keep fills the client's memory: their code stops for the rest of the session
// (every call into it stops at its first budget check) and the JIT compiler is turned off, since
// the host's own Lua still runs and an allocation that fails in compiled code crashes LuaJIT.
void Client::mark_out_of_memory(lua_State* L) {
  out_of_memory_ = true;
  luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
  append_log(true, "out of memory: the addons keep " + std::to_string(lua_->memory_used() >> 10) +
                       " KiB, over the " + std::to_string(lua_->soft_memory_limit() >> 10) + " KiB they may use of the " +
                       std::to_string(lua_->memory_limit() >> 20) +
                       " MiB memory limit; addon code is stopped until the next login");
}

// Calls internals[function] with the nargs values on top of the stack (inside protect()).
void Client::call_internal(lua_State* L, const char* function, int nargs, int nresults) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, internal_ref_);
  lua_getfield(L, -1, function);
  lua_remove(L, -2);
  lua_insert(L, -(nargs + 1));
  lua_call(L, nargs, nresults);
}

// ---------------------------------------------------------------------------------------------
// Addons

void Client::load_addons(const AddonCatalog& catalog) {
  catalog_ = catalog;
  not_loaded_.clear();
  for (const std::string& warning : catalog_.warnings) append_log(true, warning);
  for (const AddonInfo& addon : catalog_.addons) {
    if (!addon.loadable) {
      append_log(true, "Couldn't load " + addon.name + ": " + addon.reason);
      continue;
    }
    load_addon(addon);
  }
}

// Compiles code and runs it with the nargs values on top of the stack as its `...`; errors go
// to the client's error handler, as in the game. Runs inside protect().
bool Client::run_chunk(lua_State* L, std::string_view code, const std::string& chunk_name, int nargs) {
  if (!load_addon_code(L, code, chunk_name.c_str())) {
    lua_insert(L, -(nargs + 1));  // the message below the unused arguments
    lua_pop(L, nargs);
    call_internal(L, "report", 1, 0);
    return false;
  }
  lua_insert(L, -(nargs + 1));
  call_internal(L, "safecall", nargs + 1, 1);
  bool ok = lua_toboolean(L, -1) != 0;
  lua_pop(L, 1);
  return ok;
}

bool Client::run_script(std::string_view code, const std::string& chunk_name) {
  bool ok = false;
  protect([&](lua_State* L) { ok = run_chunk(L, code, chunk_name, 0); });
  return ok;
}

void Client::load_addon(const AddonInfo& addon) {
  const std::string table_key = "tally.addon." + addon.name;
  profiler_.add_addon(addon.name);
  protect([&](lua_State* L) {
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, table_key.c_str());
  });
  for (const std::string& warning : addon.warnings) append_log(true, warning);
  for (const LoadStep& step : addon.steps) {
    std::string code = step.code;
    if (step.kind == LoadStep::LuaFile) {
      std::error_code ec;
      if (auto size = std::filesystem::file_size(step.path, ec); !ec && size > kMaxLuaSourceBytes) {
        append_log(true, addon.name + ": " + step.path.string() + ": file of " + std::to_string(size >> 10) +
                             " KiB is over the limit of " + std::to_string(kMaxLuaSourceBytes >> 10) + " KiB");
        continue;
      }
      try {
        code = read_file(step.path);
      } catch (const std::exception& e) {
        append_log(true, addon.name + ": " + e.what());
        continue;
      }
    }
    // Every file of an addon gets (addonName, addonTable): the same private table each time.
    protect([&](lua_State* L) {
      lua_pushlstring(L, addon.name.data(), addon.name.size());
      lua_getfield(L, LUA_REGISTRYINDEX, table_key.c_str());
      run_chunk(L, code, step.chunk_name, 2);
    });
  }
  load_saved_variables(addon);
  loaded_.push_back(addon.name);
  fire_event("ADDON_LOADED", {addon.name});
}

void Client::login() {
  if (logged_in_) return;
  if (logged_out_) {
    logged_out_ = false;
    lua_ = std::make_unique<LuaState>(options_.memory_limit);
    loaded_.clear();
    install_game_api();
    AddonCatalog catalog = catalog_;
    load_addons(catalog);
  }
  host_.network().set_online(id_, true);
  logged_in_ = true;
  fire_event("PLAYER_LOGIN");
  fire_event("PLAYER_ENTERING_WORLD", {true, false});
  profiler_.end_loading();
}

void Client::logout() {
  if (!logged_in_) return;
  profiler_.begin_loading();
  fire_event("PLAYER_LOGOUT");
  for (const AddonInfo& addon : catalog_.addons) {
    if (std::find(loaded_.begin(), loaded_.end(), addon.name) != loaded_.end()) save_saved_variables(addon);
  }
  logged_in_ = false;
  logged_out_ = true;
  host_.network().set_online(id_, false);
}

void Client::tick(double now, double elapsed) {
  for (auto& open : ledgers_.open()) {
    if (!open.sync) continue;
    auto started = AddonProfiler::Clock::now();
    open.sync->pump(host_.network(), now);
    if (profiler_.tracing()) {
      profiler_.record_host_work("sync pump " + open.binding->name(), started,
                                 AddonProfiler::Clock::now());
    }
  }
  // Timers, replay and OnUpdate in calls of their own: a kill ends the rest of its call.
  const std::pair<const char*, double> parts[] = {{"tick", now}, {"replay", now}, {"update", elapsed}};
  for (const auto& [part, arg] : parts) {
    protect([&](lua_State* L) {
      lua_pushnumber(L, arg);
      call_internal(L, part, 1, 0);
    });
  }
  // Sync state changes reach the ledger's syncStateChanged listeners.
  for (auto& open : ledgers_.open()) {
    if (!open.sync) continue;
    SyncState state = open.sync->endpoint().state(now);
    if (state == open.reported) continue;
    open.reported = state;
    std::string name = open.binding->name();
    protect([&](lua_State* L) {
      lua_pushlstring(L, name.data(), name.size());
      lua_pushstring(L, std::string(state_name(state)).c_str());
      call_internal(L, "sync_state_changed", 2, 0);
    });
  }
}

void Client::end_frame(AddonProfiler::Clock::time_point started, AddonProfiler::Clock::time_point ended,
                       double delivery_ms, double cpu_ms) {
  double ms = std::chrono::duration<double, std::milli>(ended - started).count() + delivery_ms;
  ++frame_stats_.frames;
  frame_stats_.total_ms += ms;
  frame_stats_.max_ms = std::max(frame_stats_.max_ms, ms);
  frame_stats_.max_cpu_ms = std::max(frame_stats_.max_cpu_ms, cpu_ms);
  profiler_.end_frame(started, ended, ms);
}

bool Client::authorize_send(const std::string& ledger, const Entry& entry) {
  bool allowed = false;
  protect([&](lua_State* L) {
    lua_pushlstring(L, ledger.data(), ledger.size());
    push_entry_table(L, entry);
    call_internal(L, "authorize_send", 2, 1);
    allowed = lua_toboolean(L, -1) != 0;
    lua_pop(L, 1);
  });
  return allowed;
}

void Client::fire_event(std::string_view event, const std::vector<EventArg>& args) {
  if (event == "ENCOUNTER_START") profiler_.begin_encounter();
  protect([&](lua_State* L) {
    lua_pushlstring(L, event.data(), event.size());
    for (const EventArg& arg : args) {
      if (std::holds_alternative<bool>(arg)) {
        lua_pushboolean(L, std::get<bool>(arg));
      } else if (std::holds_alternative<double>(arg)) {
        lua_pushnumber(L, std::get<double>(arg));
      } else if (std::holds_alternative<std::string>(arg)) {
        const auto& text = std::get<std::string>(arg);
        lua_pushlstring(L, text.data(), text.size());
      } else {
        lua_pushnil(L);
      }
    }
    call_internal(L, "dispatch_event", static_cast<int>(args.size()) + 1, 0);
  });
  if (event == "ENCOUNTER_END") profiler_.end_encounter();
}

Client::Evaluation Client::evaluate(std::string_view code) {
  Evaluation result;
  bool protected_ok = protect([&](lua_State* L) {
    int base = lua_gettop(L);
    if (!load_addon_code(L, code, "=(evaluate)") || lua_pcall(L, 0, LUA_MULTRET, 0) != 0) {
      result.error = pop_error(L);
      return;
    }
    int count = lua_gettop(L) - base;
    try {
      for (int i = 1; i <= count; ++i) {
        result.values.push_back(read_saved_value(L, base + i, "result " + std::to_string(i)));
      }
      result.ok = true;
    } catch (const std::exception& e) {
      result.error = e.what();
    }
    lua_settop(L, base);
  });
  if (!protected_ok && result.error.empty()) result.error = "evaluation failed; see the client's log";
  return result;
}

bool Client::run_slash_command(std::string_view text) {
  bool handled = false;
  protect([&](lua_State* L) {
    lua_pushlstring(L, text.data(), text.size());
    call_internal(L, "run_slash", 1, 1);
    handled = lua_toboolean(L, -1) != 0;
    lua_pop(L, 1);
  });
  return handled;
}

// ---------------------------------------------------------------------------------------------
// SavedVariables: <dir>/<Name>/SavedVariables/<Addon>.lua for the account-wide variables and
// <dir>/<Name>/<Realm>/<Name>/SavedVariables/<Addon>.lua for the per-character ones.

std::filesystem::path Client::saved_variables_file(const AddonInfo& addon, bool per_character) const {
  std::filesystem::path dir = options_.saved_variables_dir / options_.name;
  if (per_character) dir = dir / options_.realm / options_.name;
  return dir / "SavedVariables" / (addon.name + ".lua");
}

void Client::load_saved_variables(const AddonInfo& addon) {
  if (options_.saved_variables_dir.empty()) return;
  for (bool per_character : {false, true}) {
    const auto& names = per_character ? addon.toc.saved_variables_per_character : addon.toc.saved_variables;
    auto path = saved_variables_file(addon, per_character);
    std::error_code ec;
    if (names.empty() || !std::filesystem::exists(path, ec)) continue;
    savedvars::Variables variables;
    try {
      variables = savedvars::parse(read_file(path), path.string());
    } catch (const std::exception& e) {
      // Keep the unreadable file aside: writing at logout must not destroy what it held.
      auto aside = path;
      aside += ".unreadable-" + std::to_string(std::time(nullptr));
      std::filesystem::rename(path, aside, ec);
      append_log(true, addon.name + ": SavedVariables not loaded: " + e.what() + " (kept as " + aside.string() + ")");
      continue;
    }
    for (const auto& variable : variables) {
      if (std::find(names.begin(), names.end(), variable.first) == names.end()) continue;  // not declared
      bool loaded = protect([&](lua_State* L) {
        push_saved_value(L, variable.second);
        lua_setglobal(L, variable.first.c_str());
      });
      if (!loaded) {
        // Most likely larger than the client's memory: the addon starts without it, and logout
        // keeps what the file holds instead of writing what the addon made of nothing.
        not_loaded_.insert({path, variable.first});
        append_log(true, addon.name + ": SavedVariables " + variable.first + " not loaded from " + path.string() +
                             " (see the error above); it stays in the file as it is, and changes to it in this "
                             "session will not be saved");
      }
    }
  }
}

void Client::save_saved_variables(const AddonInfo& addon) {
  if (options_.saved_variables_dir.empty()) return;
  for (bool per_character : {false, true}) {
    const auto& names = per_character ? addon.toc.saved_variables_per_character : addon.toc.saved_variables;
    if (names.empty()) continue;
    auto path = saved_variables_file(addon, per_character);
    // What the file held before: a variable that cannot be saved now keeps its old value.
    std::map<std::string, savedvars::Value> previous;
    try {
      std::error_code ec;
      if (std::filesystem::exists(path, ec)) {
        for (auto& [name, value] : savedvars::parse(read_file(path), path.string())) previous[name] = std::move(value);
      }
    } catch (const std::exception&) {
      previous.clear();
    }
    savedvars::Variables out;
    for (const std::string& name : names) {
      if (not_loaded_.contains({path, name})) {
        if (auto it = previous.find(name); it != previous.end()) out.emplace_back(name, it->second);
        continue;
      }
      std::string problem;
      bool read = protect([&](lua_State* L) {
        lua_getglobal(L, name.c_str());
        try {
          out.emplace_back(name, read_saved_value(L, -1, name));
        } catch (const std::exception& e) {
          problem = e.what();
        }
        lua_pop(L, 1);
      });
      if (!read || !problem.empty()) {
        append_log(true, addon.name + ": " + (problem.empty() ? name + " could not be read" : problem) + "; " +
                             name + " keeps its previously saved value");
        if (auto it = previous.find(name); it != previous.end()) out.emplace_back(name, it->second);
      }
    }
    try {
      std::filesystem::create_directories(path.parent_path());
      write_file_atomically(path, savedvars::write_file_contents(out));
    } catch (const std::exception& e) {
      append_log(true, addon.name + ": SavedVariables not written: " + e.what());
    }
  }
}

}  // namespace tally
