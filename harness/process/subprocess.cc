// Child processes, launched with Boost.Process (v1, Boost 1.74) and then
// polled like ninja's Subprocess (src/subprocess-posix.cc).
//
// What Boost.Process does here: the fork/execve, argv and the environment
// (bp::exe, bp::args, bp::environment), the PATH lookup (bp::search_path) and
// the report of an execve failure from the child (its internal CLOEXEC pipe,
// read before the constructor returns). Everything that must happen in the
// child between fork and exec is one on_exec_setup handler of ours
// (ChildSetup below), in this order: own process group, default signal
// dispositions, stdio, cwd, mark fds >= 3 close-on-exec, drop privileges,
// parent-death signal, empty signal mask.
//
// Where we deliberately do NOT use a Boost.Process 1.74 facility, and why.
// Each point was read in the 1.74 headers (/usr/include/boost/process) and
// reproduced with a small program on Debian 12:
//
//  * bp::limit_handles: its on_exec_setup closes every descriptor that no
//    initializer declares -- including the executor's own exec-error pipe
//    (executor::_pipe_sink). A failing execve then cannot report its errno:
//    with bp::exe="/nonexistent/x" and limit_handles, the constructor returns
//    a valid child and no error, and the child exits 1. Instead we mark every
//    fd >= 3 close-on-exec in the child (close_range(CLOSE_RANGE_CLOEXEC),
//    Linux 5.11; /proc/self/fd walk otherwise): the error pipe stays usable
//    until the exec and nothing else survives it.
//
//  * bp::start_dir: posix::start_dir_init::on_exec_setup calls chdir() and
//    ignores its result. With start_dir="/nonexistent" the program runs in
//    the harness's folder and the launch reports success.
//
//  * Child-side failures of the other initializers (bp::posix::fd.bind's
//    dup2, limit_handles' close) go through executor::set_error(), which
//    writes the error in three write(2) calls that the parent reads with one
//    8-byte read (a short read leaves the message length uninitialised), and
//    does not stop the child from going on to execve. So our handler does
//    chdir/dup2 itself, reports a failure through a pipe of ours in one
//    atomic write, and _exit(127)s.
//
//  * After a failed execve, Boost returns an empty child and forgets the pid:
//    the failed child stays a zombie. Our on_error handler records exec.pid
//    so that we reap it.
//
//  * Reaping: we detach the bp::child right after launch and reap with
//    waitpid(2) ourselves, because (a) child::running() stores exit status 0
//    when waitpid fails with ECHILD (its local `int exit_code = 0`), turning
//    "status lost" into a clean exit; (b) child::wait_for()/wait_until()
//    replace the process-wide SIGCHLD disposition with signal(2) while they
//    wait, which races with other threads; (c) ~child() SIGKILLs only the
//    process, not its group. Detached, the child object never touches the pid
//    again, and exactly one waitpid (ours) reaps it.
//
// One Boost flaw remains and is harmless here: the executor makes its error
// pipe with pipe(2) and only then sets FD_CLOEXEC on the write end. A child
// forked by another thread in that window inherits the write end, and Start
// waits until that child execs or exits. Children forked by Subprocess exec
// at once (they mark everything close-on-exec); only a foreign fork()
// without exec in another thread could stall a Start.
#include "process/subprocess.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <system_error>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/search_path.hpp>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/errno_text.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace bp = boost::process;

