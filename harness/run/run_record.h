// What a run case returns (RunCase::Run()): what happened, from the history
// to the leftovers, for the audit and the reports (judge.h) to read, and why
// the run could not be judged, if it could not.
#ifndef LASTCALL_RUN_RECORD_H_
#define LASTCALL_RUN_RECORD_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "check/causes.h"
#include "check/checks.h"
#include "history/fault_record.h"
#include "history/history.h"
#include "process/socket_watch.h"
#include "report/report.h"

namespace lastcall {

// Why a run failed: its verdict and the message that goes with it.
struct RunFailure {
  Verdict verdict = Verdict::kInfrastructure;
  std::string message;
};

// `t` on the wall clock, in seconds since 1970.
inline double WallClockSeconds(std::chrono::steady_clock::time_point t) {
  auto wall = std::chrono::system_clock::now() - (std::chrono::steady_clock::now() - t);
  return std::chrono::duration<double>(wall.time_since_epoch()).count();
}

inline double SecondsBetween(std::chrono::steady_clock::time_point a,
                             std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Seconds spent in each phase (ScenarioResult's, which see).
struct RunTimings {
  double total = 0, database = 0, target_ready = 0, load = 0, teardown = 0, audit = 0;
  double load_started_at = 0;
  double rolling_restart = -1;
};

struct RunRecord {
  explicit RunRecord(int clients) : history(clients) {}

  std::string run_id;
  uint64_t seed = 0;
  std::string report_dir;  // "" until the run's report folder was made
  // Why the run cannot be judged; an empty message while it can.
  RunFailure failure;
  bool failed() const { return !failure.message.empty(); }

  History history;
  // Set once the run got as far as its audit (see `audited`).
  std::vector<FaultRecord> faults;
  std::vector<InstanceRecord> instances;
  // The leftovers (orphans, sessions and files), and once audited the
  // database's answers, the jobs, the unclean disconnects and the deploy's
  // window: all the checks read but the scenario and the history.
  AuditInputs audit;
  // The audit's queries all answered: the checks can judge the run.
  bool audited = false;
  // What the kernel showed, when it could be watched (else why not).
  KernelRecords kernel;
  std::optional<SocketWatchStats> kernel_view;
  std::string kernel_view_missing;
  RunTimings timings;
};

}  // namespace lastcall

#endif  // LASTCALL_RUN_RECORD_H_
