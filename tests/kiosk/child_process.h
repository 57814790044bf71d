#pragma once
// A child process (kartu-bahagiad, kbctl) with stdout and stderr on pipes, for
// tests that run the real binaries. Killed when it goes out of scope.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace kb::testing {

/// <KB_BINARY_DIR>/daemon/bin/NAME/NAME
inline std::string binaryPath(const std::string& name) {
  const char* bin = std::getenv("KB_BINARY_DIR");
  return std::string(bin ? bin : ".") + "/daemon/bin/" + name + "/" + name;
}

class ChildProcess {
 public:
  ChildProcess(const std::string& binary, std::vector<std::string> args) {
    using namespace std::chrono_literals;
    int out[2], err[2];
    if (::pipe(out) != 0 || ::pipe(err) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, err[0]);
    args.insert(args.begin(), binary);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
    ::fcntl(out_, F_SETFL, O_NONBLOCK);
    ::fcntl(err_, F_SETFL, O_NONBLOCK);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait(std::chrono::seconds(5));
    }
    ::close(out_);
    ::close(err_);
  }

  /// Reads output until `pattern` appears in stdout or stderr (or the bound passes).
  std::optional<std::smatch> waitForOutput(const std::regex& pattern,
                                           std::chrono::seconds bound = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      drain();
      std::smatch m;
      if (std::regex_search(stdout_, m, pattern)) return m;
      if (std::regex_search(stderr_, m, pattern)) return m;
      if (exited()) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
  }

  /// Exit status, or nullopt if still running after `bound`.
  std::optional<int> wait(std::chrono::milliseconds bound) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (pid_ > 0) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        drain();
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return status_;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
  }

  bool exited() { return pid_ < 0 || wait(std::chrono::milliseconds(0)).has_value(); }
  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  const std::string& out() {
    drain();
    return stdout_;
  }
  const std::string& err() {
    drain();
    return stderr_;
  }

 private:
  void drain() {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out_, buf, sizeof buf)) > 0)
      stdout_.append(buf, static_cast<std::size_t>(n));
    while ((n = ::read(err_, buf, sizeof buf)) > 0)
      stderr_.append(buf, static_cast<std::size_t>(n));
  }
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  std::string stdout_, stderr_;
  std::optional<int> status_;
};

/// Runs `binary args` to completion (bounded); {exit status, stdout, stderr}.
struct RunResult {
  int status = -1;
  std::string out, err;
};
inline RunResult runToEnd(const std::string& binary, std::vector<std::string> args) {
  ChildProcess c(binary, std::move(args));
  RunResult r;
  r.status = c.wait(std::chrono::seconds(60)).value_or(-1);
  r.out = c.out();
  r.err = c.err();
  return r;
}

}  // namespace kb::testing
