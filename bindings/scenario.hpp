// Scenario scripts: a trusted Lua state that drives a host's clients (slash commands, code,
// time, login/logout) and can assert on what they did. Lua test files are scenarios.
#pragma once

#include <filesystem>
#include <string>

#include "bindings/host.hpp"

struct lua_State;

namespace tally {

class Scenario {
 public:
  // Frames advanced by tally.advance() run at `fps`.
  Scenario(Host& host, double fps);
  ~Scenario();
  Scenario(const Scenario&) = delete;
  Scenario& operator=(const Scenario&) = delete;

  // Runs the script to its end. Returns the error text (empty when it finished cleanly).
  std::string run_file(const std::filesystem::path& script);

  Host& host() { return host_; }
  double fps() const { return fps_; }

 private:
  Host& host_;
  double fps_;
  lua_State* L_;
};

}  // namespace tally
