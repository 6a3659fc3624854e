// Writes the fuzz seeds made by Tally's own writers, or with --check compares the committed ones.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/ledger_export.hpp"
#include "runtime/persistent_ledger.hpp"
#include "runtime/sync_frames.hpp"

namespace fs = std::filesystem;
using namespace tally;

namespace {

struct Seed {
  std::string path;  // relative to the corpus folder: <target>/<file>
  std::string bytes;
};

std::string as_text(const std::vector<std::uint8_t>& bytes) {
  return {bytes.begin(), bytes.end()};
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// DKP-style entries of two types, a binary string, a float, an empty payload and a key
// conflict, so the seeds reach every value kind and insert outcome.
std::vector<Entry> sample_entries() {
  std::vector<Entry> out;
  const char* players[] = {"Dagna", "Brannoc", "Thessaly"};
  for (std::uint32_t i = 0; i < 6; ++i) {
    Entry e{{1764000000 + i * 90, static_cast<std::uint8_t>(i % 2), 0, 101 + i % 3},
            i % 3 == 2 ? "spend" : "award",
            1,
            {}};
    e.payload.set("player", std::string(players[i % 3])).set("amount", std::int64_t{10} * (i + 1));
    if (i == 1) e.payload.set("ratio", 0.75).set("boss", std::string("Ragnaros"));
    if (i == 4) e.payload.set("note", std::string("\x00\xff raw\n", 7)).set("final", true);
    out.push_back(std::move(e));
  }
  out.push_back(Entry{{1764000600, 0, 7, 103}, "decay", 2, {}});
  Entry rival = out[0];  // same key, other content: a conflict the ledger settles
  rival.payload.set("amount", std::int64_t{-5});
  out.push_back(std::move(rival));
  return out;
}

// The journal a PersistentLedger writes for the sample entries, written in a scratch folder.
std::string sample_journal() {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("tally-seeds-" + std::to_string(rd()));
  fs::create_directories(dir);
  {
    auto store = PersistentLedger::open(dir / "j", "GuildDKP", {FsyncPolicy::OnClose, {}}, nullptr);
    for (const Entry& e : sample_entries()) store.insert(e);
    store.close();
  }
  std::string bytes = slurp(dir / "j");
  fs::remove_all(dir);
  return bytes;
}

// Sync frames of every kind, each followed by a NUL as fuzz_sync_wire reads them; an extra NUL
// passes the turn to the next sender.
std::vector<Seed> sync_wire_seeds(const Ledger& ledger) {
  std::vector<Entry> entries;
  std::vector<RangeId> ids;
  ledger.for_each(0, ledger.size(), [&](std::size_t, EntryView e) {
    entries.push_back(e.to_entry());
    ids.push_back({e.key(), content_tag(e.content_hash())});
  });
  FrameEncoder encoder;
  std::string text;
  auto add = [&](const SyncMessage& message) {
    for (const std::string& frame : encoder.encode(message)) text += frame + '\0';
  };
  auto take = [&] { return std::exchange(text, std::string()); };
  std::vector<Seed> out;

  RefAdvert advert;
  for (const auto& [week, summary] : ledger.weeks()) {
    advert.weeks.push_back({week, ledger.week_adler32(week), summary.count});
  }
  add(advert);
  add(RefRequest{advert.weeks.front().week});
  add(RefWeek{advert.weeks.front().week, entries});
  out.push_back({"sync_wire/gen-reference.bin", take()});

  const Fingerprint middle = ledger.fingerprint(3, 5);
  add(Advert{ledger.size(), ledger.fingerprint().sum, entries.back().key.timestamp,
             ledger.adler32(0, ledger.size()), 1});
  add(Ranges{7,
             ids[0].key,
             {{ids[3].key, RangeIds{{ids[0], ids[1], ids[2]}}},
              {ids[5].key, RangeFingerprint{static_cast<std::uint32_t>(middle.count), middle.sum}},
              {ids[6].key, RangeSkip{}},
              {std::nullopt, RangeIds{{ids[6]}}}}});
  add(Need{7, {ids[1].key, ids[4].key}});
  add(Entries{7, entries});
  add(Claim{7, 0xdeadbeef});
  out.push_back({"sync_wire/gen-tally.bin", take()});

  // Chunks: a long Need from one sender, out of order and with a duplicate, then an entry too
  // long for one frame from the next sender.
  Need need{9, {}};
  for (std::uint32_t i = 0; i < 150; ++i) {
    need.keys.push_back({1764000000 + i * 37, static_cast<std::uint8_t>(i % 3), 0, 101 + i % 5});
  }
  std::vector<std::string> chunks = encoder.encode(need);
  std::swap(chunks.front(), chunks.back());
  chunks.push_back(chunks[1]);
  for (const std::string& frame : chunks) text += frame + '\0';
  text += '\0';
  Entry note{{1764000900, 0, 0, 101}, "note", 1, {}};
  note.payload.set("text", std::string(kMaxStringLength, 'x'));
  add(Entries{0, {note}});
  out.push_back({"sync_wire/gen-chunked.bin", take()});
  return out;
}

std::vector<Seed> seeds() {
  std::vector<Seed> out;
  const std::string journal = sample_journal();
  out.push_back({"journal/gen-valid.journal", journal});
  out.push_back({"journal/gen-header-only.journal", as_text(journal_header("GuildDKP"))});
  out.push_back({"journal/gen-torn.journal", journal.substr(0, journal.size() - 5)});
  std::string bad = journal;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x5a);  // inside a middle record
  out.push_back({"journal/gen-bad-record.journal", bad});

  const std::vector<Entry> entries = sample_entries();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    out.push_back({"payload/gen-entry" + std::to_string(i) + ".bin",
                   as_text(encode_payload(entries[i].payload))});
  }
  Payload wide;  // the field-count limit, with long names
  for (std::size_t i = 0; i < kMaxFields; ++i) {
    wide.set("field_" + std::to_string(100 + i), static_cast<std::int64_t>(i) - 16);
  }
  out.push_back({"payload/gen-wide.bin", as_text(encode_payload(wide))});
  Payload edges;
  edges.set("max", kMaxSafeInteger).set("min", -kMaxSafeInteger).set("tiny", 5e-324);
  edges.set("long", std::string(kMaxStringLength, 'x')).set("big", 1e300);
  out.push_back({"payload/gen-edges.bin", as_text(encode_payload(edges))});

