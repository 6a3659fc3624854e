// Lua binding of LedgerBinding: a userdata with short, mechanical methods that the trusted
// ledger_api.lua wraps into the API addons use. Argument checks here, work in LedgerBinding.
#include "bindings/wrap_ledger.hpp"

#include <lua.hpp>

#include <chrono>
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "bindings/lua_guard.hpp"
#include "bindings/ledger_binding.hpp"
#include "bindings/lua_values.hpp"

namespace tally {

namespace {

constexpr const char* kLedgerMeta = "tally.ledger";

struct LedgerBox {
  LedgerBinding* binding;  // null once closed
  LedgerRegistry* registry;
};

LedgerBinding& check(lua_State* L) {
  auto* box = static_cast<LedgerBox*>(luaL_checkudata(L, 1, kLedgerMeta));
  if (box->binding == nullptr) luaL_error(L, "ledger is closed");
  return *box->binding;
}

// Reads the data table of an entry into a payload: string keys, scalar values.
Payload read_payload(lua_State* L, int index) {
  Payload payload;
  if (lua_isnil(L, index)) return payload;
  luaL_checktype(L, index, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      throw InvalidEntry(std::string("entry data keys must be strings, got a ") + lua_typename(L, lua_type(L, -2)));
    }
    std::string name = lua_tostring(L, -2);
    switch (lua_type(L, -1)) {
      case LUA_TBOOLEAN: payload.set(name, lua_toboolean(L, -1) != 0); break;
      case LUA_TNUMBER: payload.set(name, static_cast<double>(lua_tonumber(L, -1))); break;
      case LUA_TSTRING: {
        std::size_t len = 0;
        const char* s = lua_tolstring(L, -1, &len);
        payload.set(name, std::string(s, len));
        break;
      }
      default:
        throw InvalidEntry("field '" + name + "': a " + lua_typename(L, lua_type(L, -1)) +
                           " cannot go into an entry (booleans, numbers and strings only)");
    }
    lua_pop(L, 1);
  }
  return payload;
}

// b:insert(type, data, timestamp, creator [, revision [, realm]]) -> id | raises
int ledger_insert(lua_State* L) {
  LedgerBinding& b = check(L);
  Entry entry;
  entry.type = luaL_checkstring(L, 2);
  entry.payload = read_payload(L, 3);
  auto ts = static_cast<std::uint32_t>(luaL_checknumber(L, 4));
  auto creator = static_cast<std::uint32_t>(luaL_checknumber(L, 5));
  lua_Integer revision = luaL_optinteger(L, 6, 1);
  if (revision < 1 || revision > 255) return luaL_argerror(L, 6, "revision must be in 1..255");
  entry.revision = static_cast<std::uint8_t>(revision);
  entry.key = {ts, 0, static_cast<std::uint16_t>(luaL_optinteger(L, 7, 0)), creator};
  auto counter = b.next_counter(ts, creator);
  if (!counter) throw InvalidEntry("more than 256 entries by one creator in one second");
  entry.key.counter = *counter;
  b.insert(entry);
  auto* box = static_cast<LedgerBox*>(lua_touserdata(L, 1));
  if (SyncLink* sync = box->registry->sync_of(&b)) sync->local_insert(entry.key);
  std::string id = entry_id(entry.key);
  lua_pushlstring(L, id.data(), id.size());
  return 1;
}

// b:check(type, data) -> nothing | raises: the checks insert makes on an entry's type and
// payload, without inserting (a batch checks every entry before it writes any).
int ledger_check(lua_State* L) {
  check(L);
  validate_type_name(luaL_checkstring(L, 2));
  encode_payload(read_payload(L, 3));
  return 0;
}

// b:next_counter(timestamp, creator) -> the counter the creator's next entry in that second
// gets | nothing when the second is full
int ledger_next_counter(lua_State* L) {
  LedgerBinding& b = check(L);
  auto counter = b.next_counter(static_cast<std::uint32_t>(luaL_checknumber(L, 2)),
                                static_cast<std::uint32_t>(luaL_checknumber(L, 3)));
  if (!counter) return 0;
  lua_pushnumber(L, *counter);
  return 1;
}

// Pushes a payload as a table of plain values.
void push_payload(lua_State* L, const Payload& payload) {
  lua_createtable(L, 0, static_cast<int>(payload.size()));
  for (const auto& [name, value] : payload.fields()) {
    if (const auto* v = std::get_if<bool>(&value)) lua_pushboolean(L, *v);
    else if (const auto* i = std::get_if<std::int64_t>(&value)) lua_pushnumber(L, static_cast<lua_Number>(*i));
    else if (const auto* d = std::get_if<double>(&value)) lua_pushnumber(L, *d);
    else lua_pushlstring(L, std::get<std::string>(value).data(), std::get<std::string>(value).size());
    lua_setfield(L, -2, name.c_str());
  }
}

// b:entry(id) -> type, data, timestamp, creator, revision | nil
int ledger_entry(lua_State* L) {
  LedgerBinding& b = check(L);
  auto key = parse_entry_id(luaL_checkstring(L, 2));
  if (!key) return 0;
  auto pos = b.ledger().find(*key);
  if (!pos) return 0;
  EntryView e = b.ledger().at(*pos);
  lua_pushlstring(L, e.type().data(), e.type().size());
  push_payload(L, e.payload());
  lua_pushnumber(L, key->timestamp);
  lua_pushnumber(L, key->creator);
  lua_pushnumber(L, e.revision());
  return 5;
}

// b:remote_front() -> { type, data, time, creator, counter, realm, id }, sender | nil
int ledger_remote_front(lua_State* L) {
  const RemoteEntry* front = check(L).remote_front();
  if (front == nullptr) return 0;
  push_entry_table(L, front->entry);
  lua_pushlstring(L, front->sender.data(), front->sender.size());
  return 2;
}

int ledger_remote_pending(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(check(L).remote_pending()));
  return 1;
}

