// A ledger bound to its journal: every entry that changes the ledger is journaled.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "runtime/journal.hpp"
#include "runtime/ledger.hpp"

namespace tally {

class PersistentLedger {
 public:
  // Opens (or creates) the journal, repairs what a crash left, and loads every entry.
  // Repairs are described in `warnings`. Throws JournalError for a journal it must not touch.
  static PersistentLedger open(const std::filesystem::path& path, std::string_view ledger_id,
                               JournalOptions options, std::vector<std::string>* warnings);

  const Ledger& ledger() const { return ledger_; }
  Journal& journal() { return journal_; }

  // Insert into the ledger, then journal the entry if the ledger changed. If journaling fails
  // the JournalError propagates: the entry was not acknowledged as durable.
  InsertResult insert(const Entry& entry);
  InsertResult insert(const EncodedEntry& entry);
  BatchResult insert_batch(std::span<const Entry> entries,
                           std::vector<InsertStatus>* statuses = nullptr);
  BatchResult insert_batch(std::span<const EncodedEntry> entries,
                           std::vector<InsertStatus>* statuses = nullptr);

  void set_applied(std::size_t count) { ledger_.set_applied(count); }
  void close() { journal_.close(); }

 private:
  PersistentLedger(Ledger ledger, Journal journal)
      : ledger_(std::move(ledger)), journal_(std::move(journal)) {}

  Ledger ledger_;
  Journal journal_;
};

}  // namespace tally
