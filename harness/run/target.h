// The target: the service under test, run as a child process. One
// TargetInstance per start (a restart makes a new instance on the same port
// and database). Its stdout and stderr are captured line by line into
// target.log by whoever calls PumpOutput() — the run's single event loop.
#ifndef LASTCALL_TARGET_H_
#define LASTCALL_TARGET_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <regex>
#include <string>
#include <vector>

#include "base/interrupt.h"
#include "history/history.h"
#include "process/subprocess.h"
#include "scenario/scenario.h"

namespace lastcall {

// Everything needed to start one instance, templates already expanded.
struct TargetLaunch {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // complete environment
  std::string cwd;
  int port = 0;
  ReadyProbe ready;
  bool container = false;  // argv runs as PID 1 of a new PID namespace
};

class TargetInstance {
 public:
  // Starts instance number `id` (1-based) and records "target_start". Output
  // lines go to *log (owned by the caller, outliving the instance). Returns
  // nullptr and sets *error if the command cannot be run.
  static std::unique_ptr<TargetInstance> Start(int id, const TargetLaunch& launch, History* history,
                                               std::ostream* log, std::string* error);

  enum class Readiness { kReady, kExited, kTimedOut, kInterrupted };
  // Waits until the ready probe succeeds, the process exits, the probe's
  // timeout passes, or `interrupt` reports a signal (the harness's own
  // SIGINT/SIGTERM, read by this thread or another). Records "target_ready"
  // on success.
  Readiness WaitReady(Interrupt* interrupt);

  // Reads and logs the output available, without blocking and at most a
  // fixed amount per call (call it again while the pipe polls readable); a
  // line longer than a fixed cap is logged cut, saying how much was not
  // kept. Returns false once the output has reached EOF (or there is no
  // pipe).
  bool PumpOutput();
  // Called with every output line from now on (the nemesis's `log` trigger).
  void set_line_observer(std::function<void(const std::string&)> observer) {
    line_observer_ = std::move(observer);
  }
  // The output pipe to poll, or -1 once it has reached EOF (a closed pipe
  // would poll as ready forever).
  int output_fd() const { return output_open_ ? process_->output_fd() : -1; }
  // Reaps the process if it has exited; records "target_exit" once.
  bool TryReap();

  int id() const { return id_; }
  // The target's main process: the one started, or in container mode the
  // namespace's PID 1 (0 until it exists).
  pid_t MainPid();
  // lastcall had to stop this instance at the end of the run.
  void mark_stopped_by_harness() { stopped_by_harness_ = true; }
  bool stopped_by_harness() const { return stopped_by_harness_; }
  Subprocess& process() { return *process_; }
  const Subprocess& process() const { return *process_; }
  int64_t start_time() const { return start_time_; }
  int64_t ready_time() const { return ready_time_; }
  int64_t exit_time() const { return exit_time_; }
  // The last `n` lines of output, for error messages.
  std::string Tail(size_t n) const;

 private:
  TargetInstance() = default;
  void LogLine(const std::string& line);
  // Adds output bytes to the line being read, logging each line they end.
  void TakeOutput(const char* data, size_t size);
  // Logs the line being read (with a note if it was cut) and starts anew.
  void EndLine();
  bool Probe();

  int id_ = 0;
  TargetLaunch launch_;
  History* history_ = nullptr;
  std::ostream* log_ = nullptr;
  std::unique_ptr<Subprocess> process_;
  pid_t container_init_ = 0;
  bool stopped_by_harness_ = false;
  std::function<void(const std::string&)> line_observer_;
  std::optional<std::regex> ready_regex_;
  bool ready_line_seen_ = false;
  bool output_open_ = true;
  std::string partial_line_;
  size_t line_bytes_dropped_ = 0;  // of the line being read, past the cap
  std::deque<std::string> tail_;
  int64_t start_time_ = -1, ready_time_ = -1, exit_time_ = -1;
};

}  // namespace lastcall

#endif  // LASTCALL_TARGET_H_
