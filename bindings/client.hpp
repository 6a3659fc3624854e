// One simulated game client: its own LuaJIT state, the addons loaded into it, its log and its
// SavedVariables.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "bindings/client_log.hpp"
#include "bindings/ledger_registry.hpp"
#include "bindings/lua_instrument.hpp"
#include "bindings/lua_state.hpp"
#include "bindings/profiler.hpp"
#include "runtime/saved_variables.hpp"
#include "runtime/addon_catalog.hpp"

namespace tally {

class Host;

struct ClientOptions {
  std::string name;                   // character name, unique within a host
  std::string realm = "Tally";
  std::uint16_t realm_id = 1;
  std::uint32_t player_id = 0;        // the 8 hex digits of the GUID; 0: derived from the name
  std::string guild;                  // empty: not in a guild
  std::uint32_t raid = 0;             // raid group id, 0: none
  std::uint32_t party = 0;            // party group id, 0: none (in a raid: the subgroup)
  int guild_rank = 3;                 // index into HostOptions::guild_ranks, 0 = guild master
  std::string class_file = "WARRIOR"; // UnitClass's second value: WARRIOR, MAGE, PRIEST, ...
  int level = 60;
  std::size_t memory_limit = 256u << 20;
  double script_time_limit = 0.5;    // seconds one call into addon code may run ("script ran too long")
  bool profile_addons = true;         // per-addon time accounts (C_AddOnProfiler, tally profile)
  std::filesystem::path saved_variables_dir;  // empty: SavedVariables are neither read nor written
};

// A value passed with an event: nil, boolean, number or string.
using EventArg = std::variant<std::monostate, bool, double, std::string>;

class Client {
 public:
  // Made by Host::add_client; `id` is the client's address on the host's network.
  Client(Host& host, std::uint32_t id, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const { return options_; }
  const std::string& name() const { return options_.name; }
  std::uint32_t id() const { return id_; }
  std::string guid() const;
  // The guild rank shown in every client's roster; fires GUILD_ROSTER_UPDATE there.
  void set_guild_rank(int rank);

  // Loads every loadable addon of the catalog in its order: files, SavedVariables, ADDON_LOADED.
  // Addons that are not loadable, and load errors, are logged; the client goes on.
  void load_addons(const AddonCatalog& catalog);
  const std::vector<std::string>& loaded_addons() const { return loaded_; }

  // PLAYER_LOGIN then PLAYER_ENTERING_WORLD(true, false). After a logout this is a new session,
  // as in the game: a fresh Lua state, the addons and their SavedVariables loaded again.
  void login();
  bool logged_in() const { return logged_in_; }
  // PLAYER_LOGOUT, then SavedVariables written; the client goes offline on the network.
  void logout();

  // One frame: timers and OnUpdate scripts. `now` is the host clock in seconds.
  void tick(double now, double elapsed);
  void fire_event(std::string_view event, const std::vector<EventArg>& args = {});
  // Runs Lua text in the client's global environment (tests, scenarios, /run); errors go to the
  // client's error handler. False when it failed to compile or raised an error.
  bool run_script(std::string_view code, const std::string& chunk_name = "=(run_script)");
  // Evaluates Lua text in the client and copies its results out as plain values. Unlike
  // run_script, an error comes back here instead of going to the client's error handler.
  struct Evaluation {
    bool ok = false;
    std::string error;
    std::vector<savedvars::Value> values;
  };
  Evaluation evaluate(std::string_view code);
  // Runs a slash command as if typed into the chat box; false when no addon took it.
  bool run_slash_command(std::string_view text);

  // Wall time of this client's frames (the addon messages delivered to it, sync, timers,
  // replay, OnUpdate), measured by the host; and the longest frame in the host thread's CPU
  // time, which leaves out what the machine's scheduler gave to other processes.
  struct FrameStats {
    std::uint64_t frames = 0;
    double total_ms = 0;
    double max_ms = 0;
    double max_cpu_ms = 0;
  };
  const FrameStats& frame_stats() const { return frame_stats_; }
  // The host ran tick() from `started` to `ended`, after `delivery_ms` delivering messages;
  // all of it took `cpu_ms` of CPU time.
  void end_frame(AddonProfiler::Clock::time_point started, AddonProfiler::Clock::time_point ended, double delivery_ms,
                 double cpu_ms);

  // Time in each addon's code, per frame (bindings/profiler.hpp). Kept across logins.
  const AddonProfiler& profiler() const { return profiler_; }
  AddonProfiler& profiler() { return profiler_; }

  // The ledgers the client's addons opened (valid until the next logout).
  LedgerRegistry& ledgers() { return ledgers_; }

  // The newest lines of the client's log, within ClientLog's bounds.
  const ClientLog& log() const { return log_; }
  void set_log_sink(std::function<void(const Client&, const LogLine&)> sink) { sink_ = std::move(sink); }
  std::size_t memory_used() const { return lua_->memory_used(); }
  lua_State* lua() const { return lua_->get(); }
  Host& host() const { return host_; }

  // Called by the host functions given to Lua.
  void append_log(bool error, std::string_view text);
  // Authorization at stage "send" of a synced ledger: whether `entry` may leave this client.
  bool authorize_send(const std::string& ledger, const Entry& entry);

 private:
  void install_game_api();
  bool protect(const std::function<void(lua_State*)>& body);
  void call_internal(lua_State* L, const char* function, int nargs, int nresults);
  void mark_out_of_memory(lua_State* L);
  void load_addon(const AddonInfo& addon);
  bool run_chunk(lua_State* L, std::string_view code, const std::string& chunk_name, int nargs);
  void load_saved_variables(const AddonInfo& addon);
  void save_saved_variables(const AddonInfo& addon);
  std::filesystem::path saved_variables_file(const AddonInfo& addon, bool per_character) const;

  Host& host_;
  std::uint32_t id_;
  ClientOptions options_;
  LedgerRegistry ledgers_;  // declared before lua_: the Lua state's ledgers leave it as it closes
  std::unique_ptr<LuaState> lua_;
  RunawayGuard guard_;  // the deadline of the call into addon code in progress  // replaced by a fresh state when the client logs in again
  int internal_ref_ = -1;                 // registry reference to game_api.lua's internals
  std::vector<std::string> loaded_;
  AddonCatalog catalog_;                  // kept for SavedVariables at logout
  // SavedVariables (file, variable) that failed to load this session: logout keeps their file value.
  std::set<std::pair<std::filesystem::path, std::string>> not_loaded_;
  ClientLog log_;
  std::function<void(const Client&, const LogLine&)> sink_;
  bool out_of_memory_ = false;  // addon code stopped for the session (mark_out_of_memory)
  bool logged_in_ = false;
  bool logged_out_ = false;  // a later login starts a new session
  FrameStats frame_stats_;
  AddonProfiler profiler_;
};

}  // namespace tally
