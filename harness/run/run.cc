#include "run/run.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "run/judge.h"
#include "run/run_case.h"

namespace lastcall {

using Clock = std::chrono::steady_clock;

namespace {

// The port of a run is chosen free (bind to port 0) and released for the
// target to bind; another process may take it in between. The target then
// fails to start with EADDRINUSE, and the run is made again from scratch
// with a new port, up to this many times.
constexpr int kPortAttempts = 3;

// True when the target exited before it was ready saying its address was
// in use (strerror(EADDRINUSE), as C, Go, Python, Java and Node print it).
bool TargetFoundPortTaken(const ScenarioResult& result) {
  if (result.verdict != Verdict::kInfrastructure ||
      result.message.find("exited before it was ready") == std::string::npos)
    return false;
  std::string message = result.message;
  std::transform(message.begin(), message.end(), message.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return message.find("address already in use") != std::string::npos ||
         message.find("eaddrinuse") != std::string::npos;
}

// Runs the case, judges its record and writes the reports, while the case
// still holds what it made: its database and folders go after the reports.
ScenarioResult RunOnce(const Scenario& scenario, Session* session, const std::string& report_name,
                       RunStatus* status) {
  RunCase run_case(scenario, session, report_name, status);
  RunRecord& record = run_case.Run();
  Clock::time_point judging = Clock::now();
  ScenarioResult result = Judge(run_case.scenario(), &record);
  // The checks are the audit's last step.
  double judged = SecondsBetween(judging, Clock::now());
  if (record.audited) result.audit += judged;
  result.total += judged;
  if (status) status->phase = "reports";
  if (!record.report_dir.empty() && access(record.report_dir.c_str(), W_OK) == 0)
    WriteReports(run_case.scenario(), record, run_case.report_sources(), &result);
  return result;
}

}  // namespace

ScenarioResult RunAndReport(const Scenario& scenario, Session* session,
                            const std::string& report_name, RunStatus* status) {
  for (int attempt = 1;; ++attempt) {
    ScenarioResult result = RunOnce(scenario, session, report_name, status);
    if (!TargetFoundPortTaken(result)) return result;
    if (attempt == kPortAttempts) {
      result.message = "the target could not bind its port, " + std::to_string(kPortAttempts) +
                       " times with a new free port each time: " + result.message;
      return result;
    }
  }
}

}  // namespace lastcall
