// Sync for a client's ledger: the protocol endpoint and link wired to the client (received
// entries into the ledger's remote queue, authorization at "send" through the addon), and the
// status table addons read.
#pragma once

#include <memory>
#include <string>

#include <lua.hpp>

#include "bindings/ledger_binding.hpp"
#include "runtime/sync_link.hpp"

namespace tally {

class Client;

// The link for `binding` in `client` with `protocol` ("tally" or "reference"; throws std::invalid_argument for
// an unknown one) over `lanes` prefixes (see SyncLink).
std::unique_ptr<SyncLink> make_client_sync(Client& client, LedgerBinding& binding, const std::string& prefix,
                                           const std::string& protocol, std::size_t lanes);

// { state, prefix, protocol, peers = { ["Name-Realm"] = { count, fingerprint, lag, lastSeen,
// version } }, sent = { frames, bytes }, received = { frames, bytes, dropped }, entries =
// { sent, received }, backlog, counters = { ... } }
void push_sync_status(lua_State* L, const SyncLink& link, const Ledger& ledger, double now);

}  // namespace tally
