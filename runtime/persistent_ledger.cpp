// A ledger bound to its journal.
#include "runtime/persistent_ledger.hpp"

namespace tally {

namespace {
bool changes_ledger(InsertStatus status) {
  return status == InsertStatus::Inserted || status == InsertStatus::ReplacedConflict;
}
}  // namespace

PersistentLedger PersistentLedger::open(const std::filesystem::path& path,
                                        std::string_view ledger_id, JournalOptions options,
                                        std::vector<std::string>* warnings) {
  JournalContents contents;
  Journal journal = Journal::open(path, ledger_id, options, contents);
  Ledger ledger{std::string(ledger_id)};
  try {
    ledger.insert_batch(std::span<const EncodedEntry>(contents.entries), nullptr, true);
  } catch (const InvalidEntry& e) {
    // read_journal validated every record, so this means a bug rather than a bad file.
    throw JournalError(path.string() + ": " + e.what());
  }
  if (warnings != nullptr) {
    warnings->insert(warnings->end(), contents.warnings.begin(), contents.warnings.end());
  }
  return PersistentLedger(std::move(ledger), std::move(journal));
}

InsertResult PersistentLedger::insert(const Entry& entry) {
  std::vector<std::uint8_t> bytes = encode_payload(entry.payload);
  return insert(EncodedEntry{entry.key, entry.type, entry.revision, bytes});
}

InsertResult PersistentLedger::insert(const EncodedEntry& entry) {
  InsertResult result = ledger_.insert(entry);
  if (changes_ledger(result.status)) journal_.append(entry);
  return result;
}

BatchResult PersistentLedger::insert_batch(std::span<const Entry> entries,
                                           std::vector<InsertStatus>* statuses) {
  EncodedBatch batch = encode_batch(entries);
  return insert_batch(std::span<const EncodedEntry>(batch.entries), statuses);
}

BatchResult PersistentLedger::insert_batch(std::span<const EncodedEntry> entries,
                                           std::vector<InsertStatus>* statuses) {
  std::vector<InsertStatus> local;
  std::vector<InsertStatus>& out = statuses != nullptr ? *statuses : local;
  BatchResult result = ledger_.insert_batch(entries, &out);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (changes_ledger(out[i])) journal_.append(entries[i]);
  }
  return result;
}

}  // namespace tally
