// Export and import of a whole ledger as JSON and as a SavedVariables-style Lua file.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/ledger.hpp"

namespace tally {

// A document that is not a valid ledger export. The message names the place, e.g.
// "GuildDKP.json: entries[3].ts: expected an integer in 0..4294967295, got -5".
class ImportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LedgerDocument {
  std::string ledger_id;
  std::vector<Entry> entries;  // in ledger order
};

// The document shape, the same in JSON and in Lua:
//   { format = "tally-ledger", version = 1, ledger = "<id>",
//     entries = { { ts, counter, realm, creator, type, rev, data = { field = value, ... } }, ... } }
// In JSON, a string value that is not valid UTF-8 is written as {"hex": "<bytes as hex>"}.
inline constexpr int kExportVersion = 1;

nlohmann::json ledger_to_json(const Ledger& ledger);
std::string ledger_to_json_text(const Ledger& ledger);  // pretty-printed, newline-terminated
LedgerDocument ledger_from_json(const nlohmann::json& document, std::string_view source_name);
LedgerDocument ledger_from_json_text(std::string_view text, std::string_view source_name);

// SavedVariables: one global `variable = { ... }` written as the game writes it.
std::string ledger_to_saved_variables(const Ledger& ledger, std::string_view variable);
LedgerDocument ledger_from_saved_variables(std::string_view text, std::string_view source_name,
                                           std::string_view variable);

}  // namespace tally
