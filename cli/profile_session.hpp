// The session of `tally run` and `tally sim` (cli/run.cpp), with the hooks `tally profile` uses
// to watch it: its own options, a look at every frame, and a last look before logout.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bindings/host.hpp"
#include "cli/arguments.hpp"

namespace tally::cli {

struct SessionHooks {
  std::vector<std::string> flags;    // more options that take no value
  std::vector<std::string> options;  // more options that take a value
  // The clients exist; their addons are not loaded yet.
  std::function<void(const Arguments&, Host&)> on_start;
  std::function<void(Host&)> on_tick;  // after every frame
  std::function<void(Host&)> on_end;   // the frames are done; the clients are still logged in
};

// Runs addons in the game-like frame loop as `tally <command>` does; `sim` adds the convergence
// watch and report of `tally sim`. Returns the exit code.
int run_session(const std::vector<std::string>& args, const char* command, bool sim,
                const SessionHooks& hooks);

}  // namespace tally::cli
