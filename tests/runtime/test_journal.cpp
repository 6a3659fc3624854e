// The journal: round trips, fsync policies, recovery from torn and corrupt data, refusals.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <thread>

#include "runtime/persistent_ledger.hpp"
#include "temp_dir.hpp"

using namespace tally;

namespace {

Entry make_entry(std::uint32_t i, std::string type = "award") {
  Entry e{{1700000000 + i * 60, static_cast<std::uint8_t>(i % 3), 0, 1000 + i % 17},
          std::move(type), 1, {}};
  e.payload.set("amount", static_cast<std::int64_t>(i % 50)).set("reason", std::string("boss kill"));
  if (i % 5 == 0) e.payload.set("ratio", 0.25 * i + 0.1);
  return e;
}

std::vector<std::uint8_t> slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const std::filesystem::path& p, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<Entry> entries_of(const Ledger& ledger) {
  std::vector<Entry> out;
  ledger.for_each(0, ledger.size(), [&](std::size_t, const EntryView& e) { out.push_back(e.to_entry()); });
  return out;
}

// Writes `count` entries (two types) to a fresh journal and returns the file size after each.
std::vector<std::size_t> write_journal(const std::filesystem::path& path, std::uint32_t count) {
  std::vector<std::size_t> sizes;
  auto store = PersistentLedger::open(path, "dkp", {FsyncPolicy::OnClose, {}}, nullptr);
  for (std::uint32_t i = 0; i < count; ++i) {
    store.insert(make_entry(i, i % 2 ? "award" : "spend"));
    store.journal().flush();
    sizes.push_back(std::filesystem::file_size(path));
  }
  store.close();
  return sizes;
}

}  // namespace

TEST_CASE("a journal round-trips every entry") {
  TempDir dir;
  auto path = dir / "dkp.journal";
  std::vector<Entry> written;
  {
    std::vector<std::string> warnings;
    auto store = PersistentLedger::open(path, "dkp", {}, &warnings);
    CHECK(warnings.empty());
    for (std::uint32_t i = 0; i < 500; ++i) {
      // Arrival out of order; the ledger sorts, the journal keeps arrival order.
      written.push_back(make_entry((i * 7919) % 500, i % 3 ? "award" : "spend"));
      store.insert(written.back());
    }
    store.insert(written[3]);  // a duplicate is not journaled again
    CHECK(store.journal().appended() == 500);
    store.close();
  }
  std::vector<std::string> warnings;
  auto reopened = PersistentLedger::open(path, "dkp", {}, &warnings);
  CHECK(warnings.empty());
  CHECK(reopened.ledger().size() == 500);
  Ledger expected("dkp");
  for (const auto& e : written) expected.insert(e);
  CHECK(entries_of(reopened.ledger()) == entries_of(expected));
  CHECK(reopened.ledger().fingerprint() == expected.fingerprint());
  // Appending after reopening continues the same file, type table included.
  reopened.insert(make_entry(9999, "decay"));
  reopened.close();
  auto third = PersistentLedger::open(path, "dkp", {}, &warnings);
  CHECK(third.ledger().size() == 501);
  CHECK(warnings.empty());
}

TEST_CASE("conflicts journaled in either order reload to the same ledger") {
  TempDir dir;
  auto a = make_entry(1);
  auto b = make_entry(1);
  b.payload.set("amount", std::int64_t{77});
  for (int order = 0; order < 2; ++order) {
    auto path = dir / ("j" + std::to_string(order));
    {
      auto store = PersistentLedger::open(path, "x", {}, nullptr);
      store.insert(order == 0 ? a : b);
      store.insert(order == 0 ? b : a);
      store.close();
    }
    auto store = PersistentLedger::open(path, "x", {}, nullptr);
    REQUIRE(store.ledger().size() == 1);
    CHECK(store.ledger().at(0).content_hash() == std::min(content_hash(a), content_hash(b)));
  }
}