namespace lastcall {
namespace {

// Closes a descriptor on scope exit.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A close-on-exec duplicate of `fd` numbered >= 3, so that the child's dup2
// onto 0, 1 and 2 can never overwrite one source with another (the harness
// may have been started with some of its own stdio closed).
int DupHigh(int fd) { return ::fcntl(fd, F_DUPFD_CLOEXEC, 3); }

// Steps of the child-side setup, for the error message.
enum SetupStep : int {
  kStepSetpgid = 1,
  kStepDup2,
  kStepChdir,
  kStepCloexec,
  kStepSetgroups,
  kStepSetgid,
  kStepSetuid,
  kStepPdeathsig,
  kStepSigmask,
};

const char* StepText(int step) {
  switch (step) {
    case kStepSetpgid:
      return "setpgid";
    case kStepDup2:
      return "redirecting stdio";
    case kStepChdir:
      return "changing directory";
    case kStepCloexec:
      return "marking descriptors close-on-exec";
    case kStepSetgroups:
      return "setgroups";
    case kStepSetgid:
      return "setgid";
    case kStepSetuid:
      return "setuid";
    case kStepPdeathsig:
      return "prctl(PR_SET_PDEATHSIG)";
    case kStepSigmask:
      return "sigprocmask";
  }
  return "setting up the child";
}

// What the child reports when a setup step fails: one write(2) of 8 bytes,
// atomic on a pipe.
struct SetupFailure {
  int step;
  int err;
};

// Async-signal-safe fallback for kernels without close_range (< 5.11): walk
// /proc/self/fd with getdents64 and set FD_CLOEXEC on each fd >= 3.
bool CloexecFromProc() {
  int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  char buf[4096];
  for (;;) {
    long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n < 0) {
      ::close(dir);
      return false;
    }
    if (n == 0) break;
    for (long off = 0; off < n;) {
      // struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
      unsigned short reclen;
      memcpy(&reclen, buf + off + 16, sizeof reclen);
      const char* name = buf + off + 19;
      int fd = 0;
      bool numeric = *name != '\0';
      for (const char* p = name; *p; ++p) {
        if (*p < '0' || *p > '9') {
          numeric = false;
          break;
        }
        fd = fd * 10 + (*p - '0');
      }
      if (numeric && fd >= 3 && fd != dir) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      off += reclen;
    }
  }
  ::close(dir);
  return true;
}

// Everything the child does between fork and exec. The data is prepared by
// the parent before the fork; the child only makes async-signal-safe calls.
struct ChildSetup : bp::extend::handler {
  pid_t parent = -1;
  int stdin_fd = -1;
  int output_fd = -1;
  int report_fd = -1;
  const char* cwd = nullptr;
  bool set_ids = false;
  uid_t uid = 0;
  gid_t gid = 0;
  char* const* argv = nullptr;
  // The pid of a child whose execve failed: Boost returns an empty child then.
  mutable pid_t failed_pid = -1;

  // bp::exe + bp::args make argv[0] the resolved path; keep argv[0] as the
  // caller wrote it, as execvp does.
  template <class Executor>
  void on_setup(Executor& exec) const {
    exec.cmd_line = argv;
  }

  template <class Executor>
  void on_error(Executor& exec, const std::error_code&) const {
    if (exec.pid > 0) failed_pid = exec.pid;
  }

  template <class Executor>
  void on_exec_setup(Executor&) const {
    Run();
  }

  [[noreturn]] void Fail(int step) const {
    SetupFailure f{step, errno};
    ssize_t ignored = ::write(report_fd, &f, sizeof f);
    (void)ignored;
    _exit(127);
  }

  void Run() const {
    // Own process group, so that a signal can reach the whole tree.
    if (::setpgid(0, 0) != 0) Fail(kStepSetpgid);

    // Default dispositions: the harness may ignore SIGPIPE or catch others;
    // an ignored signal stays ignored across execve.
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      ::sigaction(sig, &dfl, nullptr);  // EINVAL for glibc's internal ones
    }

    // stdio. All sources are >= 3 (DupHigh), so the order does not matter.
    if (::dup2(output_fd, STDOUT_FILENO) < 0) Fail(kStepDup2);
    if (::dup2(output_fd, STDERR_FILENO) < 0) Fail(kStepDup2);
    if (::dup2(stdin_fd, STDIN_FILENO) < 0) Fail(kStepDup2);

    if (cwd != nullptr && ::chdir(cwd) != 0) Fail(kStepChdir);

    // No descriptor but 0-2 survives the exec. Close-on-exec rather than
    // close: Boost's error pipe must live until the exec (see the top).
    // Before setuid: a non-dumpable process cannot open /proc/self/fd.
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0 && !CloexecFromProc()) {
      Fail(kStepCloexec);
    }

    if (set_ids) {
      if (::setgroups(1, &gid) != 0) Fail(kStepSetgroups);
      if (::setgid(gid) != 0) Fail(kStepSetgid);
      if (::setuid(uid) != 0) Fail(kStepSetuid);
    }

