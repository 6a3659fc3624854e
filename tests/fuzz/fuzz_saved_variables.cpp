// libFuzzer target: savedvars::parse, and every file it accepts survives a write and a re-read.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "runtime/saved_variables.hpp"

using tally::fuzz::require;
namespace savedvars = tally::savedvars;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  savedvars::Variables variables;
  try {
    variables = savedvars::parse(text, "fuzz");
  } catch (const savedvars::ParseError&) {
    return 0;
  }
  // The writer refuses only what the parser would refuse, so neither step may throw here.
  const std::string written = savedvars::write_file_contents(variables);
  const savedvars::Variables again = savedvars::parse(written, "fuzz-rewritten");
  require(again == variables, "a parsed file written back parses to the same variables");
  // The writer's form is a fixed point: writing what it wrote changes nothing.
  require(savedvars::write_file_contents(again) == written, "rewriting written text is stable");
  return 0;
}
