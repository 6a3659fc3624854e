// Command-line arguments: positional words and --name value / --flag options, with clear errors.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace tally::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Arguments {
 public:
  // `flags` are options that take no value.
  Arguments(const std::vector<std::string>& args, const std::vector<std::string>& flags);

  const std::vector<std::string>& positional() const { return positional_; }
  bool flag(const std::string& name) const;
  std::string text(const std::string& name, const std::string& fallback) const;
  long long integer(const std::string& name, long long fallback, long long min, long long max) const;
  // Fails naming any option the command did not ask about.
  void reject_unknown(const std::vector<std::string>& known) const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::string> options_;
};

}  // namespace tally::cli
