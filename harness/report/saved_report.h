// A scenario run as its report folder keeps it: result.json and
// history.jsonl, read back (the inverse of ResultJson() and
// History::WriteJsonl()), and the reports rendered from them: junit.xml,
// summary.md and index.html. A run renders them once; `lastcall report`
// renders them again from the folder, e.g. after lastcall was upgraded.
#ifndef LASTCALL_SAVED_REPORT_H_
#define LASTCALL_SAVED_REPORT_H_

#include <string>
#include <vector>

#include "history/history.h"
#include "report/report.h"
#include "scenario/scenario.h"

namespace lastcall {

struct SavedReport {
  // What the rendered reports show. Read back from result.json: everything
  // but the target instances and the phase timings other than the total.
  ScenarioResult result;
  Expectation expect;
  std::vector<Attempt> attempts;  // in no particular order
  std::vector<Event> events;

  // A run that has just finished, from its live history (copied).
  static SavedReport Of(const ScenarioResult& result, const Expectation& expect,
                        const History& history);
};

// Reads `result_json` and the history.jsonl in the same folder into *run;
// run->result.report_dir becomes that folder. Returns false and sets *error
// (the file, and the line for history.jsonl) when a file cannot be read or
// is not what lastcall writes.
bool LoadSavedReport(const std::string& result_json, SavedReport* run, std::string* error);

// As LoadSavedReport, but reads result.json alone: run->attempts and
// run->events stay empty. For what needs only the verdicts (the merge of
// shards' reports).
bool LoadSavedResult(const std::string& result_json, SavedReport* run, std::string* error);

// Writes junit.xml, summary.md and index.html of `run` into
// run.result.report_dir, each atomically. Returns false and sets *error at
// the first that cannot be written.
bool WriteRenderedReports(const SavedReport& run, std::string* error);
// Only junit.xml and summary.md, which need nothing of the history.
bool WriteTextReports(const SavedReport& run, std::string* error);

}  // namespace lastcall

#endif  // LASTCALL_SAVED_REPORT_H_