TEST_CASE("a journal cut at every byte of its last record recovers the others") {
  TempDir dir;
  auto path = dir / "full";
  auto sizes = write_journal(path, 6);
  auto full = slurp(path);
  std::size_t last_start = sizes[4];
  REQUIRE(full.size() == sizes[5]);
  auto expected = entries_of(PersistentLedger::open(path, "dkp", {}, nullptr).ledger());
  expected.erase(std::find(expected.begin(), expected.end(), make_entry(5, "award")));

  for (std::size_t cut = last_start; cut < full.size(); ++cut) {
    auto cut_path = dir / ("cut" + std::to_string(cut));
    spit(cut_path, std::vector<std::uint8_t>(full.begin(), full.begin() + static_cast<long>(cut)));
    std::vector<std::string> warnings;
    auto store = PersistentLedger::open(cut_path, "dkp", {}, &warnings);
    CHECK(entries_of(store.ledger()) == expected);
    if (cut == last_start) {
      CHECK(warnings.empty());
    } else {
      REQUIRE(warnings.size() == 1);
      CHECK(warnings[0].find("torn") != std::string::npos);
      CHECK(warnings[0].find("offset " + std::to_string(last_start)) != std::string::npos);
    }
    // The file was cut back to its last good record, and appending works again.
    CHECK(std::filesystem::file_size(cut_path) == last_start);
    store.insert(make_entry(5, "award"));
    store.close();
    CHECK(PersistentLedger::open(cut_path, "dkp", {}, nullptr).ledger().size() == 6);
  }
}

TEST_CASE("a flipped byte in the last record is cut off, never loaded") {
  TempDir dir;
  auto path = dir / "j";
  auto sizes = write_journal(path, 4);
  auto bytes = slurp(path);
  for (std::size_t offset = sizes[2]; offset < sizes[3]; ++offset) {
    auto copy = bytes;
    copy[offset] ^= 0x20;
    auto p = dir / ("flip" + std::to_string(offset));
    spit(p, copy);
    std::vector<std::string> warnings;
    auto store = PersistentLedger::open(p, "dkp", {}, &warnings);
    CHECK(store.ledger().size() == 3);
    CHECK(warnings.size() == 1);
  }
}

TEST_CASE("corruption in the middle is salvaged and the original kept") {
  TempDir dir;
  auto path = dir / "j";
  auto sizes = write_journal(path, 10);
  auto bytes = slurp(path);
  bytes[sizes[4] + 20] ^= 0xff;  // inside record 6 (entry index 5)
  spit(path, bytes);
  std::vector<std::string> warnings;
  auto store = PersistentLedger::open(path, "dkp", {}, &warnings);
  CHECK(store.ledger().size() == 9);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].find("checksum mismatch") != std::string::npos);
  CHECK(warnings[1].find("salvaged") != std::string::npos);
  bool backup_found = false;
  for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
    if (f.path().filename().string().starts_with("j.corrupt-")) {
      backup_found = true;
      CHECK(slurp(f.path()) == bytes);
    }
  }
  CHECK(backup_found);
  store.close();
  std::vector<std::string> again;
  CHECK(PersistentLedger::open(path, "dkp", {}, &again).ledger().size() == 9);
  CHECK(again.empty());
}

