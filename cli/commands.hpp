// The tally CLI's commands; each takes the arguments after its name and returns an exit code.
#pragma once

#include <string>
#include <vector>

namespace tally::cli {

int bench(const std::vector<std::string>& args);

int demo(const std::vector<std::string>& args);
int run(const std::vector<std::string>& args);
int sim(const std::vector<std::string>& args);
int profile(const std::vector<std::string>& args);

}  // namespace tally::cli
