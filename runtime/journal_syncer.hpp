// Writes and fsyncs a journal's records on a thread of its own, so that the Interval fsync
// policy never puts a write() or fdatasync() on the caller's thread (a game's frame).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tally {

class JournalSyncer {
 public:
  // `fd` stays owned by the caller and must outlive this object.
  JournalSyncer(int fd, std::filesystem::path path, std::chrono::milliseconds interval);
  ~JournalSyncer();  // stops the thread; what is still pending is not written (call drain())
  JournalSyncer(const JournalSyncer&) = delete;
  JournalSyncer& operator=(const JournalSyncer&) = delete;

  // Hands over the bytes of whole records (`bytes` is left empty) and the number of entry
  // records appended so far, these included. They are on disk within about one interval.
  // Throws JournalError when an earlier background write or fsync failed.
  void submit(std::vector<std::uint8_t>& bytes, std::uint64_t appended);
  // Writes and fsyncs everything submitted, on the calling thread. Throws JournalError.
  void drain();
  // Throws JournalError when an earlier background write or fsync failed.
  void check() const;

  std::uint64_t durable() const { return durable_.load(std::memory_order_acquire); }

 private:
  void run();
  void write_and_sync();  // holds io_mutex_ throughout, so writes keep their order

  const int fd_;
  const std::filesystem::path path_;
  const std::chrono::milliseconds interval_;

  mutable std::mutex mutex_;  // guards the fields below up to the thread
  std::condition_variable wake_;
  std::vector<std::uint8_t> pending_;
  std::uint64_t pending_appended_ = 0;
  std::string error_;  // the first failure, reported to every later caller
  bool stop_ = false;

  std::mutex io_mutex_;
  std::atomic<std::uint64_t> durable_{0};
  std::thread thread_;
};

}  // namespace tally