TEST_CASE("foreign, newer and other-ledger journals are refused and left untouched") {
  TempDir dir;
  auto foreign = dir / "foreign";
  spit(foreign, {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n'});
  CHECK_THROWS_WITH_AS(PersistentLedger::open(foreign, "dkp", {}, nullptr),
                       doctest::Contains("not a Tally journal"), JournalError);
  CHECK(slurp(foreign).size() == 12);

  auto path = dir / "j";
  write_journal(path, 3);
  auto bytes = slurp(path);
  auto newer = bytes;
  newer[8] = 2;  // format version
  spit(dir / "newer", newer);
  CHECK_THROWS_WITH_AS(PersistentLedger::open(dir / "newer", "dkp", {}, nullptr),
                       doctest::Contains("format 2 is newer"), JournalError);
  CHECK(slurp(dir / "newer") == newer);

  CHECK_THROWS_WITH_AS(PersistentLedger::open(path, "loot", {}, nullptr),
                       doctest::Contains("belongs to ledger 'dkp', not 'loot'"), JournalError);
  CHECK(slurp(path) == bytes);

  auto bad_header = bytes;
  bad_header[14] ^= 1;  // inside the ledger id: header checksum fails
  spit(dir / "badheader", bad_header);
  CHECK_THROWS_WITH_AS(PersistentLedger::open(dir / "badheader", "", {}, nullptr),
                       doctest::Contains("header checksum"), JournalError);
}

TEST_CASE("garbage after valid records never loads") {
  TempDir dir;
  auto path = dir / "j";
  write_journal(path, 5);
  auto bytes = slurp(path);
  std::mt19937 rng(1);
  for (int i = 0; i < 5000; ++i) bytes.push_back(static_cast<std::uint8_t>(rng()));
  spit(path, bytes);
  std::vector<std::string> warnings;
  auto store = PersistentLedger::open(path, "dkp", {}, &warnings);
  CHECK(store.ledger().size() == 5);
  CHECK(warnings.size() == 1);
}

TEST_CASE("fsync policies decide what is durable") {
  TempDir dir;
  {
    auto store = PersistentLedger::open(dir / "every", "x", {FsyncPolicy::EveryEntry, {}}, nullptr);
    store.insert(make_entry(1));
    CHECK(store.journal().durable() == 1);
    store.insert(make_entry(2));
    CHECK(store.journal().durable() == 2);
  }
  {
    auto store = PersistentLedger::open(dir / "close", "x", {FsyncPolicy::OnClose, {}}, nullptr);
    store.insert(make_entry(1));
    store.insert(make_entry(2));
    CHECK(store.journal().durable() == 0);
    store.journal().sync();
    CHECK(store.journal().durable() == 2);
  }
  {
    // Interval: the journal's own thread makes appends durable, with no further call.
    auto store = PersistentLedger::open(dir / "interval", "x",
                                        {FsyncPolicy::Interval, std::chrono::milliseconds(1)}, nullptr);
    store.insert(make_entry(1));
    store.insert(make_entry(2));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (store.journal().durable() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(store.journal().durable() == 2);
    CHECK(PersistentLedger::open(dir / "interval", "x", {}, nullptr).ledger().size() == 2);
  }
  {
    auto store = PersistentLedger::open(dir / "slow", "x",
                                        {FsyncPolicy::Interval, std::chrono::hours(1)}, nullptr);
    store.insert(make_entry(1));
    store.journal().poll();
    CHECK(store.journal().durable() == 0);
    store.close();
    CHECK(store.journal().durable() == 1);
  }
  CHECK(PersistentLedger::open(dir / "slow", "x", {}, nullptr).ledger().size() == 1);
}

TEST_CASE("a record naming an undefined entry type is never loaded") {
  TempDir dir;
  auto path = dir / "j";
  auto sizes = write_journal(path, 2);
  auto bytes = slurp(path);
  // Rewrite the journal with the first type record dropped: entries of that type now refer to
  // a type id nobody defined. Records: type(spend), entry 0, type(award), entry 1.
  JournalContents contents;
  auto scan = read_journal(bytes, "j", "dkp", contents);
  REQUIRE(scan.records.size() == 4);
  std::vector<std::uint8_t> edited(bytes.begin(), bytes.begin() + static_cast<long>(scan.header_size));
  for (std::size_t r = 1; r < 4; ++r) {
    auto [offset, size] = scan.records[r];
    edited.insert(edited.end(), bytes.begin() + static_cast<long>(offset),
                  bytes.begin() + static_cast<long>(offset + size));
  }
  JournalContents edited_contents;
  auto edited_scan = read_journal(edited, "j", "dkp", edited_contents);
  CHECK(edited_contents.entries.empty());
  REQUIRE(edited_scan.bad_regions.size() == 3);
  CHECK(edited_scan.bad_regions[0].reason == "malformed record: entry refers to undefined type id 0");
  CHECK(edited_scan.bad_regions[1].reason == "malformed record: type record out of sequence");
  CHECK(sizes.size() == 2);
}
