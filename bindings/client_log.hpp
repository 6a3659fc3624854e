// A client's log, bounded: addon code decides how much it prints and how long its errors are, so
// the lines kept are the newest ones within a count and a byte budget, and a line too long is cut.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace tally {

struct LogLine {
  double time;
  bool error;
  std::string text;
};

class ClientLog {
 public:
  static constexpr std::size_t kMaxLineBytes = 1u << 20;  // addons print exports as one line
  static constexpr std::size_t kMaxLines = 10'000;
  static constexpr std::size_t kMaxBytes = 8u << 20;  // the lines kept, texts and bookkeeping

  // Keeps the line (cut to kMaxLineBytes, with a marker saying how much was cut) and drops the
  // oldest lines while over the bounds.
  const LogLine& append(double time, bool error, std::string_view text);

  using const_iterator = std::deque<LogLine>::const_iterator;
  const_iterator begin() const { return lines_.begin(); }
  const_iterator end() const { return lines_.end(); }
  std::size_t size() const { return lines_.size(); }
  const LogLine& operator[](std::size_t i) const { return lines_[i]; }

  // Lines dropped to stay within the bounds, and error lines appended (kept or dropped).
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t errors() const { return errors_; }

 private:
  std::deque<LogLine> lines_;
  std::size_t bytes_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t errors_ = 0;
};

}  // namespace tally
