// Addon discovery: .toc parsing, UI XML Script/Include expansion, load order and its failures.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <random>

#include "runtime/addon_catalog.hpp"
#include "temp_dir.hpp"

using namespace tally;
namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = fs::path(TALLY_TEST_DATA_DIR) / "addons_catalog";

void write(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// An addon folder with its .toc, and an empty .lua for every listed .lua file.
void write_addon(const fs::path& root, const std::string& name, const std::string& toc) {
  write(root / name / (name + ".toc"), toc);
  std::size_t start = 0;
  while (start < toc.size()) {
    auto end = toc.find('\n', start);
    auto line = toc.substr(start, end - start);
    if (line.ends_with(".lua")) write(root / name / line, "");
    start = end == std::string::npos ? toc.size() : end + 1;
  }
}

std::vector<std::string> names(const AddonCatalog& catalog) {
  std::vector<std::string> out;
  for (const auto& a : catalog.addons) {
    out.push_back(a.name + (a.loadable ? "" : " (not loadable)"));
  }
  return out;
}

const AddonInfo& addon(const AddonCatalog& catalog, std::string_view name) {
  auto it = std::find_if(catalog.addons.begin(), catalog.addons.end(),
                         [&](const AddonInfo& a) { return a.name == name; });
  REQUIRE_MESSAGE(it != catalog.addons.end(), "no addon " << name);
  return *it;
}

std::vector<std::string> chunk_names(const AddonInfo& info) {
  std::vector<std::string> out;
  for (const auto& step : info.steps) out.push_back(step.chunk_name);
  return out;
}

std::string toc_error(std::string_view text) {
  try {
    parse_toc(text, "X.toc");
  } catch (const AddonError& e) {
    return e.what();
  }
  return "no error";
}

std::string xml_error(std::string_view text) {
  try {
    parse_ui_xml(text, "UI.xml");
  } catch (const AddonError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("a toc's metadata, lists and files") {
  auto toc = parse_toc(
      "\xEF\xBB\xBF## Interface: 11503\r\n"
      "## title:  Guild DKP  \r\n"
      "##Version:1.2\r\n"
      "## X-Website: https://example.org/a:b\r\n"
      "## SavedVariables: GuildDKPDB , ,GuildDKPLog,\r\n"
      "## SavedVariablesPerCharacter: GuildDKPChar\r\n"
      "## Dependencies: LibStub, LibDKP\r\n"
      "## Dep1: libstub\r\n"
      "## RequiredDeps: LibSync\r\n"
      "## OptionalDeps: zLogger, LibDKP\r\n"
      "## LoadOnDemand: 1\r\n"
      "## DefaultState: disabled\r\n"
      "## Title: ignored, the first one wins\r\n"
      "# a comment\r\n"
      "## a comment too, it has no colon\r\n"
      "\r\n"
      "   \t\r\n"
      "Locales\\enUS.lua   \r\n"
      "UI\\Sub/../Main.XML\r\n"
      "core.lua",
      "GuildDKP.toc");
  CHECK(toc.interface == "11503");
  CHECK(toc.title == "Guild DKP");
  CHECK(toc.version == "1.2");
  CHECK(toc.metadata.at("x-website") == "https://example.org/a:b");
  CHECK(toc.metadata.at("defaultstate") == "disabled");
  CHECK(toc.metadata.at("dep1") == "libstub");
  CHECK(toc.metadata.size() == 12);
  CHECK(toc.load_on_demand);
  CHECK(toc.saved_variables == std::vector<std::string>{"GuildDKPDB", "GuildDKPLog"});
  CHECK(toc.saved_variables_per_character == std::vector<std::string>{"GuildDKPChar"});
  // Dep1's libstub repeats LibStub (names match case-insensitively); LibDKP is required.
  CHECK(toc.required_deps == std::vector<std::string>{"LibStub", "LibDKP", "LibSync"});
  CHECK(toc.optional_deps == std::vector<std::string>{"zLogger"});
  REQUIRE(toc.files.size() == 3);
  CHECK(toc.files[0].path == "Locales/enUS.lua");
  CHECK(toc.files[0].line == 18);
  CHECK(toc.files[1].path == "UI/Main.XML");
  CHECK(toc.files[2].path == "core.lua");
  CHECK(toc.files[2].line == 20);
  CHECK_FALSE(parse_toc("## LoadOnDemand: 0\n", "X.toc").load_on_demand);
}

TEST_CASE("toc errors name the line") {
  CHECK(toc_error("a.lua\nreadme.txt\n") ==
        "X.toc:2: unsupported file type: readme.txt (only .lua and .xml load)");
  CHECK(toc_error("Libs\\..\\..\\Other\\x.lua") ==
        "X.toc:1: path leaves the addon folder: Libs\\..\\..\\Other\\x.lua");
  CHECK(toc_error("\n/etc/x.lua") == "X.toc:2: path leaves the addon folder: /etc/x.lua");
  CHECK(toc_error("a/..") == "X.toc:1: empty path");
  CHECK(toc_error(std::string(kMaxTocBytes + 1, '#')) ==
        "X.toc: larger than the 1 MiB limit for .toc files");
}

TEST_CASE("UI XML: Script and Include, any quotes and attribute order") {
  auto xml = parse_ui_xml(
      "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n"
      "<Ui xmlns=\"http://www.blizzard.com/wow/ui/\">\n"
      "  <!-- <Script file=\"commented.lua\"/> -->\n"
      "  <Script file='a.lua'/>\n"
      "  <Include\n    id=\"x\" file = \"Sub\\b.xml\" />\n"
      "  <Script file=\"c&amp;d.lua\"></Script>\n"
      "</Ui>\n",
      "UI.xml");
  REQUIRE(xml.items.size() == 3);
  CHECK(xml.items[0].kind == UiXmlItem::ScriptFile);
  CHECK(xml.items[0].text == "a.lua");
  CHECK(xml.items[0].line == 4);
  CHECK(xml.items[1].kind == UiXmlItem::Include);
  CHECK(xml.items[1].text == "Sub\\b.xml");
  CHECK(xml.items[1].line == 5);
  CHECK(xml.items[2].text == "c&d.lua");
  CHECK(xml.warnings.empty());
}

TEST_CASE("UI XML: inline scripts keep their lines") {
  auto xml = parse_ui_xml(
      "<Ui>\n"
      "<Script>local a = 1\n"
      "  <!-- two\n  lines -->\n"
      "  if a < 2 and a &gt; 0 then print(\"&#x48;i &bogus;\") end\n"
      "  <![CDATA[x = \"<b>&amp;\"]]>\n"
      "</Script >\n"
      "<Script>   </Script>\n"
      "</Ui>",
      "UI.xml");
  REQUIRE(xml.items.size() == 1);
  CHECK(xml.items[0].kind == UiXmlItem::InlineScript);
  CHECK(xml.items[0].line == 2);
  CHECK(xml.items[0].text ==
        "local a = 1\n"
        "  \n\n"
        "  if a < 2 and a > 0 then print(\"Hi &bogus;\") end\n"
        "  x = \"<b>&amp;\"\n");
}

TEST_CASE("UI XML: frames are ignored with a warning, and so is all inside them") {
  auto xml = parse_ui_xml(
      "<Ui>\n"
      "  <Frame name=\"F\">\n"
      "    <Scripts><OnLoad>self:Hide()</OnLoad></Scripts>\n"
      "    <Script file=\"inside.lua\"/>\n"
      "  </Frame>\n"
      "  <Font name=\"MyFont\"/>\n"
      "  <Script file=\"after.lua\"/>\n"
      "</Ui>",
      "UI/UI.xml");
  REQUIRE(xml.items.size() == 1);
  CHECK(xml.items[0].text == "after.lua");
  CHECK(xml.warnings ==
        std::vector<std::string>{
            "UI/UI.xml: ignored <Frame> at line 2: UI XML frames are not supported",
            "UI/UI.xml: ignored <Font> at line 6: UI XML frames are not supported"});

  std::string many = "<Ui>";
  for (int i = 0; i < 60; ++i) many += "<Frame/>";
  auto capped = parse_ui_xml(many + "</Ui>", "M.xml");
  REQUIRE(capped.warnings.size() == 51);
  CHECK(capped.warnings.back() == "M.xml: 10 more ignored elements not listed");
}

TEST_CASE("UI XML: malformed markup is an error with its line") {
  CHECK(xml_error("<Ui>\n<!-- open") == "UI.xml:2: unterminated comment");
  CHECK(xml_error("<Ui>\n<Frame>\n</Button>\n</Ui>") ==
        "UI.xml:3: </Button> does not close <Frame> from line 2");
  CHECK(xml_error("<Ui>\n  <Frame>\n") == "UI.xml:2: <Frame> is never closed");
  CHECK(xml_error("</Ui>") == "UI.xml:1: </Ui> closes nothing");
  CHECK(xml_error("<Ui>\n< Frame/>") == "UI.xml:2: expected an element name after '<'");
  CHECK(xml_error("<Ui>\n<Script file=a.lua/>") ==
        "UI.xml:2: attribute 'file' in <Script> tag needs a quoted value");
  CHECK(xml_error("<Ui>\n<Script file/>") ==
        "UI.xml:2: attribute 'file' in <Script> tag has no value");
  CHECK(xml_error("<Ui>\n<Script file=\"a.lua/>\n</Ui>") ==
        "UI.xml:2: unterminated value of attribute 'file' in <Script> tag");
  CHECK(xml_error("<Ui>\n<Script file=\"a\" file=\"b\"/>") ==
        "UI.xml:2: duplicate attribute 'file' in <Script> tag");
  CHECK(xml_error("<Ui>\n<Frame name=\"x\"") == "UI.xml:2: unterminated <Frame> tag");
  CHECK(xml_error("<Ui><Frame \x01/>") == "UI.xml:1: unexpected '\\x01' in <Frame> tag");
  CHECK(xml_error("<Ui>\n<Script>\nprint(1)\n</Ui>") == "UI.xml:2: <Script> is never closed");
  CHECK(xml_error("<Ui>\n<Include/>") == "UI.xml:2: <Include> has no file attribute");
  CHECK(xml_error("<Ui>\n<Script file=\" \"/>") ==
        "UI.xml:2: <Script> has an empty file attribute");
  CHECK(xml_error("<Ui></Ui\n x>") == "UI.xml:1: malformed </Ui> tag");
  std::string deep;
  for (int i = 0; i < 1001; ++i) deep += "<a>\n";
  CHECK(xml_error(deep) == "UI.xml:1001: elements nested deeper than 1000");
  CHECK(xml_error(std::string(kMaxXmlBytes + 1, ' ')) ==
        "UI.xml: larger than the 4 MiB limit for .xml files");
}

TEST_CASE("UI XML: garbage and mutations never crash or hang the scanner") {
  const std::string seed =
      "<Ui><!-- c --><Script file='a.lua'/><Include file=\"b.xml\"/>"
      "<Frame name=\"F\"><Size x=\"1\"/></Frame><Script>if a < b then x = '&lt;' end"
      "<![CDATA[ y ]]></Script><?pi?><!DOCTYPE x></Ui>";
  const std::string alphabet = "<>/!?-=\"' \n&;[]CDATAScriptInclude";
  std::mt19937 rng(20240601);
  for (int round = 0; round < 20000; ++round) {
    std::string text = seed;
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      auto pos = rng() % (text.size() + 1);
      switch (rng() % 3) {
        case 0:
          if (pos < text.size()) text.erase(pos, 1 + rng() % 4);
          break;
        case 1:
          text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          text.insert(pos, 1, static_cast<char>(rng() % 256));
      }
    }
    try {
      auto xml = parse_ui_xml(text, "F.xml");
      for (const auto& item : xml.items) CHECK(item.line >= 1);
    } catch (const AddonError& e) {
      CHECK(std::string_view(e.what()).starts_with("F.xml:"));
    }
  }
}

TEST_CASE("a game folder: dependencies first, then alphabetical; broken ones last") {
  auto catalog = scan_addons(kFixtures / "game");
  CHECK(names(catalog) == std::vector<std::string>{"aardvark", "LibStub", "zLogger", "GuildDKP",
                                                   "Officer", "CycleA (not loadable)",
                                                   "CycleB (not loadable)", "Raid (not loadable)",
                                                   "RaidAssist (not loadable)"});
  CHECK(catalog.warnings == std::vector<std::string>{"Notes: no Notes.toc in the folder; skipped"});
  CHECK(addon(catalog, "CycleA").reason == "CycleA: dependency cycle CycleA -> CycleB -> CycleA");
  CHECK(addon(catalog, "CycleB").reason == "CycleB: dependency cycle CycleB -> CycleA -> CycleB");
  CHECK(addon(catalog, "Raid").reason == "Raid: missing required dependency LibRaidTools");
  CHECK(addon(catalog, "RaidAssist").reason ==
        "RaidAssist: required dependency Raid is not loadable");
  CHECK(addon(catalog, "Raid").steps.empty());
  CHECK(addon(catalog, "Officer").reason.empty());
}

TEST_CASE("a game folder: toc files and nested XML become load steps with the game's chunk names") {
  auto catalog = scan_addons(kFixtures / "game");
  const auto& dkp = addon(catalog, "GuildDKP");
  REQUIRE(dkp.loadable);
  CHECK(dkp.dir == fs::absolute(kFixtures / "game" / "GuildDKP").lexically_normal());
  CHECK(dkp.toc.title == "Guild DKP");
  CHECK(dkp.toc.version == "1.2.0");
  CHECK(dkp.toc.saved_variables == std::vector<std::string>{"GuildDKPDB", "GuildDKPLog"});
  CHECK(chunk_names(dkp) ==
        std::vector<std::string>{"@Interface\\AddOns\\GuildDKP\\Locales\\enUS.lua",
                                 "@Interface\\AddOns\\GuildDKP\\GuildDKP.lua",
                                 "@Interface\\AddOns\\GuildDKP\\UI\\UI.lua",
                                 "@Interface\\AddOns\\GuildDKP\\UI\\Widgets\\Button.lua",
                                 "@Interface\\AddOns\\GuildDKP\\UI\\Shared.lua",
                                 "@Interface\\AddOns\\GuildDKP\\UI\\UI.xml:8"});
  CHECK(dkp.steps[0].kind == LoadStep::LuaFile);
  CHECK(dkp.steps[3].path == dkp.dir / "UI" / "Widgets" / "Button.lua");
  CHECK(dkp.steps[4].path == dkp.dir / "UI" / "Shared.lua");
  for (std::size_t i = 0; i < 5; ++i) CHECK(fs::is_regular_file(dkp.steps[i].path));
  const auto& inline_script = dkp.steps[5];
  CHECK(inline_script.kind == LoadStep::InlineScript);
  CHECK(inline_script.path == dkp.dir / "UI" / "UI.xml");
  CHECK(inline_script.code == "\n    GuildDKP.ready = 1 < 2\n  ");
  CHECK(dkp.warnings ==
        std::vector<std::string>{
            "UI/UI.xml: ignored <Frame> at line 5: UI XML frames are not supported"});
}

TEST_CASE("a folder of broken addons: each reason names the file and line") {
  auto catalog = scan_addons(kFixtures / "problems");
  CHECK(names(catalog) == std::vector<std::string>{"BadToc (not loadable)", "BadXml (not loadable)",
                                                   "Escape (not loadable)",
                                                   "IncludeLoop (not loadable)",
                                                   "MissingFile (not loadable)"});
  CHECK(catalog.warnings ==
        std::vector<std::string>{"CaseToc: no CaseToc.toc in the folder; skipped"});
  CHECK(addon(catalog, "BadToc").reason ==
        "BadToc: BadToc.toc:3: unsupported file type: readme.txt (only .lua and .xml load)");
  CHECK(addon(catalog, "BadXml").reason ==
        "BadXml: Bad.xml:4: </Button> does not close <Frame> from line 3");
  CHECK(addon(catalog, "Escape").reason ==
        "Escape: Escape.toc:2: path leaves the addon folder: ..\\MissingFile\\Present.lua");
  CHECK(addon(catalog, "IncludeLoop").reason ==
        "IncludeLoop: Sub/B.xml:3: include cycle: A.xml -> Sub/B.xml -> A.xml");
  const auto& missing = addon(catalog, "MissingFile");
  CHECK(missing.reason == "MissingFile: MissingFile.toc:3: file not found: Gone.lua");
  CHECK(missing.toc.title == "Missing File");  // the toc was fine
  CHECK(missing.steps.empty());
}

TEST_CASE("dependency order: required and optional deps, cycles through optional deps") {
  TempDir dir;
  write_addon(dir.path(), "Alpha", "## OptionalDeps: Zeta, Gamma, NotInstalled\nAlpha.lua\n");
  write_addon(dir.path(), "Beta", "## Dependencies: Delta\n## OptionalDeps: Alpha\nBeta.lua\n");
  write_addon(dir.path(), "Gamma", "## Dependencies: alpha\nGamma.lua\n");  // case-insensitive
  write_addon(dir.path(), "Delta", "## RequiredDeps: Epsilon\nDelta.lua\n");
  write_addon(dir.path(), "Epsilon", "Epsilon.lua\n");
  write_addon(dir.path(), "Zeta", "## OptionalDeps: Broken\nZeta.lua\n");
  write(dir / "Broken/Broken.toc", "Missing.lua\n");
  write_addon(dir.path(), "Self", "## Dependencies: Self\nSelf.lua\n");
  auto catalog = scan_addons(dir.path());
  // Alpha wants Gamma first, but Gamma requires Alpha: that optional wish is dropped.
  CHECK(names(catalog) == std::vector<std::string>{"Zeta", "Alpha", "Epsilon", "Delta", "Beta",
                                                   "Gamma", "Broken (not loadable)",
                                                   "Self (not loadable)"});
  CHECK(addon(catalog, "Self").reason == "Self: dependency cycle Self -> Self");
  CHECK(addon(catalog, "Broken").reason == "Broken: Broken.toc:1: file not found: Missing.lua");
}

TEST_CASE("a cycle of optional deps loads in alphabetical order as far as it can") {
  TempDir dir;
  write_addon(dir.path(), "A", "## OptionalDeps: B\nA.lua\n");
  write_addon(dir.path(), "B", "## OptionalDeps: C\nB.lua\n");
  write_addon(dir.path(), "C", "## Dependencies: A\nC.lua\n");
  // A wants B first, B wants C first, but C requires A: B's wish is the one dropped.
  CHECK(names(scan_addons(dir.path())) == std::vector<std::string>{"B", "A", "C"});
}

TEST_CASE("include depth, XML budget and folder limits") {
  SUBCASE("32 nested includes load, 33 do not") {
    for (int levels : {32, 33}) {
      TempDir dir;
      write_addon(dir.path(), "Deep", "x0.xml\n");
      for (int i = 0; i < levels; ++i) {
        write(dir / ("Deep/x" + std::to_string(i) + ".xml"),
              "<Ui><Include file=\"x" + std::to_string(i + 1) + ".xml\"/></Ui>");
      }
      write(dir / ("Deep/x" + std::to_string(levels) + ".xml"),
            "<Ui><Script file=\"end.lua\"/></Ui>");
      write(dir / "Deep/end.lua", "");
      auto deep = scan_addons(dir.path()).addons.at(0);
      if (levels == 32) {
        CHECK(deep.loadable);
        CHECK(deep.steps.size() == 1);
      } else {
        CHECK(deep.reason == "Deep: x32.xml:1: includes nested deeper than 32 levels");
      }
    }
  }
  SUBCASE("repeated includes count against the per-addon XML budget") {
    TempDir dir;
    std::string big = "<Ui><Script file=\"a.lua\"/><!--" + std::string(3u << 20, 'x') + "--></Ui>";
    std::string many = "<Ui>";
    for (int i = 0; i < 25; ++i) many += "<Include file=\"big.xml\"/>";
    write_addon(dir.path(), "Bomb", "many.xml\n");
    write(dir / "Bomb/many.xml", many + "</Ui>");
    write(dir / "Bomb/big.xml", big);
    write(dir / "Bomb/a.lua", "");
    auto bomb = scan_addons(dir.path()).addons.at(0);
    CHECK(bomb.reason == "Bomb: more than 64 MiB of XML to load, counting repeated includes");
  }
  SUBCASE("an oversized toc") {
    TempDir dir;
    write_addon(dir.path(), "Huge", std::string(kMaxTocBytes + 1, '#'));
    CHECK(scan_addons(dir.path()).addons.at(0).reason ==
          "Huge: Huge.toc: larger than the 1 MiB limit for .toc files");
  }
  SUBCASE("XML paths may not leave the addon folder, and must have the right type") {
    TempDir dir;
    write_addon(dir.path(), "Out", "UI/a.xml\n");
    write(dir / "Out/UI/a.xml", "<Ui>\n<Script file=\"..\\..\\Other\\x.lua\"/></Ui>");
    write_addon(dir.path(), "Type", "a.xml\n");
    write(dir / "Type/a.xml", "<Ui>\n<Include file=\"b.lua\"/></Ui>");
    auto catalog = scan_addons(dir.path());
    CHECK(addon(catalog, "Out").reason ==
          "Out: UI/a.xml:2: path leaves the addon folder: ..\\..\\Other\\x.lua");
    CHECK(addon(catalog, "Type").reason ==
          "Type: a.xml:2: <Include> file is not an .xml file: b.lua");
  }
  SUBCASE("at most 1000 addon folders") {
    TempDir dir;
    for (int i = 0; i < 1001; ++i) fs::create_directory(dir / ("A" + std::to_string(i)));
    CHECK_THROWS_WITH_AS(scan_addons(dir.path()),
                         (dir.path().string() + ": more than 1000 addon folders").c_str(),
                         AddonError);
    fs::remove(dir / "A0");
    CHECK(scan_addons(dir.path()).warnings.size() == 1000);
  }
  SUBCASE("the AddOns folder must exist and be a folder") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(scan_addons(dir / "nope"),
                         (dir.path().string() + "/nope: no such directory").c_str(), AddonError);
    write(dir / "file", "");
    CHECK_THROWS_WITH_AS(scan_addons(dir / "file"),
                         (dir.path().string() + "/file: not a directory").c_str(), AddonError);
  }
}

TEST_CASE("a listed file that is a symbolic link out of the folder is refused; a linked folder loads") {
  TempDir dir;
  write(dir / "outside.lua", "");
  write_addon(dir / "elsewhere", "Real", "Real.lua\n");
  write(dir / "AddOns/Linker/Linker.toc", "Secret.lua\nUI/a.xml\n");
  fs::create_symlink(dir / "outside.lua", dir / "AddOns/Linker/Secret.lua");
  fs::create_directory_symlink(dir / "elsewhere/Real", dir / "AddOns/Real");
  auto catalog = scan_addons(dir / "AddOns");
  REQUIRE(catalog.addons.size() == 2);
  CHECK(catalog.addons[0].name == "Real");
  CHECK(catalog.addons[0].loadable);
  CHECK(catalog.addons[1].reason ==
        "Linker: Linker.toc:1: path leaves the addon folder through a symbolic link: Secret.lua");
}

TEST_CASE("addon names sort case-insensitively, as the game sorts them") {
  CHECK(addon_name_less("aardvark", "LibStub"));
  CHECK(addon_name_less("LibStub", "libstub"));  // ties: bytewise, for a stable order
  CHECK_FALSE(addon_name_less("zLogger", "Officer"));
}