// b:remote_decide(accept)
int ledger_remote_decide(lua_State* L) {
  LedgerBinding& b = check(L);
  if (lua_toboolean(L, 2) != 0) b.accept_remote();
  else b.refuse_remote();
  return 0;
}

// b:remote_accept_until(max, ms) -> taken: commits without asking for at most `ms` milliseconds.
int ledger_remote_accept_until(lua_State* L) {
  LedgerBinding& b = check(L);
  auto max = static_cast<std::size_t>(std::max<lua_Number>(0, luaL_checknumber(L, 2)));
  auto budget = std::chrono::duration<double, std::milli>(std::max<lua_Number>(0, luaL_checknumber(L, 3)));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(budget);
  lua_pushnumber(L, static_cast<lua_Number>(b.accept_remote_until(max, deadline)));
  return 1;
}

int ledger_size(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(check(L).ledger().size()));
  return 1;
}

int ledger_applied(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(check(L).applied()));
  return 1;
}

int ledger_target(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(check(L).target()));
  return 1;
}

int ledger_take_rewind(lua_State* L) {
  auto r = check(L).take_rewind();
  if (!r) return 0;
  lua_pushnumber(L, static_cast<lua_Number>(*r));
  return 1;
}

int ledger_state_hash(lua_State* L) {
  LedgerBinding& b = check(L);
  lua_pushnumber(L, b.state_hash());
  char fp[20];
  std::snprintf(fp, sizeof fp, "%016llx", static_cast<unsigned long long>(b.ledger().fingerprint().sum));
  lua_pushstring(L, fp);
  return 2;
}

// b:travel(timestamp | nil)
int ledger_travel(lua_State* L) {
  LedgerBinding& b = check(L);
  if (lua_isnoneornil(L, 2)) {
    b.travel_to(std::nullopt);
  } else {
    double ts = luaL_checknumber(L, 2);
    if (!(ts >= 0 && ts <= 4294967295.0)) return luaL_argerror(L, 2, "timestamp out of range");
    b.travel_to(static_cast<std::uint32_t>(ts));
  }
  return 0;
}

