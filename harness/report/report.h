// The report of a scenario run: result.json (the verdict, every check with
// its offending keys, timings, trigger latencies, the resolved scenario) and
// the console lines. Files are written atomically (temp file + rename), so a
// reader never sees half a report and an earlier report survives a failure.
#ifndef LASTCALL_REPORT_H_
#define LASTCALL_REPORT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "check/checks.h"
#include "history/fault_record.h"
#include "history/kernel_records.h"
#include "scenario/scenario.h"

namespace lastcall {

enum class Verdict {
  kMet,             // the expectation was met
  kNotMet,          // it was not
  kBadInput,        // the scenario (or its SQL) is wrong: exit code 2
  kInfrastructure,  // database, target start, port...: exit code 3
  kInterrupted,     // lastcall itself was interrupted
  // The control run (the scenario without its faults) failed a check: the
  // scenario cannot tell a shutdown bug from a plain one (docs/control-run.md).
  kInvalid,
};
const char* VerdictName(Verdict verdict);

// lastcall run's exit codes (README.md, "Exit codes"; docs/reports.md).
constexpr int kExitAllMet = 0, kExitNotMet = 1, kExitBadInput = 2, kExitInfrastructure = 3,
              kExitInvalid = 4;

// The exit code of a suite whose runs ended with these verdicts (`count`:
// runs by verdict), the first that applies of 3 (infrastructure), 2 (bad
// input), 4 (invalid), 1 (not met, or interrupted), 0. An interrupted
// lastcall exits 128 + the signal whatever the verdicts; its caller says so.
int SuiteExitCode(const std::map<Verdict, int>& count);

// "lost, invariants": names for a message.
std::string NameList(const std::vector<std::string>& names);

// The names of the failed checks among `checks`, in their order.
std::vector<std::string> FailedCheckNames(const std::vector<CheckResult>& checks);

// What the control run of a scenario found: the same scenario run first with
// its faults removed (control.h).
struct ControlOutcome {
  // False when no check of the scenario applies without a fault: nothing ran.
  bool ran = true;
  // Against the control's expectation (every check it judged passes).
  Verdict verdict = Verdict::kMet;
  std::string message;              // why not met, its error, why it did not run
  std::vector<CheckResult> checks;  // the checks it judged
  std::string report_dir;           // its own reports
  double total = 0;                 // seconds

  bool passed() const { return ran && verdict == Verdict::kMet; }
  std::vector<std::string> FailedChecks() const { return FailedCheckNames(checks); }
};

struct ScenarioResult {
  std::string name, file;
  Verdict verdict = Verdict::kInfrastructure;
  std::string message;  // why it was not met, or the error
  uint64_t seed = 0;
  std::string run_id;
  std::vector<CheckResult> checks;
  std::vector<FaultRecord> faults;
  // The signal each fault sends, parallel to `faults`; 0 for a restart.
  std::vector<int> fault_signals;
  std::vector<InstanceRecord> instances;
  // The scenario's combination of its file's matrix; empty without one.
  std::vector<std::pair<std::string, std::string>> matrix;
  int64_t requests = 0, attempts = 0;
  int64_t ok = 0, failed = 0, unknown = 0;  // by key, last attempt
  // Attempts that got no 2xx/4xx answer, by cause (causes.h).
  std::map<std::string, int64_t> causes;
  // Seconds spent in each phase.
  double total = 0, database = 0, target_ready = 0, load = 0, teardown = 0, audit = 0;
  // When the load began on the wall clock (seconds since 1970), so that runs
  // that ran side by side (--jobs) can be placed against each other.
  double load_started_at = 0;
  // The rolling restart's duration in seconds, from the first instance's
  // turn to the last replacement UP; -1 without one (or unfinished).
  double rolling_restart = -1;
  std::string report_dir;
  // Why the kernel's view of the target's sockets was not used ("" when it
  // was), and its figures when it was.
  std::string kernel_view_missing;
  SocketWatchStats kernel_view;
  // For the offending keys of failed checks: each attempt, one line each
  // ("attempt 2 on connection 7: HTTP 201 after 23.1 ms").
  std::map<std::string, std::vector<std::string>> attempts_of;
  // Set when the scenario asked for a control run (`control: true`, --control).
  std::optional<ControlOutcome> control;
};

// Sets result->attempts, and result->requests, ok, failed and unknown from
// each request's outcome over its attempts (History::KeyOutcomes), and
// result->causes.
void CountRequests(const History& history, ScenarioResult* result);

// The idempotency key an offending entry is about ("lc-1-4 attempt 1: eof"
// -> "lc-1-4"), or "" when it names no key.
std::string KeyOf(const std::string& offending);

// Writes `content` to `path` through a temp file in the same folder and a
// rename. Returns false and sets *error on failure; `path` is then untouched.
// No fsync: the rename keeps readers, and lastcall's own crash or Ctrl-C,
// from ever seeing half a file; a report need not outlive a power cut.
bool WriteFileAtomically(const std::string& path, const std::string& content, std::string* error);
// The same for content that `write` streams out, which never has to be held
// in memory whole (a history of a million attempts is ~330 MB of text).
bool WriteFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                         std::string* error);

