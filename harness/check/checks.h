// The checker (Jepsen's term): the audit of a finished scenario run. Pure
// logic over the history, the fault records, the target's exits and what the
// database and OS said afterwards, so every rule here is unit-tested with
// hand-made inputs; run.cc gathers the real inputs.
#ifndef LASTCALL_CHECKS_H_
#define LASTCALL_CHECKS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "check/catalogue.h"
#include "check/causes.h"
#include "history/fault_record.h"
#include "history/history.h"
#include "history/server_records.h"
#include "scenario/scenario.h"

namespace lastcall {

// One start of the target, as the checks see it.
struct InstanceRecord {
  int id = 0;
  int64_t start_time = -1, ready_time = -1, exit_time = -1;
  std::optional<ExitStatus> exit;
  // lastcall had to stop it after the run (it did not exit by itself).
  bool stopped_by_harness = false;
  pid_t pid = 0;  // its main process (in container mode: the namespace's PID 1)
};

struct InvariantResult {
  std::string name;
  std::vector<std::string> rows;  // each a violation, columns joined
  int64_t unlisted_rows = 0;      // violations past those in `rows`: counted
};

// Background jobs after the run: what the harness enqueued, what
// `audit.jobs` says took effect, and what the Redis lists still held.
struct JobsAudit {
  std::vector<std::string> enqueued;              // job ids, in order
  std::unordered_map<std::string, int64_t> done;  // job id -> times it took effect
  std::vector<std::string> queue;                 // still waiting (never taken, or returned)
  std::vector<std::string> processing;            // taken and never acknowledged
  std::string processing_list;                    // its name, for messages
};

// Rows of (key, times applied) in the order a query returned them; a key
// returned twice counts the sum. A vector, not a map: over a million keys a
// hash map of strings cost a tenth of the audit's time, and the checks look
// the run's own keys up by seq.
using KeyCounts = std::vector<std::pair<std::string, int64_t>>;

// Rows of audit.applied whose keys lastcall never sent, past the first
// AppliedFold::kForeignKeysKept such keys: counted, not kept.
struct UnkeptRows {
  int64_t rows = 0;
  int64_t applied = 0;   // of them, applied at least once
  int64_t repeated = 0;  // applied more than once
};

// Folds audit.applied's rows as they stream in, so that memory is bounded by
// the run's own keys whatever the query returns: a key of the run (of
// `seed`, its seq below `keys`) is kept once, its times summed; so are the
// first kForeignKeysKept distinct other keys; the rows of any further key
// are only counted.
class AppliedFold {
 public:
  static constexpr size_t kForeignKeysKept = 1000;
  AppliedFold(uint64_t seed, size_t keys, KeyCounts* applied, UnkeptRows* unkept)
      : seed_(seed), index_of_seq_(keys, kNone), applied_(applied), unkept_(unkept) {}
  void Add(const std::string& key, int64_t times);

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  uint64_t seed_;
  std::vector<size_t> index_of_seq_;  // into *applied_
  std::unordered_map<std::string, size_t> index_of_foreign_;
  KeyCounts* applied_;
  UnkeptRows* unkept_;
};

struct AuditInputs {
  const Scenario* scenario = nullptr;
  const History* history = nullptr;
  std::vector<FaultRecord> faults;
  std::vector<InstanceRecord> instances;
  KeyCounts applied;  // audit.applied's rows
  UnkeptRows unkept;  // and those not kept (AppliedFold)
  std::vector<InvariantResult> invariants;
  // Target sessions (every session on the run's database but lastcall's,
  // under any role) still in pg_stat_activity once its processes were gone
  // and the server had up to 2 s to notice; nullopt when they could not be
  // looked at.
  std::optional<std::vector<std::string>> leaked_sessions;
  // The target's sessions that ended without Terminate, from the server's
  // log; nullopt when there is no log (an external server). Each names its
  // instance by its role, or the moment it connected.
  std::optional<std::vector<UncleanDisconnect>> unclean_disconnects;
  // Why the instances had no database role of their own ("" when they
  // had): their sessions are then attributed by time only.
  std::string roles_error;
  // Processes of the run still alive once the target was gone and its grace
  // over; nullopt when they were not looked for.
  std::optional<std::vector<std::string>> orphans;
  // Files left in the private TMPDIR; nullopt when not looked at.
  std::optional<std::vector<std::string>> temp_files;
  // nullopt when the scenario has no jobs.
  std::optional<JobsAudit> jobs;
  // Why the kernel's view of the target's sockets (socket_watch.h) was not
  // available, "" when it was. Without it, and for an attempt it has no
  // record of, `drained` falls back to a time window: a request written
  // less than `settle` before the graceful signal may not have reached the
  // target, and is not counted. The report says how many were judged so.
  std::string kernel_view_missing;
  Duration settle = std::chrono::milliseconds(5);
  // The rolling restart: its first slot's turn and the moment the last
  // replacement was UP (history time, ns); -1 when it did not begin / end.
  int64_t deploy_start = -1, deploy_end = -1;
  bool interrupted = false;
};

enum class CheckStatus { kPass, kFail, kSkipped, kInfo };
const char* CheckStatusName(CheckStatus status);

struct CheckResult {
  std::string name;
  CheckStatus status = CheckStatus::kPass;
  std::string summary;                 // one line: what was found
  std::vector<std::string> offending;  // keys, instances, rows...
  // Offending entries past those listed: counted, not kept (rows of keys
  // lastcall never sent past a bound, entries past a report's cap).
  size_t unlisted = 0;
  size_t OffendingCount() const { return offending.size() + unlisted; }
};

// The drains of the run: each instance's first graceful signal from a fault
// to its exit (or to a KILL fault that cut it short), by signal time.
std::vector<DrainWindow> DrainWindowsOf(const AuditInputs& inputs);

// Runs the checks the scenario asks for (`audit.checks`, default all), in
// KnownChecks() order. Checks that cannot apply are kSkipped with a reason.
std::vector<CheckResult> RunChecks(const AuditInputs& inputs);

// Whether the results meet the scenario's expectation. `why` says what is
// missing when they do not, e.g. "lost failed" or "expected duplicated to fail".
bool ExpectationMet(const Expectation& expect, const std::vector<CheckResult>& results,
                    std::string* why);

}  // namespace lastcall

#endif  // LASTCALL_CHECKS_H_
