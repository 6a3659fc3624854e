// The append-only journal file of one ledger: checksummed records, an fsync policy, and
// recovery of torn or corrupt data on open.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/journal_syncer.hpp"
#include "runtime/ledger.hpp"

namespace tally {

// File layout (all integers little-endian):
//   header:  "TALLYJNL" | u16 format version | u16 flags (0) | u8 id length | ledger id |
//            u64 XXH3 of the header bytes before it
//   record:  u32 body length | u64 XXH3 of the body, seeded with the length | body
//   body:    u8 kind, then
//            kind 1 (type):  u16 journal type id | type name
//            kind 2 (entry): u32 timestamp | u8 counter | u16 realm | u32 creator |
//                            u16 journal type id | u8 revision | canonical payload
inline constexpr std::uint16_t kJournalFormatVersion = 1;
inline constexpr std::size_t kMaxLedgerIdLength = 200;

// A journal that cannot be used: not ours, from a newer format, for another ledger, unreadable.
// The file is left untouched.
class JournalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class FsyncPolicy {
  EveryEntry,  // each append is on disk before it returns
  Interval,    // appends are handed to a thread that writes and fsyncs them every `interval`:
               // no write or fsync on the appending thread
  OnClose,     // synced only by sync() and close(); a crash of the machine may lose the tail
};

struct JournalOptions {
  FsyncPolicy fsync = FsyncPolicy::Interval;
  std::chrono::milliseconds interval{100};
};

// The bytes of a file, mapped read-only (no copy, no zero-filled buffer).
class MappedFile {
 public:
  MappedFile() = default;
  static MappedFile open(const std::filesystem::path& path);  // throws JournalError
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  ~MappedFile();
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }

 private:
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// What open() found: the entries (payloads point into `file`), and what it had to repair.
struct JournalContents {
  MappedFile file;
  std::vector<std::string> type_names;  // by journal type id
  std::vector<EncodedEntry> entries;    // in journal (arrival) order
  std::vector<std::string> warnings;    // each names the file, the offset and what was done
};

class Journal {
 public:
  // Opens or creates the journal at `path` for ledger `ledger_id`, verifies every record, and
  // repairs what a crash can leave: a torn or corrupt tail is cut off; corruption followed by
  // valid records is salvaged (the original is kept beside it as `<path>.corrupt-<n>`).
  // Throws JournalError (file untouched) for a foreign, newer or other-ledger journal.
  static Journal open(const std::filesystem::path& path, std::string_view ledger_id,
                      JournalOptions options, JournalContents& contents);

  Journal(Journal&&) noexcept;
  Journal& operator=(Journal&&) noexcept;
  ~Journal();  // closes, syncing what is buffered (errors are swallowed; call close() to see them)

  // Appends one entry record (and its type record the first time a type appears).
  void append(const EncodedEntry& entry);
  void append(const EntryView& entry);

  // Writes buffered records to the file (survives a crash of this process, not of the machine).
  void flush();
  // Writes and fsyncs: everything appended so far is durable when this returns.
  void sync();
  // For the Interval policy: throws JournalError if a background write or fsync failed.
  void poll();
  void close();

  const std::filesystem::path& path() const { return path_; }
  std::uint64_t appended() const { return appended_; }  // entry records appended since open
  // Of those, how many are fsynced (for Interval, it grows in the background).
  std::uint64_t durable() const { return syncer_ ? syncer_->durable() : durable_; }

 private:
  Journal(std::filesystem::path path, int fd, JournalOptions options);
  void write_record(std::span<const std::uint8_t> body);
  std::uint16_t journal_type_id(std::string_view type);
  void stop_syncer();  // keeps what it made durable

  std::filesystem::path path_;
  int fd_ = -1;
  JournalOptions options_;
  std::vector<std::uint8_t> buffer_;
  std::vector<std::uint8_t> body_;
  std::unordered_map<std::string, std::uint16_t> type_ids_;
  std::uint64_t appended_ = 0;
  std::uint64_t written_ = 0;        // entry records handed to the kernel
  std::uint64_t durable_ = 0;
  std::unique_ptr<JournalSyncer> syncer_;  // Interval policy only
};

// A region of a journal that held no valid record: [begin, end) and why.
struct BadRegion {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string reason;
};

// What reading a journal's bytes found, besides the entries.
struct JournalScan {
  std::size_t header_size = 0;
  std::vector<std::pair<std::size_t, std::size_t>> records;  // valid records: offset, size
  std::vector<BadRegion> bad_regions;  // skipped; the scan resumes at the next valid record
};

// Reads and verifies journal bytes without touching any file (open() and fuzzing use it).
// Throws JournalError when the header is not a usable Tally journal for `expected_ledger_id`
// (an empty id accepts any ledger).
JournalScan read_journal(std::span<const std::uint8_t> bytes, std::string_view source_name,
                         std::string_view expected_ledger_id, JournalContents& contents);

// The header bytes of a new journal for `ledger_id`.
std::vector<std::uint8_t> journal_header(std::string_view ledger_id);

}  // namespace tally
