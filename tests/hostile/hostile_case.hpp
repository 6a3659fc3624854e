// One case of the hostile suite: a named attack and the breaches it found (none: nothing got
// through). Each case runs in a process of its own, two at a time (hostile_suite.cpp).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace hostile {

struct Case {
  std::string group;  // "addon" or "peer"
  std::string name;
  double timeout;  // wall-clock seconds; a case still running then has hung the host
  // Runs the attack in a scratch folder of its own; returns one line per breach.
  std::function<std::vector<std::string>(const std::filesystem::path& scratch)> run;
};

std::vector<Case> addon_cases();
std::vector<Case> peer_cases();

}  // namespace hostile
