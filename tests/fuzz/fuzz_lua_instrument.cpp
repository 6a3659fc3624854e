// libFuzzer target: instrument_lua_source only inserts ticks and the wrapper, and moves no line.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bindings/lua_instrument.hpp"
#include "fuzz_check.hpp"

using tally::fuzz::require;

namespace {

// What LuaJIT skips before the first token, and the instrumenter leaves out: a UTF-8 byte-order
// mark and a first line starting with `#` (but its line break).
std::string_view after_header(std::string_view source) {
  if (source.starts_with("\xEF\xBB\xBF")) source.remove_prefix(3);
  if (source.starts_with("#"))
    source.remove_prefix(std::min(source.find_first_of("\r\n"), source.size()));
  return source;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  const tally::InstrumentedLua result = tally::instrument_lua_source(source);
  if (!result.ok) {
    require(result.code.empty() && !result.error.empty(), "a refusal has a message and no code");
    return 0;
  }
  std::string_view code = result.code;
  require(code.starts_with(tally::kLuaInstrumentPrefix), "the wrapper opens the code");
  code.remove_prefix(tally::kLuaInstrumentPrefix.size());
  const bool own_line = code.ends_with("\nend");
  require(own_line || code.ends_with(" end"), "the wrapper closes the code");
  code.remove_suffix(4);

  // Every tick goes in as " <tick> ". A source that holds that text itself (in a string or a
  // comment) could be mistaken for an insertion, so the comparison skips it.
  const std::string tick = " " + std::string(tally::kLuaBudgetTick) + " ";
  if (source.find(tally::kLuaBudgetTick) != std::string_view::npos) return 0;
  std::string stripped;
  stripped.reserve(code.size());
  for (std::size_t i = 0; i < code.size();) {
    if (code.compare(i, tick.size(), tick) == 0) {
      i += tick.size();
    } else {
      stripped += code[i++];
    }
  }
  require(stripped == after_header(source), "removing the ticks gives back the source");
  require(std::ranges::count(result.code, '\n') == std::ranges::count(source, '\n') + own_line,
          "instrumenting adds no line break (but the one before a final `end` after a comment)");
  return 0;
}
