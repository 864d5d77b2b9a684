// Tests of Subprocess with real processes. Nothing sleeps and hopes: every
// wait is on a condition, with a deadline.
#include "process/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/wait_until.h"

namespace lastcall {
namespace {

using namespace std::chrono_literals;

// The harness's environment as "NAME=value" entries.
std::vector<std::string> HarnessEnv() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

SpawnOptions Cmd(std::vector<std::string> argv) {
  SpawnOptions o;
  o.argv = std::move(argv);
  o.env = HarnessEnv();
  return o;
}

// Reads output_fd until EOF (or the deadline).
std::string ReadAll(int fd, Clock::duration timeout = 10s) {
  std::string out;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    struct pollfd p {
      fd, POLLIN, 0
    };
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Reads a first line (the pid a shell printed), up to the deadline.
std::string ReadLine(int fd, Clock::duration timeout = 10s) {
  std::string out;
  const auto deadline = Clock::now() + timeout;
  while (out.find('\n') == std::string::npos && Clock::now() < deadline) {
    struct pollfd p {
      fd, POLLIN, 0
    };
    if (::poll(&p, 1, 100) <= 0) continue;
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n == 0) break;
    if (n == 1) out.push_back(c);
  }
  return out.substr(0, out.find('\n'));
}

// The state letter of /proc/PID/stat, or 0 when the process does not exist.
char ProcState(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!std::getline(f, s)) return 0;
  size_t close = s.rfind(')');
  if (close == std::string::npos || close + 2 >= s.size()) return 0;
  return s[close + 2];
}

// Dead: gone, or a zombie nobody reaps (on this machine PID 1 does not reap).
bool Dead(pid_t pid) {
  char st = ProcState(pid);
  return st == 0 || st == 'Z' || st == 'X';
}

// A temp folder removed at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/lastcall-subprocess-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

// Our child processes (zombies included), from /proc: other tests may keep
// children of their own (a shared database server), so tests compare sets.
std::set<pid_t> Children() {
  std::set<pid_t> out;
  const std::string me = std::to_string(::getpid());
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] < '1' || name[0] > '9') continue;
    std::ifstream f(entry.path() / "stat");
    std::string s;
    if (!std::getline(f, s)) continue;
    size_t close = s.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(s.substr(close + 2));
    std::string state, ppid;
    rest >> state >> ppid;
    if (ppid == me) out.insert(std::stoi(name));
  }
  return out;
}

TEST_CASE("Subprocess: output and exit code", "[subprocess]") {
  std::string error;
  auto p = Subprocess::Start(Cmd({"/bin/sh", "-c", "echo hi; exit 3"}), &error);
  REQUIRE(p != nullptr);
  CHECK(error.empty());
  CHECK(p->pid() > 0);
  REQUIRE(p->output_fd() >= 0);
  CHECK(ReadAll(p->output_fd()) == "hi\n");
  REQUIRE(p->Wait(10s));
  REQUIRE(p->exited());
  CHECK(p->exit_status()->by_signal == false);
  CHECK(p->exit_status()->value == 3);
  CHECK(p->exit_time() <= Clock::now());
}

TEST_CASE("Subprocess: stdout and stderr are merged into the pipe", "[subprocess]") {
  std::string error;
  auto p = Subprocess::Start(Cmd({"sh", "-c", "echo out; echo err >&2"}), &error);
  REQUIRE(p != nullptr);
  CHECK(ReadAll(p->output_fd()) == "out\nerr\n");
  REQUIRE(p->Wait(10s));
  CHECK(p->exit_status() == ExitStatus{false, 0});
}

TEST_CASE("Subprocess: output to a given descriptor", "[subprocess]") {
  TempDir dir;
  std::string log = dir.path + "/out.log";
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  SpawnOptions o = Cmd({"sh", "-c", "echo to-file; echo err >&2"});
  o.output_fd = fd;
  std::string error;
  auto p = Subprocess::Start(o, &error);
  ::close(fd);
  REQUIRE(p != nullptr);
  CHECK(p->output_fd() == -1);
  REQUIRE(p->Wait(10s));
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == "to-file\nerr\n");
}

