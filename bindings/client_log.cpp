// A client's log within its bounds (client_log.hpp).
#include "bindings/client_log.hpp"

namespace tally {

namespace {

std::size_t cost(const LogLine& line) {
  return sizeof(LogLine) + line.text.size();
}

// The first `limit` bytes of text, not splitting a UTF-8 sequence.
std::string_view cut(std::string_view text, std::size_t limit) {
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

const LogLine& ClientLog::append(double time, bool error, std::string_view text) {
  LogLine line{time, error, {}};
  if (text.size() > kMaxLineBytes) {
    std::string_view kept = cut(text, kMaxLineBytes);
    line.text.reserve(kept.size() + 64);
    line.text.append(kept);
    line.text += " [... line cut: " + std::to_string(text.size() - kept.size()) + " more bytes]";
  } else {
    line.text.assign(text);
  }
  errors_ += error ? 1 : 0;
  bytes_ += cost(line);
  lines_.push_back(std::move(line));
  // The newest line always stays: it is what the caller hands to the log sink.
  while (lines_.size() > 1 && (lines_.size() > kMaxLines || bytes_ > kMaxBytes)) {
    bytes_ -= cost(lines_.front());
    lines_.pop_front();
    ++dropped_;
  }
  return lines_.back();
}

}  // namespace tally