void push_positions(lua_State* L, const std::vector<std::size_t>& positions) {
  lua_createtable(L, static_cast<int>(positions.size()), 0);
  for (std::size_t i = 0; i < positions.size(); ++i) {
    lua_pushnumber(L, static_cast<lua_Number>(positions[i]));
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

// b:checkpoint_due(ms_since_last) -> boolean
int ledger_checkpoint_due(lua_State* L) {
  lua_pushboolean(L, check(L).checkpoint_due(luaL_checknumber(L, 2)));
  return 1;
}

// Pushes a JSON value as plain Lua data (objects and arrays become tables).
void push_json(lua_State* L, const nlohmann::json& value) {
  luaL_checkstack(L, 3, "metrics nested too deeply");
  if (value.is_object()) {
    lua_createtable(L, 0, static_cast<int>(value.size()));
    for (const auto& [key, item] : value.items()) {
      push_json(L, item);
      lua_setfield(L, -2, key.c_str());
    }
  } else if (value.is_array()) {
    lua_createtable(L, static_cast<int>(value.size()), 0);
    for (std::size_t i = 0; i < value.size(); ++i) {
      push_json(L, value[i]);
      lua_rawseti(L, -2, static_cast<int>(i + 1));
    }
  } else if (value.is_number()) {
    lua_pushnumber(L, value.get<double>());
  } else if (value.is_boolean()) {
    lua_pushboolean(L, value.get<bool>());
  } else if (value.is_string()) {
    lua_pushstring(L, value.get<std::string>().c_str());
  } else {
    lua_pushnil(L);
  }
}

// b:metrics(now) -> table of replay metrics
int ledger_metrics(lua_State* L) {
  push_json(L, check(L).metrics_json(luaL_checknumber(L, 2)));
  return 1;
}

// b:record_frame(ms): the replay time of a frame that committed or applied something.
int ledger_record_frame(lua_State* L) {
  check(L).metrics().record_frame(luaL_checknumber(L, 2));
  return 0;
}

// b:checkpoints(every_events, every_ms, max) -> positions dropped
int ledger_checkpoints(lua_State* L) {
  CheckpointConfig config;
  config.every_events = static_cast<std::size_t>(luaL_checknumber(L, 2));
  config.every_ms = luaL_checknumber(L, 3);
  config.max_checkpoints = static_cast<std::size_t>(luaL_checknumber(L, 4));
  push_positions(L, check(L).configure_checkpoints(config));
  return 1;
}

// b:decode_ahead(count): the loop is about to fetch up to `count` entries
int ledger_decode_ahead(lua_State* L) {
  check(L).decode_ahead(static_cast<std::size_t>(std::max<lua_Number>(0, luaL_checknumber(L, 2))));
  return 0;
}

// b:events_to_checkpoint() -> entries before the next checkpoint by count
int ledger_events_to_checkpoint(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(std::min<std::size_t>(check(L).events_to_checkpoint(), 1u << 30)));
  return 1;
}

// b:take_checkpoint(cost_ms) -> position taken, positions dropped
int ledger_take_checkpoint(lua_State* L) {
  LedgerBinding& b = check(L);
  std::size_t at = b.applied();
  auto dropped = b.take_checkpoint(luaL_checknumber(L, 2));
  lua_pushnumber(L, static_cast<lua_Number>(at));
  push_positions(L, dropped);
  return 2;
}

// b:rewind(position) -> position replay restarts from, positions whose snapshots are invalid
int ledger_rewind(lua_State* L) {
  auto [from, dropped] = check(L).rewind(static_cast<std::size_t>(luaL_checknumber(L, 2)));
  lua_pushnumber(L, static_cast<lua_Number>(from));
  push_positions(L, dropped);
  return 2;
}

// b:travel_time() -> the time-travel limit, or nothing
int ledger_travel_time(lua_State* L) {
  auto limit = check(L).travel_limit();
  if (!limit) return 0;
  lua_pushnumber(L, *limit);
  return 1;
}

// b:new_strings() -> array of strings, in id order from the last call
int ledger_new_strings(lua_State* L) {
  auto strings = check(L).take_new_strings();
  lua_createtable(L, static_cast<int>(strings.size()), 0);
  for (std::size_t i = 0; i < strings.size(); ++i) {
    lua_pushlstring(L, strings[i].data(), strings[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  return 1;
}

// b:new_shapes() -> { {id=, type=, revision=, fields={...}, kinds={...}}, ... }
int ledger_new_shapes(lua_State* L) {
  LedgerBinding& b = check(L);
  auto shapes = b.take_new_shapes();
  lua_createtable(L, static_cast<int>(shapes.size()), 0);
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const auto& [id, shape] = shapes[i];
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, id);
    lua_setfield(L, -2, "id");
    lua_pushinteger(L, shape.revision);
    lua_setfield(L, -2, "revision");
    lua_pushstring(L, std::string(b.type_name(shape.type_id)).c_str());
    lua_setfield(L, -2, "type");
    lua_createtable(L, static_cast<int>(shape.fields.size()), 0);
    lua_createtable(L, static_cast<int>(shape.fields.size()), 0);
    for (std::size_t f = 0; f < shape.fields.size(); ++f) {
      lua_pushstring(L, shape.fields[f].c_str());
      lua_rawseti(L, -3, static_cast<int>(f + 1));
      lua_pushstring(L, std::string(kind_name(shape.kinds[f])).c_str());
      lua_rawseti(L, -2, static_cast<int>(f + 1));
    }
    lua_setfield(L, -3, "kinds");
    lua_setfield(L, -2, "fields");
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  return 1;
}

// b:begin_frame(now_seconds) -> due
int ledger_begin_frame(lua_State* L) {
  lua_pushboolean(L, check(L).planner().begin_frame(luaL_checknumber(L, 2)));
  return 1;
}

// b:next_batch(spent_ms) -> events
int ledger_next_batch(lua_State* L) {
  lua_pushnumber(L, check(L).planner().next_batch(luaL_checknumber(L, 2)));
  return 1;
}

// b:frame_events(spent_ms) -> the most events the rest of this frame may apply
int ledger_frame_events(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(check(L).planner().frame_events(luaL_checknumber(L, 2))));
  return 1;
}

// b:record_batch(events, ms, now)
int ledger_record_batch(lua_State* L) {
  LedgerBinding& b = check(L);
  auto events = static_cast<std::uint32_t>(luaL_checknumber(L, 2));
  double ms = luaL_checknumber(L, 3);
  b.planner().record_batch(events, ms);
  b.metrics().record_step(events, ms, luaL_checknumber(L, 4));
  return 0;
}

// b:knobs([{batchSize=, interval=, frameBudgetMs=}]) -> current knobs table
int ledger_knobs(lua_State* L) {
  LedgerBinding& b = check(L);
  if (lua_istable(L, 2)) {
    ReplayKnobs k = b.planner().requested_knobs();
    lua_getfield(L, 2, "batchSize");
    if (!lua_isnil(L, -1)) k.batch_size = static_cast<std::uint32_t>(luaL_checknumber(L, -1));
    lua_getfield(L, 2, "interval");
    if (!lua_isnil(L, -1)) k.interval_seconds = luaL_checknumber(L, -1);
    lua_getfield(L, 2, "frameBudgetMs");
    if (!lua_isnil(L, -1)) k.frame_budget_ms = luaL_checknumber(L, -1);
    lua_pop(L, 3);
    b.request_knobs(k);  // validates: throws naming the bad knob
  }
  const ReplayKnobs& k = b.planner().requested_knobs();
  lua_createtable(L, 0, 3);
  lua_pushnumber(L, k.batch_size);
  lua_setfield(L, -2, "batchSize");
  lua_pushnumber(L, k.interval_seconds);
  lua_setfield(L, -2, "interval");
  lua_pushnumber(L, k.frame_budget_ms);
  lua_setfield(L, -2, "frameBudgetMs");
  return 1;
}

// b:ffi() -> fetch function pointer, commit function pointer, binding pointer (for ledger_api.lua)
int ledger_ffi(lua_State* L) {
  LedgerBinding& b = check(L);
  lua_pushlightuserdata(L, reinterpret_cast<void*>(&tally_replay_fetch));
  lua_pushlightuserdata(L, reinterpret_cast<void*>(&tally_replay_commit));
  lua_pushlightuserdata(L, &b);
  return 3;
}

int ledger_gc(lua_State* L) {
  auto* box = static_cast<LedgerBox*>(luaL_checkudata(L, 1, kLedgerMeta));
  if (box->binding != nullptr) {
    try {
      box->binding->close();
    } catch (const std::exception&) {
      // A journal that cannot be synced at collection time was already reported by close().
    }
    box->registry->remove(box->binding);
    delete box->binding;
    box->binding = nullptr;
  }
  return 0;
}

int ledger_close(lua_State* L) {
  auto* box = static_cast<LedgerBox*>(luaL_checkudata(L, 1, kLedgerMeta));
  if (box->binding != nullptr) box->binding->close();
  return 0;
}

int clock_ms(lua_State* L) {
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  lua_pushnumber(L, std::chrono::duration<double, std::milli>(now).count());
  return 1;
}

}  // namespace

}  // namespace tally