TEST_CASE("Subprocess: death by SIGTERM is reported as a signal", "[subprocess]") {
  std::string error;
  auto p = Subprocess::Start(Cmd({"sleep", "30"}), &error);
  REQUIRE(p != nullptr);
  CHECK_FALSE(p->TryReap());
  REQUIRE(p->Signal(SIGTERM, /*to_group=*/false));
  REQUIRE(p->Wait(10s));
  CHECK(p->exit_status()->by_signal);
  CHECK(p->exit_status()->value == SIGTERM);
  // Once reaped, the pid is no longer ours to signal.
  CHECK_FALSE(p->Signal(SIGTERM, false));
  CHECK(errno == ESRCH);
}

TEST_CASE("Subprocess: a missing command is a clear error and no child", "[subprocess]") {
  const std::set<pid_t> before = Children();
  std::string error;
  // Found nowhere in PATH: no fork at all.
  auto p = Subprocess::Start(Cmd({"lastcall-no-such-command"}), &error);
  CHECK(p == nullptr);
  CHECK(error == "cannot run 'lastcall-no-such-command': No such file or directory");
  CHECK(Children() == before);

  // An absolute path: execve fails in the child, which reports it.
  error.clear();
  p = Subprocess::Start(Cmd({"/nonexistent/lastcall-cmd", "x"}), &error);
  CHECK(p == nullptr);
  CHECK(error == "cannot run '/nonexistent/lastcall-cmd': No such file or directory");
  CHECK(Children() == before);  // the failed child was reaped
}

TEST_CASE("Subprocess: a non-executable file is Permission denied", "[subprocess]") {
  TempDir dir;
  std::string file = dir.path + "/script.sh";
  {
    std::ofstream f(file);
    f << "#!/bin/sh\necho should-not-run\n";
  }
  REQUIRE(::chmod(file.c_str(), 0644) == 0);
  const std::set<pid_t> before = Children();
  std::string error;
  auto p = Subprocess::Start(Cmd({file}), &error);
  CHECK(p == nullptr);
  CHECK(error == "cannot run '" + file + "': Permission denied");
  CHECK(Children() == before);

  // The same through a PATH lookup in the given environment.
  SpawnOptions o = Cmd({"script.sh"});
  o.env = {"PATH=" + dir.path};
  error.clear();
  p = Subprocess::Start(o, &error);
  CHECK(p == nullptr);
  CHECK(error == "cannot run 'script.sh': Permission denied");
}

TEST_CASE("Subprocess: PATH comes from the given environment", "[subprocess]") {
  TempDir dir;
  std::string file = dir.path + "/lastcall-test-tool";
  {
    std::ofstream f(file);
    f << "#!/bin/sh\necho tool-ran\n";
  }
  REQUIRE(::chmod(file.c_str(), 0755) == 0);
  SpawnOptions o = Cmd({"lastcall-test-tool"});
  o.env = {"PATH=/usr/bin:/bin:" + dir.path};
  std::string error;
  auto p = Subprocess::Start(o, &error);
  REQUIRE(p != nullptr);
  CHECK(ReadAll(p->output_fd()) == "tool-ran\n");
  REQUIRE(p->Wait(10s));
  CHECK(p->exit_status() == ExitStatus{false, 0});
}

TEST_CASE("Subprocess: argv[0] is passed as written", "[subprocess]") {
  std::string error;
  auto p = Subprocess::Start(Cmd({"sh", "-c", "tr '\\0' ' ' < /proc/$$/cmdline", "x"}), &error);
  REQUIRE(p != nullptr);
  CHECK(ReadAll(p->output_fd()) == "sh -c tr '\\0' ' ' < /proc/$$/cmdline x ");
  REQUIRE(p->Wait(10s));
}

