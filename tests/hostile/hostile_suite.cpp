// The hostile suite: every hostile-addon and hostile-peer case against real hosts, clients,
// addon folders and sync links, each case in a process of its own (two at a time) so that a crash
// or a hang is reported as one (the host did not survive) instead of ending the suite. Prints a
// line per case and one summary line; exits 1 when anything got through that is not a known breach.
//
//   hostile_suite ["<group>: <case>" ...]   the arguments name known breaches (CMake's
//                                           TALLY_HOSTILE_KNOWN_BREACHES)
//   TALLY_HOSTILE_FILTER=text               runs only the cases whose name contains text
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "../runtime/temp_dir.hpp"
#include "hostile_case.hpp"
#include "hostile_world.hpp"

using namespace hostile;

namespace {

// Cases run two at a time (the CI machine has two cores); each keeps to one core.
constexpr std::size_t kJobs = 2;

struct Outcome {
  bool survived = true;  // the case's process ended by itself, normally
  std::vector<std::string> breaches;
  double seconds = 0;
};

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// The child: runs the case and writes its breaches, one a line, to `fd`. Ends with exit(), so
// LeakSanitizer checks the child too.
[[noreturn]] void run_child(const Case& c, const std::filesystem::path& scratch, int fd) {
  std::string report;
  try {
    for (const std::string& breach : c.run(scratch)) report += breach + "\n";
  } catch (const std::exception& e) {
    report += std::string("the case stopped with an exception: ") + e.what() + "\n";
  }
  write_all(fd, report);
  close(fd);
  std::exit(0);
}

// Names the process, so a sanitizer's report (==pid==) can be matched to its case.
std::string describe_status(int status, pid_t pid) {
  std::string process = " (process " + std::to_string(pid) + ")";
  if (WIFSIGNALED(status)) {
    return "the host crashed (signal " + std::to_string(WTERMSIG(status)) + ": " +
           strsignal(WTERMSIG(status)) + ")" + process;
  }
  return "the host's process exited with status " + std::to_string(WEXITSTATUS(status)) + process;
}

// A case running in its own process: its scratch folder, and its report as it arrives.
struct Running {
  const Case* c = nullptr;
  std::size_t slot = 0;  // where its outcome goes
  pid_t pid = -1;
  int fd = -1;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::string report;
  TempDir scratch;

  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

std::unique_ptr<Running> start_case(const Case& c, std::size_t slot) {
  auto r = std::make_unique<Running>();
  r->c = &c;
  r->slot = slot;
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("cannot make a pipe");
  std::fflush(stdout);
  r->pid = fork();
  if (r->pid == 0) {
    close(fds[0]);
    run_child(c, r->scratch.path(), fds[1]);
  }
  close(fds[1]);
  r->fd = fds[0];
  return r;
}

// Ends a case whose report is complete (or that hung: it is killed) and makes its outcome.
Outcome finish_case(Running& r, bool hung) {
  close(r.fd);
  if (hung) kill(r.pid, SIGKILL);
  int status = 0;
  waitpid(r.pid, &status, 0);
  Outcome out;
  out.seconds = r.elapsed();
  for (std::size_t from = 0, to; (to = r.report.find('\n', from)) != std::string::npos;
       from = to + 1) {
    out.breaches.push_back(r.report.substr(from, to - from));
  }
  if (hung) {
    out.survived = false;
    out.breaches.push_back("the host hung: the case was still running after " +
                           std::to_string(static_cast<int>(r.c->timeout)) + " s");
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    out.survived = false;
    out.breaches.push_back(describe_status(status, r.pid));
  }
  return out;
}

// Runs the cases, `jobs` at a time; calls `done(index, outcome)` in case order.
void run_all(const std::vector<const Case*>& cases, std::size_t jobs,
             const std::function<void(std::size_t, const Outcome&)>& done) {
  std::vector<std::optional<Outcome>> outcomes(cases.size());
  std::vector<std::unique_ptr<Running>> running;
  std::size_t next = 0, reported = 0;
  while (reported < cases.size()) {
    for (; running.size() < jobs && next < cases.size(); ++next)
      running.push_back(start_case(*cases[next], next));
    std::vector<pollfd> fds;
    double wait = 1;
    for (const auto& r : running) {
      fds.push_back({r->fd, POLLIN, 0});
      wait = std::min(wait, r->c->timeout - r->elapsed());
    }
    int ready = poll(fds.data(), fds.size(), static_cast<int>(std::max(wait, 0.0) * 1000) + 1);
    if (ready < 0 && errno != EINTR) throw std::runtime_error("poll failed");
    for (std::size_t i = running.size(); i-- > 0;) {
      Running& r = *running[i];
      bool ended = false;
      if (fds[i].revents != 0) {
        char buffer[4096];
        ssize_t n = read(r.fd, buffer, sizeof buffer);
        if (n > 0) r.report.append(buffer, static_cast<std::size_t>(n));
        ended = n <= 0;
      }
      bool hung = !ended && r.elapsed() >= r.c->timeout;
      if (ended || hung) {
        outcomes[r.slot] = finish_case(r, hung);
        running.erase(running.begin() + static_cast<long>(i));
      }
    }
    for (; reported < cases.size() && outcomes[reported]; ++reported)
      done(reported, *outcomes[reported]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::set<std::string> known(argv + 1, argv + argc);
  const char* filter = std::getenv("TALLY_HOSTILE_FILTER");
  std::vector<Case> cases = addon_cases();
  for (Case& c : peer_cases()) cases.push_back(std::move(c));

  std::vector<const Case*> selected;
  int counts[2] = {0, 0}, survived = 0, through = 0, known_through = 0, stale = 0;
  for (const Case& c : cases) {
    if (filter != nullptr && (c.group + ": " + c.name).find(filter) == std::string::npos) continue;
    selected.push_back(&c);
    ++counts[c.group == "peer" ? 1 : 0];
  }
  run_all(selected, kJobs, [&](std::size_t i, const Outcome& o) {
    const Case& c = *selected[i];
    survived += o.survived ? 1 : 0;
    const bool is_known = known.count(c.group + ": " + c.name) > 0;
    const char* verdict = "ok     ";
    if (!o.breaches.empty()) {
      ++through;
      known_through += is_known ? 1 : 0;
      verdict = is_known ? "KNOWN  " : "BREACH ";
    } else if (is_known) {
      // A known breach that no longer reproduces: the list must not outlive the bug (sanitized
      // builds measure memory too coarsely to see every memory breach).
      stale += kSanitized ? 0 : 1;
      verdict = "FIXED? ";
    }
    std::printf("%s %-5s %s (%.1f s)\n", verdict, c.group.c_str(), c.name.c_str(), o.seconds);
    for (const std::string& b : o.breaches) std::printf("          %s\n", b.c_str());
    std::fflush(stdout);
  });
  const int total = counts[0] + counts[1];
  std::printf("hostile suite: %d addon cases, %d peer cases; host survived %s; %d got through",
              counts[0], counts[1],
              survived == total
                  ? "all"
                  : (std::to_string(survived) + " of " + std::to_string(total)).c_str(),
              through);
  if (through > 0)
    std::printf(" (%d known breaches, %d new)", known_through, through - known_through);
  std::printf("\n");
  if (stale > 0)
    std::printf(
        "%d known breaches did not reproduce: remove them from TALLY_HOSTILE_KNOWN_BREACHES\n",
        stale);
  return through > known_through || stale > 0 ? 1 : 0;
}