  Ledger ledger("GuildDKP");
  ledger.insert_batch(std::span<const Entry>(entries));
  out.push_back({"ledger_import/gen-export.json", ledger_to_json_text(ledger)});
  out.push_back({"ledger_import/gen-export.lua", ledger_to_saved_variables(ledger, "V")});
  for (Seed& seed : sync_wire_seeds(ledger)) out.push_back(std::move(seed));
  Ledger empty("");
  out.push_back({"ledger_import/gen-empty.json", ledger_to_json_text(empty)});
  out.push_back({"ledger_import/gen-empty.lua", ledger_to_saved_variables(empty, "V")});
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const bool check = argc == 3 && std::string_view(argv[1]) == "--check";
  if (argc != 2 && !check) {
    std::fprintf(stderr, "usage: %s [--check] <corpus folder>\n", argv[0]);
    return 2;
  }
  const fs::path corpus = argv[argc - 1];
  int stale = 0;
  for (const Seed& seed : seeds()) {
    const fs::path path = corpus / seed.path;
    if (check) {
      if (!fs::exists(path) || slurp(path) != seed.bytes) {
        std::fprintf(stderr, "%s: missing or stale; regenerate with make_fuzz_seeds %s\n",
                     path.c_str(), corpus.c_str());
        ++stale;
      }
      continue;
    }
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << seed.bytes;
  }
  return stale == 0 ? 0 : 1;
}
