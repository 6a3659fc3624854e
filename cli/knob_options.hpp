// --preset, --knobs and --decode-thread: replay settings chosen on the command line (tally run,
// sim, profile, bench replay).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "batching/replay_knobs.hpp"
#include "cli/arguments.hpp"

namespace tally::cli {

// The option names, for reject_unknown().
const std::vector<std::string>& knob_option_names();

// --preset NAME (reference | responsive) and --knobs "batch=…,interval=…,budget=…" together:
// the preset first, the knobs over it; nothing when neither is given (or --knobs is empty). Throws UsageError naming
// the bad item.
std::optional<ReplayKnobs> knob_options(const Arguments& a);

// --decode-thread on|off (on): whether long replay steps decode ahead on a second thread.
// Throws UsageError for another value.
bool decode_thread_option(const Arguments& a);

}  // namespace tally::cli
