// Whole-file reads and crash-safe whole-file writes.
#include "runtime/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string>

namespace tally {

namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
  throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(errno));
}

void fsync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail("cannot fsync directory", dir);
}

constexpr std::string_view kTempMarker = ".tmp-";

// The writer's pid when `name` is "<target>.tmp-<pid>-<n>" (what write_file_atomically names
// its temporary files), else 0.
pid_t temp_file_writer(std::string_view name, std::string_view target) {
  if (!name.starts_with(target) || name.substr(target.size()).substr(0, kTempMarker.size()) != kTempMarker) return 0;
  std::string_view rest = name.substr(target.size() + kTempMarker.size());
  pid_t pid = 0;
  auto [dash, pid_error] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
  if (pid_error != std::errc() || pid <= 0 || dash == rest.data() + rest.size() || *dash != '-') return 0;
  unsigned long sequence = 0;
  const char* end = rest.data() + rest.size();
  auto [last, sequence_error] = std::from_chars(dash + 1, end, sequence);
  return sequence_error == std::errc() && last == end ? pid : 0;
}

// Removes the temporary files of `path` left by writers that were killed mid-write: only names
// of our own pattern, and only those of processes that no longer exist (a live writer, in this
// process or another, may still rename its file into place). Best effort: a file that cannot be
// removed now is tried again at the next write.
void remove_stale_temp_files(const std::filesystem::path& path) {
  const std::string target = path.filename().string();
  std::error_code ec;
  std::filesystem::directory_iterator it(path.parent_path().empty() ? "." : path.parent_path(), ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    pid_t writer = temp_file_writer(it->path().filename().string(), target);
    if (writer == 0 || writer == ::getpid()) continue;
    if (::kill(writer, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge (EPERM)
    std::error_code ignored;
    std::filesystem::remove(it->path(), ignored);
  }
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  remove_stale_temp_files(path);
  std::filesystem::path temp = path;
  // Unique per process and per call, so two writers in one process never share a temp file.
  static std::atomic<unsigned> sequence{0};
  temp += std::string(kTempMarker) + std::to_string(::getpid()) + "-" + std::to_string(sequence++);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create", temp);
  std::size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      errno = saved;
      fail("cannot write", temp);
    }
    done += static_cast<std::size_t>(n);
  }
  // Close even when fsync fails, so the descriptor never leaks.
  int synced = ::fsync(fd);
  int sync_errno = errno;
  int closed = ::close(fd);
  if (synced != 0 || closed != 0) {
    int saved = synced != 0 ? sync_errno : errno;
    ::unlink(temp.c_str());
    errno = saved;
    fail("cannot flush", temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    errno = saved;
    fail("cannot replace", path);
  }
  fsync_directory(path.parent_path());
}

std::string read_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", path);
  std::string out;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      fail("cannot read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace tally