    // After setuid: a credential change clears the parent-death signal.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Fail(kStepPdeathsig);
    // The parent may have died before the prctl: then nobody would kill us.
    if (::getppid() != parent) _exit(127);

    // Last: the harness blocks SIGINT/SIGTERM in all its threads; a child
    // inheriting that mask would never see the signals we send it.
    sigset_t empty;
    sigemptyset(&empty);
    if (::sigprocmask(SIG_SETMASK, &empty, nullptr) != 0) Fail(kStepSigmask);
  }
};

// The value of PATH in `env` ("NAME=value" entries; the last one wins), or
// the harness's PATH when `env` has none.
std::string PathFor(const std::vector<std::string>& env) {
  const std::string* found = nullptr;
  for (const std::string& e : env) {
    if (e.compare(0, 5, "PATH=") == 0) found = &e;
  }
  if (found != nullptr) return found->substr(5);
  if (const char* p = ::getenv("PATH")) return p;
  return "/usr/local/bin:/usr/bin:/bin";
}

// Resolves argv[0] as execvp would. Returns "" and sets *err on failure.
std::string ResolveExecutable(const SpawnOptions& o, int* err) {
  const std::string& name = o.argv[0];
  if (name.find('/') != std::string::npos) return name;  // execve reports errors
  if (name.empty()) {
    *err = ENOENT;
    return "";
  }
  std::vector<boost::filesystem::path> dirs;
  const std::string path = PathFor(o.env);
  size_t start = 0;
  for (;;) {
    size_t end = path.find(':', start);
    std::string dir =
        path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (dir.empty()) dir = ".";  // an empty PATH entry means the current folder
    // The child resolves a relative result after its chdir: look there too.
    if (dir[0] != '/' && !o.cwd.empty()) dir = o.cwd + "/" + dir;
    dirs.emplace_back(dir);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  boost::filesystem::path found = bp::search_path(name, dirs);
  if (!found.empty()) return found.string();
  // Like execvp: EACCES if some candidate exists but cannot be executed.
  *err = ENOENT;
  for (const auto& d : dirs) {
    struct stat st;
    if (::stat((d / name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) *err = EACCES;
  }
  return "";
}

}  // namespace

std::unique_ptr<Subprocess> Subprocess::Start(const SpawnOptions& options, std::string* error) {
  if (options.argv.empty()) {
    *error = "cannot run an empty command";
    return nullptr;
  }
  const std::string& argv0 = options.argv[0];
  auto fail_errno = [&](const std::string& what, int err) {
    *error = "cannot run '" + argv0 + "': " + what + ErrnoText(err);
    return nullptr;
  };

  int resolve_err = 0;
  std::string exe = ResolveExecutable(options, &resolve_err);
  if (exe.empty()) return fail_errno("", resolve_err);

  // Changing ids needs root; asking for the ids we already have is a no-op.
  const bool root = ::geteuid() == 0;
  const bool set_ids = root && (options.uid.has_value() || options.gid.has_value());
  if (!root && (options.uid.value_or(::geteuid()) != ::geteuid() ||
                options.gid.value_or(::getegid()) != ::getegid())) {
    *error = "cannot run '" + argv0 + "' as another user: the harness is not root";
    return nullptr;
  }

  // Descriptors for the child, all close-on-exec in the parent.
  Fd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (devnull.get() < 0) return fail_errno("/dev/null: ", errno);
  Fd stdin_fd(DupHigh(devnull.get()));
  Fd out_read, out_write;
  if (options.output_fd < 0) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return fail_errno("pipe: ", errno);
    out_read.Reset(p[0]);
    Fd raw_write(p[1]);
    // Blocking write end for the child (O_NONBLOCK on a pipe is per open
    // file description, so it was set on both ends above).
    int flags = ::fcntl(raw_write.get(), F_GETFL);
    ::fcntl(raw_write.get(), F_SETFL, flags & ~O_NONBLOCK);
    out_write.Reset(DupHigh(raw_write.get()));
    if (out_read.get() < 3) out_read.Reset(DupHigh(out_read.Release()));
  } else {
    out_write.Reset(DupHigh(options.output_fd));
  }
  if (stdin_fd.get() < 0 || out_write.get() < 0 || (options.output_fd < 0 && out_read.get() < 0))
    return fail_errno("dup: ", errno);

  Fd report_read, report_write;
  {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno("pipe: ", errno);
    report_read.Reset(p[0]);
    report_write.Reset(p[1]);
  }

  std::vector<char*> argv;
  for (const std::string& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  // set(), not env[name]: operator[] goes through basic_environment::find,
  // which in 1.74 compares "NAME=" against every entry with std::equal
  // without checking the entry's length (a heap overread that ASan reports).
  bp::environment env;
  for (const std::string& e : options.env) {
    size_t eq = e.find('=');
    if (eq == std::string::npos || eq == 0) continue;  // not NAME=value
    env.set(e.substr(0, eq), e.substr(eq + 1));        // a later duplicate wins
  }

  ChildSetup setup;
  setup.parent = ::getpid();
  setup.stdin_fd = stdin_fd.get();
  setup.output_fd = out_write.get();
  setup.report_fd = report_write.get();
  setup.cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  if (set_ids) {
    setup.set_ids = true;
    setup.uid = options.uid.value_or(::geteuid());
    setup.gid = options.gid.value_or(::getegid());
  }
  setup.argv = argv.data();

  std::vector<std::string> args(options.argv.begin() + 1, options.argv.end());
  std::error_code ec;
  bp::child child;
  try {
    child = bp::child(bp::exe = exe, bp::args = args, env, setup, ec);
  } catch (const std::exception& e) {
    if (setup.failed_pid > 0) ::waitpid(setup.failed_pid, nullptr, 0);
    *error = "cannot run '" + argv0 + "': " + e.what();
    return nullptr;
  }
  // The child has exec'd or died by now: drop our copies of its ends.
  report_write.Reset();
  out_write.Reset();
  stdin_fd.Reset();

  if (ec) {
    // execve failed; Boost read the child's errno from its pipe.
    if (setup.failed_pid > 0) {
      while (::waitpid(setup.failed_pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    return fail_errno("", ec.value());
  }
  const pid_t pid = child.id();
  child.detach();  // we reap it ourselves (see the top of this file)

  SetupFailure failure{0, 0};
  ssize_t n;
  do {
    n = ::read(report_read.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    std::string what = std::string(StepText(failure.step));
    if (failure.step == kStepChdir) what += " to '" + options.cwd + "'";
    *error = "cannot run '" + argv0 + "': " + what + ": " + ErrnoText(failure.err);
    return nullptr;
  }

  std::unique_ptr<Subprocess> sp(new Subprocess());
  sp->pid_ = pid;
  sp->output_fd_ = out_read.Release();
  // pidfd_open (Linux 5.3): a pidfd is close-on-exec. The pid cannot be
  // reused before we reap it, so there is no race here.
  sp->exit_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  return sp;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !exited()) {
    // The pid (and so the group id) stays ours until we reap it.
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);  // in case it left its group
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (output_fd_ >= 0) ::close(output_fd_);
  if (exit_fd_ >= 0) ::close(exit_fd_);
}

bool Subprocess::Signal(int signal, bool to_group) const {
  if (exited() && !to_group) {
    // Reaped: the pid may belong to someone else by now.
    errno = ESRCH;
    return false;
  }
  return ::kill(to_group ? -pid_ : pid_, signal) == 0;
}

bool Subprocess::TryReap() {
  if (exited()) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  exit_time_ = Clock::now();
  if (r < 0) {
    // ECHILD: someone else reaped it (SIGCHLD ignored, or a waitpid(-1)
    // elsewhere). The process is gone but its status is lost.
    exit_status_ = ExitStatus{false, -1};
    return true;
  }
  if (WIFSIGNALED(status)) {
    exit_status_ = ExitStatus{true, WTERMSIG(status)};
  } else {
    exit_status_ = ExitStatus{false, WEXITSTATUS(status)};
  }
  return true;
}

bool Subprocess::Wait(Duration timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    if (TryReap()) return true;
    Duration left = deadline - Clock::now();
    if (left <= Duration::zero()) return false;
    if (exit_fd_ >= 0) {
      struct timespec ts;
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      ts.tv_sec = static_cast<time_t>(ns / 1000000000);
      ts.tv_nsec = static_cast<long>(ns % 1000000000);
      struct pollfd pfd {
        exit_fd_, POLLIN, 0
      };
      ::ppoll(&pfd, 1, &ts, nullptr);
    } else {
      // No pidfd (kernel < 5.3): poll the status.
      struct timespec ts {
        0, 2000000
      };
      ::nanosleep(&ts, nullptr);
    }
  }
}

namespace {

// Whether /proc/`name`/stat is a live (not zombie) member of group `pgid`.
bool LiveMember(const char* name, pid_t pgid) {
  char path[300];
  snprintf(path, sizeof path, "/proc/%s/stat", name);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // exited meanwhile
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  // "pid (comm) S ppid pgrp ..."; comm may contain spaces and parentheses.
  const char* close = strrchr(buf, ')');
  char state;
  int ppid, pgrp;
  if (close == nullptr || sscanf(close + 1, " %c %d %d", &state, &ppid, &pgrp) != 3) return false;
  return pgrp == pgid && state != 'Z' && state != 'X';
}

// Whether /proc shows a process of group `pgid` that is not a zombie. Sets
// *known to false when /proc cannot be read.
bool LiveMemberInProc(pid_t pgid, bool* known) {
  // The leader first: usually it is the one still running.
  const std::string leader = std::to_string(pgid);
  if (LiveMember(leader.c_str(), pgid)) {
    *known = true;
    return true;
  }
  DIR* proc = ::opendir("/proc");
  *known = proc != nullptr;
  if (proc == nullptr) return false;
  bool found = false;
  while (struct dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    if (LiveMember(e->d_name, pgid)) {
      found = true;
      break;
    }
  }
  ::closedir(proc);
  return found;
}

}  // namespace

bool ProcessGroupAlive(pid_t pgid) {
  if (pgid <= 0) return false;  // kill(0) / kill(-1) would mean something else
  if (::kill(-pgid, 0) != 0 && errno != EPERM) return false;  // EPERM: exists, not ours
  // kill(2) counts zombies. An orphaned zombie is reaped by PID 1 -- except
  // where PID 1 does not reap (some containers and VMs): look for a live member.
  bool known;
  bool live = LiveMemberInProc(pgid, &known);
  return known ? live : true;
}

CapturedOutput RunCaptured(SpawnOptions options, Duration timeout,
                           const std::function<void(Subprocess&)>& while_running) {
  using namespace std::chrono_literals;
  CapturedOutput r;
  options.output_fd = -1;
  std::unique_ptr<Subprocess> p = Subprocess::Start(options, &r.error);
  if (!p) return r;
  const Clock::time_point deadline = Clock::now() + timeout;
  bool eof = false;
  while (!(eof && p->exited())) {
    Duration left = deadline - Clock::now();
    if (left <= Duration::zero()) {
      p->Signal(SIGKILL, /*to_group=*/true);
      p->Wait(5s);
      r.error = "'" + options.argv[0] + "' did not finish within " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                " s";
      return r;
    }
    struct pollfd fds[2] = {{eof ? -1 : p->output_fd(), POLLIN, 0}, {p->exit_fd(), POLLIN, 0}};
    int ms = static_cast<int>(std::min<int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(left).count() + 1, 100));
    ::poll(fds, 2, ms);
    if (!eof) {
      char buf[4096];
      ssize_t n = ::read(p->output_fd(), buf, sizeof buf);
      if (n > 0) r.output.append(buf, static_cast<size_t>(n));
      if (n == 0) eof = true;
      if (!eof && while_running) while_running(*p);
    }
    p->TryReap();
  }
  const ExitStatus& st = *p->exit_status();
  r.exit_status = st;
  if (st.by_signal || st.value != 0) {
    r.error = "'" + options.argv[0] + "' " +
              (st.by_signal ? "was killed by signal " + std::to_string(st.value)
                            : "exited with status " + std::to_string(st.value));
  }
  return r;
}

}  // namespace lastcall
