// libFuzzer target: journal bytes through read_journal, and the entries it recovers into a Ledger.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "runtime/journal.hpp"

using tally::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tally::JournalContents contents;
  tally::JournalScan scan;
  try {
    scan = tally::read_journal({data, size}, "fuzz", "", contents);
  } catch (const tally::JournalError&) {
    return 0;  // not a usable journal: refused, which is the documented outcome
  }

  // Valid records and bad regions tile the bytes after the header, in order: every byte is
  // accounted for exactly once.
  std::size_t pos = scan.header_size;
  std::size_t record = 0;
  std::size_t bad = 0;
  while (record < scan.records.size() || bad < scan.bad_regions.size()) {
    if (record < scan.records.size() && scan.records[record].first == pos) {
      require(scan.records[record].second > 0, "a record has a size");
      pos += scan.records[record++].second;
    } else {
      require(bad < scan.bad_regions.size() && scan.bad_regions[bad].begin == pos &&
                  scan.bad_regions[bad].end > pos,
              "records and bad regions follow each other without gaps");
      pos = scan.bad_regions[bad++].end;
    }
  }
  require(pos == size, "records and bad regions end where the bytes end");

  // read_journal validated every entry, so the ledger must take them all without complaint, and
  // keep exactly one entry per distinct key.
  tally::Ledger ledger("fuzz");
  std::vector<tally::InsertStatus> statuses;
  ledger.insert_batch(std::span<const tally::EncodedEntry>(contents.entries), &statuses);
  require(statuses.size() == contents.entries.size(), "every journal entry gets an insert status");
  std::set<tally::EntryKey> keys;
  for (const auto& e : contents.entries) keys.insert(e.key);
  require(ledger.size() == keys.size(), "the ledger holds one entry per distinct key");
  return 0;
}

#ifdef TALLY_LIBFUZZER
extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace {

void put_le64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// Recomputes the header and record checksums in place, as a writer would have.
void reseal(std::uint8_t* data, std::size_t size) {
  if (size < 13 || std::memcmp(data, "TALLYJNL", 8) != 0) return;
  const std::size_t id_end = 13 + std::size_t{data[12]};
  if (id_end + 8 > size) return;
  put_le64(data + id_end, XXH3_64bits(data, id_end));
  std::size_t pos = id_end + 8;
  while (size - pos >= 12) {
    std::uint32_t length = 0;
    for (int i = 3; i >= 0; --i) length = (length << 8) | data[pos + static_cast<std::size_t>(i)];
    if (length == 0 || length > size - pos - 12) return;
    put_le64(data + pos + 4, XXH3_64bits_withSeed(data + pos + 12, length, length));
    pos += 12 + std::size_t{length};
  }
}

}  // namespace

// Random mutations almost never keep a 64-bit checksum right, so most would only exercise the
// checksum test: three mutants in four are resealed, which lets the fuzzer reach the record
// parser and the ledger; the rest keep exercising recovery from bad checksums.
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  size = LLVMFuzzerMutate(data, size, max_size);
  if (seed % 4 != 0) reseal(data, size);
  return size;
}
#endif