// The FFI entry points of the replay loop (C linkage, called with the binding's pointer).
extern "C" std::size_t tally_replay_fetch(void* binding, std::size_t max, tally::ReplayBatch* batch) {
  try {
    return static_cast<tally::LedgerBinding*>(binding)->fetch(max, batch);
  } catch (...) {
    return 0;  // an FFI call must not throw; the loop sees no progress and stops for this frame
  }
}

extern "C" void tally_replay_commit(void* binding, std::size_t count) {
  static_cast<tally::LedgerBinding*>(binding)->commit(count);
}

namespace tally {

void push_entry_table(lua_State* L, const Entry& e) {
  lua_createtable(L, 0, 8);
  lua_pushlstring(L, e.type.data(), e.type.size());
  lua_setfield(L, -2, "type");
  push_payload(L, e.payload);
  lua_setfield(L, -2, "data");
  const std::pair<const char*, double> numbers[] = {{"time", e.key.timestamp}, {"creator", e.key.creator},
                                                    {"counter", e.key.counter}, {"realm", e.key.realm},
                                                    {"revision", e.revision}};
  for (const auto& [name, value] : numbers) {
    lua_pushnumber(L, value);
    lua_setfield(L, -2, name);
  }
  std::string id = entry_id(e.key);
  lua_pushlstring(L, id.data(), id.size());
  lua_setfield(L, -2, "id");
}

LedgerBinding* to_ledger_binding(lua_State* L, int index) {
  auto* box = static_cast<LedgerBox*>(luaL_checkudata(L, index, kLedgerMeta));
  if (box->binding == nullptr) luaL_error(L, "ledger is closed");
  return box->binding;
}

void push_ledger(lua_State* L, LedgerBindingOptions options, std::vector<std::string>* warnings,
                 LedgerRegistry* registry) {
  auto* box = static_cast<LedgerBox*>(lua_newuserdata(L, sizeof(LedgerBox)));
  box->binding = nullptr;
  box->registry = registry;
  if (luaL_newmetatable(L, kLedgerMeta)) {
    lua_pushcfunction(L, ledger_gc);
    lua_setfield(L, -2, "__gc");
    lua_newtable(L);
    const luaL_Reg methods[] = {
        {"insert", guarded<ledger_insert>}, {"entry", ledger_entry},
        {"check", guarded<ledger_check>},   {"next_counter", ledger_next_counter},
        {"size", ledger_size},             {"applied", ledger_applied},
        {"target", ledger_target},         {"take_rewind", ledger_take_rewind},
        {"state_hash", ledger_state_hash},
        {"travel", ledger_travel},         {"travel_time", ledger_travel_time},
        {"checkpoint_due", ledger_checkpoint_due}, {"take_checkpoint", guarded<ledger_take_checkpoint>},
        {"rewind", guarded<ledger_rewind>},  {"checkpoints", guarded<ledger_checkpoints>},
        {"metrics", guarded<ledger_metrics>},  {"events_to_checkpoint", ledger_events_to_checkpoint},
        {"decode_ahead", guarded<ledger_decode_ahead>},
        {"new_strings", ledger_new_strings},
        {"new_shapes", ledger_new_shapes}, {"begin_frame", guarded<ledger_begin_frame>},
        {"next_batch", guarded<ledger_next_batch>},
        {"frame_events", guarded<ledger_frame_events>}, {"record_batch", guarded<ledger_record_batch>},
        {"knobs", guarded<ledger_knobs>},  {"ffi", ledger_ffi},
        {"record_frame", guarded<ledger_record_frame>},
        {"remote_front", guarded<ledger_remote_front>}, {"remote_pending", ledger_remote_pending},
        {"remote_decide", guarded<ledger_remote_decide>},
        {"remote_accept_until", guarded<ledger_remote_accept_until>},
        {"close", guarded<ledger_close>},  {nullptr, nullptr}};
    luaL_register(L, nullptr, methods);
    lua_pushcfunction(L, clock_ms);
    lua_setfield(L, -2, "clock_ms");
    lua_setfield(L, -2, "__index");
  }
  lua_setmetatable(L, -2);
  box->binding = new LedgerBinding(std::move(options), warnings);
  registry->add(box->binding);
}

}  // namespace tally
