// Helpers for tests that drive one or more clients: their log, and a bare client to run code in.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "bindings/host.hpp"

inline std::vector<std::string> texts(const tally::Client& c, bool errors_only = false) {
  std::vector<std::string> out;
  for (const auto& line : c.log()) {
    if (!errors_only || line.error) out.push_back(line.text);
  }
  return out;
}

inline bool logged(const tally::Client& c, const std::string& needle, bool errors_only = false) {
  auto lines = texts(c, errors_only);
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

// A client with no addons, for API checks.
struct Bare {
  tally::Host host;
  tally::Client& client;
  explicit Bare(tally::ClientOptions options = {.name = "Tester", .memory_limit = 64u << 20},
                tally::HostOptions host_options = {})
      : host(std::move(host_options)), client(host.add_client(std::move(options))) {
    host.start();
  }
  // Runs code; returns what it printed, one string per print.
  std::vector<std::string> run(const std::string& code) {
    std::size_t before = client.log().size();
    client.run_script(code);
    std::vector<std::string> out;
    for (std::size_t i = before; i < client.log().size(); ++i) out.push_back(client.log()[i].text);
    return out;
  }
  std::string one(const std::string& code) {
    auto lines = run(code);
    return lines.empty() ? "(nothing)" : lines.front();
  }
};

