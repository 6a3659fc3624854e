// Parses --preset and --knobs into replay knobs.
#include "cli/knob_options.hpp"

#include <stdexcept>

namespace tally::cli {

const std::vector<std::string>& knob_option_names() {
  static const std::vector<std::string> names = {"preset", "knobs", "decode-thread"};
  return names;
}

std::optional<ReplayKnobs> knob_options(const Arguments& a) {
  if (!a.flag("preset") && a.text("knobs", "").empty()) return std::nullopt;
  std::string text = a.text("knobs", "");
  if (a.flag("preset")) text = "preset=" + a.text("preset", "") + (text.empty() ? "" : "," + text);
  try {
    return parse_knobs(text);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string(a.flag("preset") ? "--preset/--knobs: " : "--knobs: ") + e.what());
  }
}

bool decode_thread_option(const Arguments& a) {
  std::string value = a.text("decode-thread", "on");
  if (value != "on" && value != "off") throw UsageError("--decode-thread: '" + value + "' is not on or off");
  return value == "on";
}

}  // namespace tally::cli
