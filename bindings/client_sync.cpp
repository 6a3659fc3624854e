// Wiring a ledger's sync into its client, and its status for Lua.
#include "bindings/client_sync.hpp"

#include <cstdio>
#include <stdexcept>

#include "bindings/client.hpp"
#include "bindings/host.hpp"
#include "runtime/sync_reference.hpp"
#include "runtime/sync_tally.hpp"

namespace tally {

std::unique_ptr<SyncLink> make_client_sync(Client& client, LedgerBinding& binding, const std::string& prefix,
                                           const std::string& protocol, std::size_t lanes) {
  SyncContext context;
  context.ledger = &binding.ledger();
  context.self = client.host().network().client(client.id()).name;
  context.seed = client.options().player_id;
  context.deliver = [&binding](std::vector<Entry> entries, const std::string& sender) {
    binding.enqueue_remote(std::move(entries), sender);
  };
  context.may_send = [&client, name = binding.name()](const Entry& entry) { return client.authorize_send(name, entry); };
  std::unique_ptr<SyncEndpoint> endpoint;
  if (protocol == "tally") {
    endpoint = std::make_unique<TallySync>(std::move(context));
  } else if (protocol == "reference") {
    endpoint = std::make_unique<ReferenceSync>(std::move(context));
  } else {
    throw std::invalid_argument("sync: unknown protocol '" + protocol + "' (known: tally, reference)");
  }
  return std::make_unique<SyncLink>(std::move(endpoint), prefix, client.id(),
                                    static_cast<std::uint16_t>(client.options().player_id ^ (client.options().player_id >> 16)),
                                    lanes);
}

namespace {

void set_number(lua_State* L, const char* name, double value) {
  lua_pushnumber(L, value);
  lua_setfield(L, -2, name);
}

}  // namespace

void push_sync_status(lua_State* L, const SyncLink& link, const Ledger& ledger, double now) {
  const SyncEndpoint& endpoint = link.endpoint();
  lua_createtable(L, 0, 10);
  lua_pushstring(L, std::string(state_name(endpoint.state(now))).c_str());
  lua_setfield(L, -2, "state");
  lua_pushstring(L, link.prefix().c_str());
  lua_setfield(L, -2, "prefix");
  lua_newtable(L);
  for (const auto& [name, peer] : endpoint.peers()) {
    lua_createtable(L, 0, 5);
    set_number(L, "count", static_cast<double>(peer.count));
    char fingerprint[20];
    std::snprintf(fingerprint, sizeof fingerprint, "%016llx", static_cast<unsigned long long>(peer.fingerprint));
    lua_pushstring(L, fingerprint);
    lua_setfield(L, -2, "fingerprint");
    set_number(L, "lag", static_cast<double>(peer.count) - static_cast<double>(ledger.size()));
    set_number(L, "lastSeen", peer.last_seen);
    set_number(L, "version", peer.version);
    lua_setfield(L, -2, name.c_str());
  }
  lua_setfield(L, -2, "peers");
  const LinkCounters& k = link.counters();
  lua_createtable(L, 0, 2);
  set_number(L, "frames", static_cast<double>(k.frames_sent));
  set_number(L, "bytes", static_cast<double>(k.bytes_sent));
  lua_setfield(L, -2, "sent");
  lua_createtable(L, 0, 3);
  set_number(L, "frames", static_cast<double>(k.frames_received));
  set_number(L, "bytes", static_cast<double>(k.bytes_received));
  set_number(L, "dropped", static_cast<double>(link.drops().total()));
  lua_setfield(L, -2, "received");
  const SyncCounters& c = endpoint.counters();
  lua_createtable(L, 0, 2);
  set_number(L, "sent", static_cast<double>(c.entries_sent));
  set_number(L, "received", static_cast<double>(c.entries_received));
  lua_setfield(L, -2, "entries");
  set_number(L, "backlog", static_cast<double>(link.backlog()));
  lua_createtable(L, 0, 8);
  const std::pair<const char*, std::uint64_t> counters[] = {
      {"sessionsStarted", c.sessions_started}, {"sessionsAnswered", c.sessions_answered},
      {"pushes", c.pushes},                    {"suppressed", c.suppressed},
      {"bypassed", c.bypassed},                {"advertsIgnored", c.adverts_ignored},
      {"withheld", c.withheld},                {"messagesIn", c.messages_in}};
  for (const auto& [name, value] : counters) set_number(L, name, static_cast<double>(value));
  lua_setfield(L, -2, "counters");
}

}  // namespace tally