TEST_CASE("Subprocess: the child starts with an empty signal mask and default dispositions",
          "[subprocess]") {
  // What the harness does: SIGINT/SIGTERM blocked, SIGPIPE ignored.
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  REQUIRE(::pthread_sigmask(SIG_BLOCK, &block, &old_mask) == 0);
  struct sigaction ign {
  }, old_pipe{};
  ign.sa_handler = SIG_IGN;
  REQUIRE(::sigaction(SIGPIPE, &ign, &old_pipe) == 0);

  std::string error;
  auto p = Subprocess::Start(Cmd({"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}), &error);
  std::string out = p ? ReadAll(p->output_fd()) : "";
  bool waited = p && p->Wait(10s);

  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);

  REQUIRE(p != nullptr);
  REQUIRE(waited);
  CHECK(out == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");

  // And a blocked-in-the-parent SIGTERM really kills it.
  REQUIRE(::pthread_sigmask(SIG_BLOCK, &block, &old_mask) == 0);
  auto q = Subprocess::Start(Cmd({"sleep", "30"}), &error);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  REQUIRE(q != nullptr);
  REQUIRE(q->Signal(SIGTERM, false));
  REQUIRE(q->Wait(10s));
  CHECK(q->exit_status() == ExitStatus{true, SIGTERM});
}

TEST_CASE("Subprocess: the child leads its own process group", "[subprocess]") {
  std::string error;
  auto p = Subprocess::Start(Cmd({"sleep", "30"}), &error);
  REQUIRE(p != nullptr);
  CHECK(p->pgid() == p->pid());
  CHECK(::getpgid(p->pid()) == p->pid());
  CHECK(::getpgid(p->pid()) != ::getpgrp());
  CHECK(ProcessGroupAlive(p->pgid()));
}

TEST_CASE("Subprocess: a group signal reaches a grandchild", "[subprocess]") {
  std::string error;
  auto p = Subprocess::Start(Cmd({"sh", "-c", "sleep 300 & echo $!; wait"}), &error);
  REQUIRE(p != nullptr);
  std::string line = ReadLine(p->output_fd());
  REQUIRE_FALSE(line.empty());
  pid_t grandchild = std::stoi(line);
  CHECK(::getpgid(grandchild) == p->pgid());
  CHECK_FALSE(Dead(grandchild));

  REQUIRE(p->Signal(SIGTERM, /*to_group=*/true));
  REQUIRE(p->Wait(10s));
  CHECK(WaitUntil([&] { return Dead(grandchild); }));
  CHECK(WaitUntil([&] { return !ProcessGroupAlive(p->pgid()); }));
}

TEST_CASE("Subprocess: the child inherits only fds 0, 1 and 2", "[subprocess]") {
  // A descriptor the harness left inheritable, as a library might.
  int leaky = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC on purpose
  REQUIRE(leaky >= 3);
  std::string error;
  auto p = Subprocess::Start(Cmd({"sleep", "30"}), &error);
  ::close(leaky);
  REQUIRE(p != nullptr);

  // Look at the child from outside. The exec has happened when Start
  // returns, but the new program's dynamic loader may still hold a library
  // open for a moment: wait for the set to settle (a leak never would).
  std::set<std::string> fds;
  std::string dir = "/proc/" + std::to_string(p->pid()) + "/fd";
  auto list = [&] {
    fds.clear();
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      fds.insert(entry.path().filename().string());
    }
    return fds == std::set<std::string>{"0", "1", "2"};
  };
  CHECK(WaitUntil(list, 5s));
  CHECK(fds == std::set<std::string>{"0", "1", "2"});
  char target[256] = {0};
  REQUIRE(::readlink((dir + "/0").c_str(), target, sizeof target - 1) > 0);
  CHECK(std::string(target) == "/dev/null");

  // And from inside: a shell sees the same three (plus whatever ls opens).
  auto q = Subprocess::Start(Cmd({"sh", "-c", "exec ls -l /proc/self/fd"}), &error);
  REQUIRE(q != nullptr);
  std::string out = ReadAll(q->output_fd());
  REQUIRE(q->Wait(10s));
  CHECK(out.find(" 0 -> /dev/null") != std::string::npos);
  CHECK(out.find(" 1 -> pipe:") != std::string::npos);
  CHECK(out.find(" 2 -> pipe:") != std::string::npos);
  // Any fd other than 0-2 is ls's own handle on /proc/self/fd.
  std::istringstream lines(out);
  std::string l;
  while (std::getline(lines, l)) {
    size_t arrow = l.find(" -> ");
    if (arrow == std::string::npos) continue;
    size_t num = l.rfind(' ', arrow - 1);
    std::string fd = l.substr(num + 1, arrow - num - 1);
    if (fd != "0" && fd != "1" && fd != "2") {
      CHECK(l.find("/proc/") != std::string::npos);
    }
  }
}

TEST_CASE("Subprocess: exit_fd becomes readable on exit", "[subprocess]") {
  std::string error;
  auto p = Subprocess::Start(Cmd({"sleep", "30"}), &error);
  REQUIRE(p != nullptr);
  REQUIRE(p->exit_fd() >= 0);
  struct pollfd pfd {
    p->exit_fd(), POLLIN, 0
  };
  CHECK(::poll(&pfd, 1, 0) == 0);  // running: not readable
  CHECK_FALSE(p->TryReap());

  REQUIRE(p->Signal(SIGKILL, false));
  pfd.revents = 0;
  REQUIRE(::poll(&pfd, 1, 10000) == 1);
  CHECK((pfd.revents & POLLIN) != 0);
  auto seen = Clock::now();
  REQUIRE(p->TryReap());
  CHECK(p->exit_status() == ExitStatus{true, SIGKILL});
  CHECK(p->exit_time() >= seen);

  // A process that exits at once: readable too.
  auto q = Subprocess::Start(Cmd({"true"}), &error);
  REQUIRE(q != nullptr);
  struct pollfd qfd {
    q->exit_fd(), POLLIN, 0
  };
  REQUIRE(::poll(&qfd, 1, 10000) == 1);
  REQUIRE(q->TryReap());
  CHECK(q->exit_status() == ExitStatus{false, 0});
}

TEST_CASE("Subprocess: the parent-death signal kills the child of a SIGKILLed parent",
          "[subprocess]") {
  // The helper is a fork of this test that starts a sleeper with Subprocess,
  // tells us its pid, and waits to be killed.
  int report[2];
  REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
  pid_t helper = ::fork();
  REQUIRE(helper >= 0);
  if (helper == 0) {
    ::close(report[0]);
    std::string error;
    SpawnOptions o;
    o.argv = {"/bin/sleep", "300"};
    auto p = Subprocess::Start(o, &error);
    pid_t pid = p ? p->pid() : -1;
    ssize_t n = ::write(report[1], &pid, sizeof pid);
    (void)n;
    for (;;) ::pause();
  }
  ::close(report[1]);
  pid_t sleeper = -1;
  struct pollfd pfd {
    report[0], POLLIN, 0
  };
  REQUIRE(::poll(&pfd, 1, 10000) == 1);
  REQUIRE(::read(report[0], &sleeper, sizeof sleeper) == sizeof sleeper);
  ::close(report[0]);
  REQUIRE(sleeper > 0);
  CHECK_FALSE(Dead(sleeper));

  REQUIRE(::kill(helper, SIGKILL) == 0);
  int status;
  REQUIRE(::waitpid(helper, &status, 0) == helper);
  CHECK(WaitUntil([&] { return Dead(sleeper); }));
}

TEST_CASE("Subprocess: Wait with a timeout on a running process returns false", "[subprocess]") {
  const std::set<pid_t> before = Children();
  std::string error;
  pid_t pgid;
  {
    auto p = Subprocess::Start(Cmd({"sh", "-c", "sleep 300 & sleep 300"}), &error);
    REQUIRE(p != nullptr);
    pgid = p->pgid();
    auto start = Clock::now();
    CHECK_FALSE(p->Wait(100ms));
    CHECK(Clock::now() - start >= 100ms);
    CHECK_FALSE(p->exited());
    CHECK_FALSE(p->Wait(Duration::zero()));
  }
  // The destructor SIGKILLed the whole group and reaped the leader.
  CHECK(WaitUntil([&] { return !ProcessGroupAlive(pgid); }));
  CHECK(Children() == before);
}

TEST_CASE("Subprocess: env and cwd are applied", "[subprocess]") {
  TempDir dir;
  SpawnOptions o;
  o.argv = {"env"};
  o.env = {"PATH=/usr/bin:/bin", "FOO=bar baz=qux", "EMPTY="};
  o.cwd = dir.path;
  std::string error;
  auto p = Subprocess::Start(o, &error);
  REQUIRE(p != nullptr);
  std::string out = ReadAll(p->output_fd());
  REQUIRE(p->Wait(10s));
  std::multiset<std::string> got;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) got.insert(l);
  CHECK(got == std::multiset<std::string>{"PATH=/usr/bin:/bin", "FOO=bar baz=qux", "EMPTY="});

  o.argv = {"pwd", "-P"};
  p = Subprocess::Start(o, &error);
  REQUIRE(p != nullptr);
  char real[PATH_MAX];
  REQUIRE(::realpath(dir.path.c_str(), real) != nullptr);
  CHECK(ReadAll(p->output_fd()) == std::string(real) + "\n");
  REQUIRE(p->Wait(10s));
}

TEST_CASE("Subprocess: a bad cwd is a clear error and no child", "[subprocess]") {
  SpawnOptions o = Cmd({"true"});
  o.cwd = "/nonexistent/lastcall-dir";
  const std::set<pid_t> before = Children();
  std::string error;
  auto p = Subprocess::Start(o, &error);
  CHECK(p == nullptr);
  CHECK(error ==
        "cannot run 'true': changing directory to '/nonexistent/lastcall-dir': No such file or "
        "directory");
  CHECK(Children() == before);
}

TEST_CASE("Subprocess: runs as another user when root", "[subprocess]") {
  if (::geteuid() != 0) {
    SpawnOptions o = Cmd({"id", "-u"});
    o.uid = 0;
    std::string error;
    CHECK(Subprocess::Start(o, &error) == nullptr);
    CHECK(error.find("not root") != std::string::npos);
    // Our own ids are fine.
    o.uid = ::geteuid();
    o.gid = ::getegid();
    auto p = Subprocess::Start(o, &error);
    REQUIRE(p != nullptr);
    CHECK(ReadAll(p->output_fd()) == std::to_string(::geteuid()) + "\n");
    REQUIRE(p->Wait(10s));
    return;
  }
  struct passwd* pw = ::getpwnam("nobody");
  REQUIRE(pw != nullptr);
  SpawnOptions o = Cmd({"sh", "-c", "id -u; id -g; id -G; grep -E '^Sig(Blk)' /proc/self/status"});
  o.uid = pw->pw_uid;
  o.gid = pw->pw_gid;
  o.cwd = "/";
  std::string error;
  auto p = Subprocess::Start(o, &error);
  REQUIRE(p != nullptr);
  std::string out = ReadAll(p->output_fd());
  REQUIRE(p->Wait(10s));
  std::string g = std::to_string(pw->pw_gid);
  CHECK(out == std::to_string(pw->pw_uid) + "\n" + g + "\n" + g + "\nSigBlk:\t0000000000000000\n");
}

TEST_CASE("Subprocess: the destructor kills a running child", "[subprocess]") {
  const std::set<pid_t> before = Children();
  std::string error;
  pid_t pid;
  {
    auto p = Subprocess::Start(Cmd({"sleep", "300"}), &error);
    REQUIRE(p != nullptr);
    pid = p->pid();
  }
  CHECK(Dead(pid));  // reaped by the destructor: gone at once
  CHECK(Children() == before);
}

TEST_CASE("Subprocess: no descriptor leaks in the harness", "[subprocess]") {
  auto count_fds = [] {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
      (void)e;
      ++n;
    }
    return n;
  };
  const size_t before = count_fds();
  for (int i = 0; i < 10; ++i) {
    std::string error;
    auto ok = Subprocess::Start(Cmd({"sh", "-c", "echo x"}), &error);
    REQUIRE(ok != nullptr);
    ReadAll(ok->output_fd());
    REQUIRE(ok->Wait(10s));
    CHECK(Subprocess::Start(Cmd({"/nonexistent/x"}), &error) == nullptr);
    SpawnOptions bad_cwd = Cmd({"true"});
    bad_cwd.cwd = "/nonexistent";
    CHECK(Subprocess::Start(bad_cwd, &error) == nullptr);
    auto killed = Subprocess::Start(Cmd({"sleep", "30"}), &error);
    REQUIRE(killed != nullptr);
  }
  CHECK(count_fds() == before);
}