// Makes `reports_dir`/`name` (`name` from the scenario, "a/b" for nested
// folders), the folder a run writes its reports in. `reports_dir` is
// whatever the user chose, a symbolic link included; each folder of `name`
// below it is made or must already be a folder: an existing symbolic link
// there is never followed (whoever planted it would choose where the reports
// go). Returns kReady, or the failure with *error set.
enum class RunFolder { kReady, kCannotMake, kSymbolicLink };
RunFolder MakeRunFolder(const std::string& reports_dir, const std::string& name,
                        std::string* error);

// How many offending entries of a check the reports list (result.json,
// junit.xml, summary.md, the console); the count stays exact.
constexpr size_t kOffendingListed = 1000;
// The file, in a run's reports folder, that lists every offending entry
// kept when some check had more than the reports list.
constexpr char kOffendingFile[] = "offending-keys.txt";

// When a check of `checks` has more than kOffendingListed offending entries,
// or entries counted but never kept (`unlisted`), streams every entry of
// every failed check to `report_dir`/offending-keys.txt ("check<TAB>entry"
// lines, and "check<TAB>... N more, counted, not kept"), then keeps the
// first kOffendingListed of each, counting the others in `unlisted`; else
// removes a previous run's file. Returns false and sets *error when the file
// cannot be written (the lists are then left whole).
bool CapOffending(const std::string& report_dir, std::vector<CheckResult>* checks,
                  std::string* error);

// result.json's content.
std::string ResultJson(const ScenarioResult& result, const Scenario& scenario);

// Sets the "control" field of the result.json at `path` to `control`, the
// rest untouched. Returns false and sets *error when the file cannot be
// read, parsed or written again (then it is as it was).
bool RecordControl(const std::string& path, const ControlOutcome& control, std::string* error);

// How much the console says about each scenario run, and whether in colour.
struct ConsoleStyle {
  enum class Detail {
    kQuiet,    // nothing about a run that met its expectation
    kNormal,   // a line per run, and its failed checks with a few offending keys
    kVerbose,  // also every other check with its status
  };
  Detail detail = Detail::kNormal;
  bool colour = false;  // PASS in green, FAIL in red
};

// Whether stdout gets colours: only when it is a terminal, and never when
// NO_COLOR is set to anything but "" (no-color.org).
bool ColourWanted();

// What the console shows for one scenario run: one line, plus for a run that
// did not meet its expectation the failed checks with a few offending keys;
// more or less as `style` says. Empty for a met run when quiet.
std::string ConsoleLines(const ScenarioResult& result, const ConsoleStyle& style = {});

}  // namespace lastcall

#endif  // LASTCALL_REPORT_H_
