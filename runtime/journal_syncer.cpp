#include "runtime/journal_syncer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "runtime/journal.hpp"

namespace tally {

namespace {
// Pending bytes that wake the thread before its interval is up.
constexpr std::size_t kEagerBytes = std::size_t{1} << 20;
}  // namespace

JournalSyncer::JournalSyncer(int fd, std::filesystem::path path, std::chrono::milliseconds interval)
    // At least 1 ms: a zero wait would spin.
    : fd_(fd), path_(std::move(path)), interval_(std::max(interval, std::chrono::milliseconds(1))) {
  thread_ = std::thread([this] { run(); });
}

JournalSyncer::~JournalSyncer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void JournalSyncer::check() const {
  std::lock_guard lock(mutex_);
  if (!error_.empty()) throw JournalError(error_);
}

void JournalSyncer::submit(std::vector<std::uint8_t>& bytes, std::uint64_t appended) {
  bool eager = false;
  {
    std::lock_guard lock(mutex_);
    if (!error_.empty()) throw JournalError(error_);
    if (pending_.empty()) {
      pending_.swap(bytes);
    } else {
      pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    }
    bytes.clear();
    pending_appended_ = appended;
    eager = pending_.size() >= kEagerBytes;
  }
  if (eager) wake_.notify_one();
}

void JournalSyncer::drain() {
  write_and_sync();
  check();
}

void JournalSyncer::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    // Wakes after an interval, or early for a large backlog or to stop.
    wake_.wait_for(lock, interval_, [this] { return stop_ || pending_.size() >= kEagerBytes; });
    if (stop_) break;
    if (pending_.empty() || !error_.empty()) continue;
    lock.unlock();
    write_and_sync();
    lock.lock();
  }
}

void JournalSyncer::write_and_sync() {
  std::lock_guard io(io_mutex_);
  std::vector<std::uint8_t> bytes;
  std::uint64_t appended = 0;
  {
    std::lock_guard lock(mutex_);
    if (!error_.empty()) return;
    bytes.swap(pending_);
    appended = pending_appended_;
  }
  if (bytes.empty() && appended == durable()) return;
  std::size_t done = 0;
  const char* failed = nullptr;
  int err = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failed = "cannot write journal ";
      err = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (!failed && ::fdatasync(fd_) != 0) {
    failed = "cannot fsync journal ";
    err = errno;
  }
  if (failed) {
    // Nothing after the failure is acknowledged; the unwritten bytes are kept for the record.
    std::lock_guard lock(mutex_);
    error_ = failed + path_.string() + ": " + std::strerror(err);
    bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(done));
    pending_.insert(pending_.begin(), bytes.begin(), bytes.end());
    return;
  }
  durable_.store(appended, std::memory_order_release);
}

}  // namespace tally