TEST_CASE("Subprocess: a group outlives its leader until signalled", "[subprocess]") {
  std::string error;
  auto p = Subprocess::Start(Cmd({"sh", "-c", "sleep 300 & echo $!"}), &error);
  REQUIRE(p != nullptr);
  pid_t orphan = std::stoi(ReadLine(p->output_fd()));
  REQUIRE(p->Wait(10s));
  CHECK(p->exit_status() == ExitStatus{false, 0});
  // The leader is reaped; its orphan keeps the group alive.
  CHECK(ProcessGroupAlive(p->pgid()));
  CHECK_FALSE(Dead(orphan));
  // A group signal is still allowed after the leader was reaped.
  REQUIRE(p->Signal(SIGKILL, /*to_group=*/true));
  CHECK(WaitUntil([&] { return Dead(orphan); }));
  CHECK(WaitUntil([&] { return !ProcessGroupAlive(p->pgid()); }));
}

TEST_CASE("ProcessGroupAlive", "[subprocess]") {
  CHECK(ProcessGroupAlive(::getpgrp()));
  CHECK_FALSE(ProcessGroupAlive(0));
  CHECK_FALSE(ProcessGroupAlive(-1));
}

TEST_CASE("RunCaptured: the output and how the program ended", "[subprocess]") {
  CapturedOutput ok = RunCaptured(Cmd({"sh", "-c", "echo out; echo err >&2"}), 10s);
  CHECK(ok.ok());
  CHECK(ok.output == "out\nerr\n");
  CHECK(ok.Outcome() == "exit 0");

  CapturedOutput failed = RunCaptured(Cmd({"sh", "-c", "echo why; exit 3"}), 10s);
  CHECK_FALSE(failed.ok());
  CHECK(failed.output == "why\n");
  CHECK(failed.error == "'sh' exited with status 3");
  CHECK(failed.Outcome() == "exit 3");

  CapturedOutput missing = RunCaptured(Cmd({"lastcall-no-such-command"}), 10s);
  CHECK_FALSE(missing.exit_status);
  CHECK(missing.error.find("lastcall-no-such-command") != std::string::npos);
}

TEST_CASE("RunCaptured: a program out of time is killed with its group", "[subprocess]") {
  CapturedOutput slow = RunCaptured(Cmd({"sh", "-c", "echo started; sleep 300 & wait"}), 1s);
  CHECK_FALSE(slow.exit_status);
  CHECK(slow.output == "started\n");
  CHECK(slow.error == "'sh' did not finish within 1 s");
}

TEST_CASE("RunCaptured: while_running may signal the program", "[subprocess]") {
  int calls = 0;
  CapturedOutput stopped = RunCaptured(Cmd({"sleep", "300"}), 30s, [&](Subprocess& p) {
    if (++calls == 2) p.Signal(SIGTERM, /*to_group=*/false);
  });
  CHECK(calls >= 2);
  CHECK(stopped.Outcome() == "killed by TERM");
}

}  // namespace
}  // namespace lastcall
