// Ledger export and import: exact JSON round trips and named errors for bad documents.
#include <doctest/doctest.h>

#include <random>

#include "runtime/ledger_export.hpp"

using namespace tally;

namespace {

Ledger sample_ledger() {
  Ledger ledger("GuildDKP");
  std::mt19937 rng(9);
  for (std::uint32_t i = 0; i < 200; ++i) {
    Entry e{{1700000000 + i * 13, static_cast<std::uint8_t>(i % 4), static_cast<std::uint16_t>(i % 3),
             4000000000u + i},
            i % 2 ? "award" : "loot", static_cast<std::uint8_t>(1 + i % 2), {}};
    e.payload.set("amount", static_cast<std::int64_t>(i) - 100)
        .set("ratio", 0.1 * i + 0.05)
        .set("tiny", 5e-324)
        .set("huge", 1.7976931348623157e308)
        .set("safe", kMaxSafeInteger)
        .set("ok", i % 3 == 0)
        .set("name", std::string("Dagna \xE2\x9C\x93"));
    std::string binary;
    for (int b = 0; b < 8; ++b) binary += static_cast<char>(rng() & 0xff);
    e.payload.set("blob", binary);
    ledger.insert(e);
  }
  return ledger;
}

std::vector<Entry> entries_of(const Ledger& ledger) {
  std::vector<Entry> out;
  ledger.for_each(0, ledger.size(), [&](std::size_t, const EntryView& e) { out.push_back(e.to_entry()); });
  return out;
}

std::string import_error(const std::string& json_text) {
  try {
    ledger_from_json_text(json_text, "doc.json");
  } catch (const ImportError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("JSON export round-trips exactly, binary strings included") {
  Ledger ledger = sample_ledger();
  std::string text = ledger_to_json_text(ledger);
  LedgerDocument doc = ledger_from_json_text(text, "dkp.json");
  CHECK(doc.ledger_id == "GuildDKP");
  CHECK(doc.entries == entries_of(ledger));
  Ledger again(doc.ledger_id);
  again.insert_batch(std::span<const Entry>(doc.entries));
  CHECK(again.fingerprint() == ledger.fingerprint());
  CHECK(ledger_to_json_text(again) == text);
}

TEST_CASE("bad JSON documents are refused with the place named") {
  auto doc = [](const std::string& entry) {
    return R"({"format":"tally-ledger","version":1,"ledger":"x","entries":[)" + entry + "]}";
  };
  const std::string ok = R"("counter":0,"creator":5,"type":"award","data":{"amount":3})";
  CHECK(import_error(doc("{\"ts\":100," + ok + "}")) == "no error");
  CHECK(import_error("{not json").find("doc.json: not valid JSON at byte") == 0);
  CHECK(import_error(R"({"format":"other"})").find("doc.json: format: expected \"tally-ledger\"") == 0);
  CHECK(import_error(R"({"format":"tally-ledger","version":7,"ledger":"x","entries":[]})")
            .find("version: document version 7 is newer") != std::string::npos);
  CHECK(import_error(doc("{\"ts\":-5," + ok + "}")) ==
        "doc.json: entries[1].ts: expected an integer in 0..4294967295, got -5");
  CHECK(import_error(doc("{\"ts\":4294967296," + ok + "}")).find("entries[1].ts: expected an integer in") !=
        std::string::npos);
  CHECK(import_error(doc("{\"ts\":\"noon\"," + ok + "}")) ==
        "doc.json: entries[1].ts: expected an integer, got \"noon\"");
  CHECK(import_error(doc(R"({"ts":1,"counter":256,"creator":5,"type":"award"})"))
            .find("entries[1].counter: expected an integer in 0..255, got 256") != std::string::npos);
  CHECK(import_error(doc(R"({"ts":1,"counter":0,"type":"award"})")) ==
        "doc.json: entries[1].creator: missing");
  CHECK(import_error(doc(R"({"ts":1,"counter":0,"creator":1,"type":"bad type"})"))
            .find("entries[1]: entry type \"bad type\" is not a name") != std::string::npos);
  CHECK(import_error(doc(R"({"ts":1,"counter":0,"creator":1,"type":"a","data":{"x":[1]}})")) ==
        "doc.json: entries[1].data.x: expected a boolean, number or string, got array");
  CHECK(import_error(doc(R"({"ts":1,"counter":0,"creator":1,"type":"a","data":{"x":9007199254740993}})"))
            .find("entries[1].data.x: integer 9007199254740993 is outside the safe range") != std::string::npos);
  CHECK(import_error(doc(R"({"ts":1,"counter":0,"creator":1,"type":"a","color":"red"})")) ==
        "doc.json: entries[1].color: unknown field");
  std::string big = R"({"ts":1,"counter":0,"creator":1,"type":"a","data":{)";
  for (int i = 0; i < 5; ++i) big += (i ? "," : "") + std::string("\"s") + std::to_string(i) + "\":\"" + std::string(250, 'x') + "\"";
  big += "}}";
  CHECK(import_error(doc(big)).find("entries[1]: payload encodes to more than 1024 bytes") != std::string::npos);
  CHECK(import_error(doc(R"({"ts":1,"counter":0,"creator":1,"type":"a","data":{"b":{"hex":"zz"}}})"))
            .find("entries[1].data.b: bad hex digit 'z'") != std::string::npos);
}

TEST_CASE("SavedVariables export round-trips exactly") {
  Ledger ledger = sample_ledger();
  Entry bare{{1, 0, 0, 1}, "note", 1, {}};  // an empty payload is an empty Lua table
  ledger.insert(bare);
  std::string text = ledger_to_saved_variables(ledger, "TallyLedger_GuildDKP");
  LedgerDocument doc = ledger_from_saved_variables(text, "GuildDKP.lua", "TallyLedger_GuildDKP");
  CHECK(doc.ledger_id == "GuildDKP");
  CHECK(doc.entries == entries_of(ledger));
  Ledger again(doc.ledger_id);
  again.insert_batch(std::span<const Entry>(doc.entries));
  CHECK(ledger_to_saved_variables(again, "TallyLedger_GuildDKP") == text);
}

TEST_CASE("SavedVariables text is written as the game writes it") {
  Ledger ledger("raid");
  Entry e{{1700000000, 2, 0, 77}, "award", 1, {}};
  e.payload.set("player", std::string("Dagna")).set("amount", std::int64_t{10}).set("why", std::string("a\"b\\c\n\x01" "2"));
  ledger.insert(e);
  const std::string expected =
      "V = {\n"
      "\t[\"entries\"] = {\n"
      "\t\t{\n"
      "\t\t\t[\"counter\"] = 2,\n"
      "\t\t\t[\"creator\"] = 77,\n"
      "\t\t\t[\"data\"] = {\n"
      "\t\t\t\t[\"amount\"] = 10,\n"
      "\t\t\t\t[\"player\"] = \"Dagna\",\n"
      "\t\t\t\t[\"why\"] = \"a\\\"b\\\\c\\n\\0012\",\n"
      "\t\t\t},\n"
      "\t\t\t[\"realm\"] = 0,\n"
      "\t\t\t[\"rev\"] = 1,\n"
      "\t\t\t[\"ts\"] = 1700000000,\n"
      "\t\t\t[\"type\"] = \"award\",\n"
      "\t\t}, -- [1]\n"
      "\t},\n"
      "\t[\"format\"] = \"tally-ledger\",\n"
      "\t[\"ledger\"] = \"raid\",\n"
      "\t[\"version\"] = 1,\n"
      "}\n";
  CHECK(ledger_to_saved_variables(ledger, "V") == expected);
}

TEST_CASE("hand-edited SavedVariables syntax is read like Lua reads it") {
  const std::string text = R"(-- saved by hand
Other = { 1, 2, 3 }
V = { format = 'tally-ledger'; version = 0x1, ledger = [[
raid]], --[[ long
comment ]] entries = {
  { ts = 1e3, counter = 0, creator = 5, type = "award", data = { note = "tab\tq\'\65" } },
  [2] = { ts = 2000, counter = 1, creator = -0, type = "award", data = {} },
}, }
)";
  LedgerDocument doc = ledger_from_saved_variables(text, "x.lua", "V");
  CHECK(doc.ledger_id == "raid");
  REQUIRE(doc.entries.size() == 2);
  CHECK(doc.entries[0].key.timestamp == 1000);
  CHECK(std::get<std::string>(*doc.entries[0].payload.find("note")) == "tab\tq'A");
  CHECK(doc.entries[1].payload.empty());
}

TEST_CASE("malformed SavedVariables are refused with line and column") {
  auto error = [](const std::string& text) {
    try {
      ledger_from_saved_variables(text, "bad.lua", "V");
    } catch (const ImportError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error("V = {\n  \"unterminated\n}") == "bad.lua:2:3: unterminated string (line break inside quotes)");
  CHECK(error("V = { \"\\q\" }") == "bad.lua:1:8: invalid escape sequence '\\q'");
  CHECK(error("V = { \"\\300\" }") == "bad.lua:1:8: escape sequence '\\300' is larger than 255");
  CHECK(error("V { }") == "bad.lua:1:3: expected '=' after 'V', got '{'");
  CHECK(error("V = { 1, 2") == "bad.lua:1:11: expected '}' to close the '{' at 1:5, got end of file");
  CHECK(error("V = { [nil] = 1 }") == "bad.lua:1:8: table index is nil");
  CHECK(error("V = { 1 } junk") == "bad.lua:1:15: expected '=' after 'junk', got end of file");
  CHECK(error("1V = {}") == "bad.lua:1:1: malformed number '1V'");
  CHECK(error(std::string(300, '{')).find("expected a variable name") != std::string::npos);
  CHECK(error("V = " + std::string(250, '{') + std::string(250, '}')) ==
        "bad.lua:1:205: tables nested 201 levels deep (the limit is 200)");
  CHECK(error("W = {}") == "bad.lua: no variable named V");
  CHECK(error("V = { format = 'tally-ledger', version = 1, ledger = 'x', entries = { { ts = 1.5 } } }") ==
        "bad.lua: entries[1].ts: expected an integer, got 1.5");
}
