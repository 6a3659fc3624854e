// libFuzzer target: ledger import from JSON and SavedVariables text, and export round trips.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_check.hpp"
#include "runtime/ledger_export.hpp"

using tally::fuzz::require;

namespace {

std::vector<tally::Entry> entries_of(const tally::Ledger& ledger) {
  std::vector<tally::Entry> out;
  ledger.for_each(0, ledger.size(),
                  [&](std::size_t, const tally::EntryView& e) { out.push_back(e.to_entry()); });
  return out;
}

// An imported document was validated, so everything below must succeed; a throw is a bug.
void check_round_trips(tally::LedgerDocument document) {
  tally::Ledger ledger(document.ledger_id);
  ledger.insert_batch(std::span<const tally::Entry>(document.entries));
  const std::vector<tally::Entry> stored = entries_of(ledger);

  // With no key repeated, the ledger holds exactly the document's entries, in key order.
  std::ranges::stable_sort(document.entries, {}, &tally::Entry::key);
  const bool unique_keys = std::ranges::adjacent_find(document.entries, {}, &tally::Entry::key) ==
                           document.entries.end();
  if (unique_keys) require(stored == document.entries, "the ledger keeps every imported entry");

  const tally::LedgerDocument from_json =
      tally::ledger_from_json_text(tally::ledger_to_json_text(ledger), "fuzz-export.json");
  require(from_json.ledger_id == ledger.id() && from_json.entries == stored,
          "a JSON export re-imports to the same ledger");

  const tally::LedgerDocument from_lua = tally::ledger_from_saved_variables(
      tally::ledger_to_saved_variables(ledger, "V"), "fuzz-export.lua", "V");
  require(from_lua.ledger_id == ledger.id() && from_lua.entries == stored,
          "a SavedVariables export re-imports to the same ledger");
}

// The import alone may refuse the text; round-trip failures must escape as crashes.
template <typename Import>
void import_and_check(Import import) {
  std::optional<tally::LedgerDocument> document;
  try {
    document = import();
  } catch (const tally::ImportError&) {
    return;
  }
  check_round_trips(std::move(*document));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  import_and_check([&] { return tally::ledger_from_json_text(text, "fuzz.json"); });
  import_and_check([&] { return tally::ledger_from_saved_variables(text, "fuzz.lua", "V"); });
  return 0;
}
