// Command-line argument parsing for the tally CLI.
#include "cli/arguments.hpp"

#include <algorithm>

namespace tally::cli {

Arguments::Arguments(const std::vector<std::string>& args, const std::vector<std::string>& flags) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.starts_with("--")) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    if (auto eq = name.find('='); eq != std::string::npos) {
      options_[name.substr(0, eq)] = name.substr(eq + 1);
    } else if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
      options_[name] = "";
    } else if (i + 1 < args.size()) {
      options_[name] = args[++i];
    } else {
      throw UsageError("option --" + name + " needs a value");
    }
  }
}

bool Arguments::flag(const std::string& name) const { return options_.count(name) > 0; }

std::string Arguments::text(const std::string& name, const std::string& fallback) const {
  auto it = options_.find(name);
  return it == options_.end() ? fallback : it->second;
}

long long Arguments::integer(const std::string& name, long long fallback, long long min,
                             long long max) const {
  auto it = options_.find(name);
  if (it == options_.end()) return fallback;
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(it->second, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != it->second.size() || it->second.empty()) {
    throw UsageError("--" + name + " expects an integer, got '" + it->second + "'");
  }
  if (v < min || v > max) {
    throw UsageError("--" + name + " must be between " + std::to_string(min) + " and " +
                     std::to_string(max) + ", got " + it->second);
  }
  return v;
}

void Arguments::reject_unknown(const std::vector<std::string>& known) const {
  for (const auto& [name, value] : options_) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw UsageError("unknown option --" + name);
    }
  }
}

}  // namespace tally::cli
