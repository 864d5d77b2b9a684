// What comes of a run's record: the checks' verdict (Judge) and the files
// written of it (WriteReports). Free functions over a RunRecord: the run
// case gathers what happened, these only read it (and give each attempt its
// cause).
#ifndef LASTCALL_JUDGE_H_
#define LASTCALL_JUDGE_H_

#include <cstddef>
#include <functional>
#include <string>

#include "report/report.h"
#include "run/run_record.h"
#include "scenario/scenario.h"

namespace lastcall {

// The run's result: its identity and timings, and when the run could be
// judged (record->audited) each check's result and whether the scenario's
// expectation was met; else the failure that stopped it. Gives every
// attempt in the history its cause (causes.h) first, from the kernel's
// records when there are any.
ScenarioResult Judge(const Scenario& scenario, RunRecord* record);

// What the reports take from the run besides its record.
struct ReportSources {
  // Takes the target's output still pending and closes its log,
  // report_dir/target.log.partial. Returns whether all of it was written.
  // Empty when no log was opened.
  std::function<bool()> finish_target_log;
  // The server's log and where the run's part of it begins; "" for an
  // external server.
  std::string server_log;
  size_t server_log_offset = 0;
};

// Writes history.jsonl, target.log, postgres.log, result.json and the
// rendered reports into record.report_dir, and the requests' counts and the
// offending keys' attempts into *result. A run that met its expectation but
// whose reports could not be written fails as lastcall's own.
void WriteReports(const Scenario& scenario, const RunRecord& record, const ReportSources& sources,
                  ScenarioResult* result);

}  // namespace lastcall

#endif  // LASTCALL_JUDGE_H_
