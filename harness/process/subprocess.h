// Child processes: the target and the embedded PostgreSQL server. Modelled on
// ninja's Subprocess: a passive object the caller polls; it never blocks on
// its own except in Wait(). Each child runs in its own process group, gets a
// parent-death signal (so a SIGKILLed harness takes its children with it),
// starts with the default signal mask and dispositions, and inherits no
// descriptor but its stdio.
#ifndef LASTCALL_SUBPROCESS_H_
#define LASTCALL_SUBPROCESS_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "base/duration.h"
#include "base/exit_status.h"  // ExitStatus, Duration

namespace lastcall {

using Clock = std::chrono::steady_clock;

struct SpawnOptions {
  // argv[0] without a slash is looked up in PATH (of `env`, else the harness's).
  std::vector<std::string> argv;
  std::vector<std::string> env;  // the complete environment, "NAME=value"
  std::string cwd;               // empty: the harness's
  // Where stdout and stderr go: -1 makes a pipe (both streams merged) that the
  // caller reads through output_fd(); otherwise an open descriptor (e.g. a log
  // file) that the child writes to directly. Stdin is /dev/null.
  int output_fd = -1;
  // Run as this user (setgid + setuid before exec); only when the harness is root.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

class Subprocess {
 public:
  // Starts the process. Returns nullptr and sets *error when it could not be
  // started, including when exec failed ("cannot run 'x': No such file or
  // directory"): the child reports exec errors back before Start returns.
  // The parent-death signal is tied to the calling *thread* (Linux
  // PR_SET_PDEATHSIG semantics): call Start from a thread that outlives the
  // child, or the child is SIGKILLed when that thread exits.
  static std::unique_ptr<Subprocess> Start(const SpawnOptions& options, std::string* error);

  // Last resort: if the process is still running, SIGKILLs its whole process
  // group and reaps it. Owners are expected to stop it politely first.
  ~Subprocess();

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // The process group: equal to pid() (the child is its group's leader).
  pid_t pgid() const { return pid_; }
  // Read end of the output pipe, non-blocking; -1 when SpawnOptions gave a fd.
  // Owned by this object.
  int output_fd() const { return output_fd_; }
  // A pidfd: becomes readable when the process exits (for poll/ppoll).
  int exit_fd() const { return exit_fd_; }

  // kill(2) to the process, or to its whole group. Returns false if the
  // kernel refused (errno set), e.g. the group is already empty. After the
  // process has been reaped, a signal to it alone is refused (ESRCH: the pid
  // may have been reused); one to the group is still sent, since the group
  // id stays reserved while any member lives.
  bool Signal(int signal, bool to_group) const;

  // Reaps the process if it has exited, without blocking. Returns true once
  // the exit has been collected; exit_status() and exit_time() are then set.
  // If someone else reaped it (SIGCHLD ignored, a stray waitpid(-1)), the
  // status is lost and reported as {by_signal=false, value=-1}.
  bool TryReap();
  // Waits up to `timeout` for the exit. Returns true if it was collected.
  bool Wait(Duration timeout);

  bool exited() const { return exit_status_.has_value(); }
  const std::optional<ExitStatus>& exit_status() const { return exit_status_; }
  // When the exit was seen (when exit_fd became readable, if the caller
  // reaped promptly).
  Clock::time_point exit_time() const { return exit_time_; }

 private:
  Subprocess() = default;
  pid_t pid_ = -1;
  int output_fd_ = -1;
  int exit_fd_ = -1;
  std::optional<ExitStatus> exit_status_;
  Clock::time_point exit_time_;
};

// A program run to its end: its output and how it ended.
struct CapturedOutput {
  std::string output;                     // stdout and stderr, merged as written
  std::optional<ExitStatus> exit_status;  // unset: it did not start, or ran out of time
  std::string error;  // "" when it exited 0; else why not ("'initdb' exited with status 1")
  bool ok() const { return error.empty(); }
  // "exit 0", "killed by TERM"; without an exit, why there is none.
  std::string Outcome() const { return exit_status ? exit_status->ToString() : error; }
};

// Runs `options` (its output_fd is ignored: the output is captured) until it
// exits and its output ends. After `timeout` its whole process group is
// SIGKILLed and the error says it did not finish. `while_running`, when
// given, is called with the process at least every 100 ms until its output
// ends, e.g. to signal it at chosen moments.
CapturedOutput RunCaptured(SpawnOptions options, Duration timeout,
                           const std::function<void(Subprocess&)>& while_running = nullptr);

// True when some process still belongs to process group `pgid`. Zombies do
// not count (where PID 1 does not reap orphans, an orphaned zombie would
// otherwise keep its group "alive" forever).
bool ProcessGroupAlive(pid_t pgid);

}  // namespace lastcall

#endif  // LASTCALL_SUBPROCESS_H_
