// libFuzzer target: parse_toc and parse_ui_xml on the same text; only AddonError may come out.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "runtime/addon_catalog.hpp"

using tally::fuzz::require;

namespace {

// What parse_toc promises of a file path: '/'-separated, relative, inside the addon folder.
bool stays_in_addon_folder(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string_view::npos)
    return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = std::min(path.find('/', start), path.size());
    if (path.substr(start, slash - start) == "..") return false;
    start = slash + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Any line a parser names exists: at most one more than the line breaks ('\r' counted too).
  const auto max_line =
      static_cast<std::size_t>(std::ranges::count(text, '\n') + std::ranges::count(text, '\r')) + 1;
  try {
    const tally::TocFile toc = tally::parse_toc(text, "fuzz.toc");
    for (const auto& file : toc.files) {
      require(stays_in_addon_folder(file.path), "toc file paths stay inside the addon folder");
      require(file.line >= 1 && file.line <= max_line, "toc file lines exist");
    }
  } catch (const tally::AddonError&) {
  }
  try {
    const tally::UiXml xml = tally::parse_ui_xml(text, "fuzz.xml");
    for (const auto& item : xml.items) {
      require(item.line >= 1 && item.line <= max_line, "xml item lines exist");
    }
  } catch (const tally::AddonError&) {
  }
  return 0;
}
