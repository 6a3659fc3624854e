// Addon discovery as the game does it: .toc parsing, UI XML Script/Include expansion, and the
// load plan (dependencies first, then alphabetical) of every addon in an AddOns folder.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tally {

// Limits that keep hostile addon folders from exhausting memory or time.
inline constexpr std::size_t kMaxTocBytes = std::size_t{1} << 20;  // one .toc file
inline constexpr std::size_t kMaxXmlBytes = std::size_t{4} << 20;  // one .xml file
// All XML one addon loads, counted again for every repeated include (bounds include bombs).
inline constexpr std::size_t kMaxXmlBytesPerAddon = std::size_t{64} << 20;
inline constexpr std::size_t kMaxIncludeDepth = 32;  // nested <Include>s below a toc-listed xml
inline constexpr std::size_t kMaxAddons = 1000;      // folders in the AddOns directory

// A .toc, .xml or AddOns folder that cannot be used; what() names the file and line.
class AddonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One file line of a .toc: the path relative to the addon folder, '/'-separated and
// lexically normalized, and the 1-based toc line it came from.
struct TocFileEntry {
  std::string path;  // relative to the addon folder, e.g. "UI/Main.xml"
  std::size_t line;  // 1-based line in the .toc
};

// A parsed .toc file.
struct TocFile {
  std::map<std::string, std::string> metadata;  // every `## Key: Value`, keys lowercased;
                                                // the first of repeated keys wins
  std::vector<TocFileEntry> files;              // .lua and .xml files, in toc order
  std::vector<std::string> saved_variables;     // ## SavedVariables
  std::vector<std::string> saved_variables_per_character;  // ## SavedVariablesPerCharacter
  std::vector<std::string> required_deps;  // ## Dependencies, RequiredDeps, Dep*; no duplicates
  std::vector<std::string> optional_deps;  // ## OptionalDeps, minus those also required
  std::string interface;                   // ## Interface
  std::string title;                       // ## Title
  std::string version;                     // ## Version
  bool load_on_demand = false;             // ## LoadOnDemand: 1
};

// Parses a .toc's text (BOM and CRLF tolerated). Throws AddonError "<source>:<line>: <problem>"
// for a file that is not .lua/.xml or leaves the addon folder, "<source>: ..." when too large.
TocFile parse_toc(std::string_view text, std::string_view source_name);

// One element of a UI XML file that matters for loading, in document order.
struct UiXmlItem {
  enum Kind { ScriptFile, Include, InlineScript } kind;  // <Script file>, <Include file>, <Script>
  std::string text;  // the file attribute as written ('\' or '/'), or the inline code
  std::size_t line;  // 1-based line of the tag; for inline code, the line its text starts on
};

// What a UI XML file asks to load, and what it holds that is ignored.
struct UiXml {
  std::vector<UiXmlItem> items;       // Script and Include elements directly under <Ui>
  std::vector<std::string> warnings;  // "<source>: ignored <Frame> at line N: ..."
};

// Scans UI XML (entities decoded in attributes and inline code). Throws AddonError
// "<source>:<line>: <problem>" for malformed markup; never loops or crashes on garbage.
UiXml parse_ui_xml(std::string_view text, std::string_view source_name);

// One thing the host runs, in order, to load an addon.
struct LoadStep {
  enum Kind { LuaFile, InlineScript } kind;  // a file to run, or code from a <Script> element
  std::filesystem::path path;  // the .lua file (absolute, normalized); the .xml for InlineScript
  std::string code;            // InlineScript: the Lua text
  std::string chunk_name;      // "@Interface\AddOns\<Addon>\<path with backslashes>", plus
                               // ":<line of the code's first line>" for InlineScript
};

// One addon folder with a matching .toc and what loading it takes.
struct AddonInfo {
  std::string name;                   // the folder name, which is the .toc name
  std::filesystem::path dir;          // absolute, normalized
  TocFile toc;                        // empty when the .toc could not be read or parsed
  std::vector<LoadStep> steps;        // empty when not loadable
  bool loadable = false;              // its files and its required dependencies are all in order
  std::string reason;                 // why not loadable: "<Addon>: <problem>"
  std::vector<std::string> warnings;  // e.g. ignored XML frames
};

// Every addon in an AddOns folder, in load order.
struct AddonCatalog {
  std::vector<AddonInfo> addons;      // loadable ones in load order, then the rest alphabetically
  std::vector<std::string> warnings;  // folders skipped for having no matching .toc
};

// Scans `<addons_dir>/<Name>/<Name>.toc` for every folder and computes the load plan. Throws
// AddonError when the directory is missing, unreadable or holds more than kMaxAddons folders;
// problems of single addons make them not loadable instead.
AddonCatalog scan_addons(const std::filesystem::path& addons_dir);

// Case-insensitive (ASCII) name order, as the game sorts addons; ties broken bytewise.
bool addon_name_less(std::string_view a, std::string_view b);

}  // namespace tally
