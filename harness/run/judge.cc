#include "run/judge.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "base/file.h"
#include "report/saved_report.h"

namespace lastcall {

ScenarioResult Judge(const Scenario& scenario, RunRecord* record) {
  ScenarioResult result;
  result.name = scenario.name;
  result.file = scenario.file;
  result.matrix = scenario.matrix;
  for (const Fault& f : scenario.faults)
    result.fault_signals.push_back(f.kind == Fault::Kind::kSignal ? f.signal : 0);
  result.run_id = record->run_id;
  result.seed = record->seed;
  result.report_dir = record->report_dir;
  const RunTimings& t = record->timings;
  result.total = t.total;
  result.database = t.database;
  result.target_ready = t.target_ready;
  result.load = t.load;
  result.load_started_at = t.load_started_at;
  result.teardown = t.teardown;
  result.audit = t.audit;
  result.rolling_restart = t.rolling_restart;
  result.instances = record->instances;
  result.verdict = record->failure.verdict;
  result.message = record->failure.message;
  if (!record->audited) return result;

  AuditInputs in = record->audit;
  in.scenario = &scenario;
  in.history = &record->history;
  in.faults = record->faults;
  in.instances = record->instances;
  result.faults = record->faults;
  // Every attempt's cause, from the socket watch's records when there are
  // any; the kernel view's figures, or why there were none.
  in.kernel_view_missing = record->kernel_view_missing;
  result.kernel_view_missing = record->kernel_view_missing;
  if (record->kernel_view) result.kernel_view = *record->kernel_view;
  ClassifyAttempts(record->kernel_view ? &record->kernel : nullptr, DrainWindowsOf(in),
                   &record->history);
  result.checks = RunChecks(in);
  std::string why;
  bool met = ExpectationMet(scenario.expect, result.checks, &why);
  result.verdict = met ? Verdict::kMet : Verdict::kNotMet;
  result.message =
      met ? (scenario.expect.pass ? "every check passed" : "the expected checks failed") : why;
  return result;
}

namespace {

// For the report: the attempts of the first offending keys of each failed
// check, so a reader sees what the client saw without opening the history.
void AttemptsOfOffendingKeys(uint64_t seed, const History& history, ScenarioResult* result) {
  std::map<std::string, std::vector<const Attempt*>> wanted;
  for (const CheckResult& c : result->checks) {
    if (c.status != CheckStatus::kFail) continue;
    for (size_t i = 0; i < c.offending.size() && i < 20; ++i) {
      std::string key = KeyOf(c.offending[i]);
      if (!key.empty()) wanted[key];
    }
  }
  if (wanted.empty()) return;
  for (const auto& client : history.all_attempts())
    for (const Attempt& a : client) {
      auto it = wanted.find(History::KeyFor(seed, a.seq));
      if (it != wanted.end()) it->second.push_back(&a);
    }
  for (auto& [key, attempts] : wanted) {
    std::sort(attempts.begin(), attempts.end(),
              [](const Attempt* a, const Attempt* b) { return a->attempt < b->attempt; });
    for (const Attempt* a : attempts) {
      char line[256];
      std::snprintf(
          line, sizeof line, "attempt %d on connection %lld at %.6fs: %s, %s after %.1f ms%s%s%s",
          a->attempt, static_cast<long long>(a->connection),
          static_cast<double>(a->send_start) / 1e9,
          a->status ? ("HTTP " + std::to_string(a->status)).c_str() : NetErrorName(a->error),
          OutcomeName(a->outcome), static_cast<double>(a->done - a->send_start) / 1e6,
          a->cause == Cause::kNone ? "" : " (", a->cause == Cause::kNone ? "" : CauseName(a->cause),
          a->cause == Cause::kNone ? "" : ")");
      result->attempts_of[key].push_back(line);
    }
  }
}

}  // namespace

void WriteReports(const Scenario& scenario, const RunRecord& record, const ReportSources& sources,
                  ScenarioResult* result) {
  const std::string& report_dir = record.report_dir;
  CountRequests(record.history, result);
  AttemptsOfOffendingKeys(scenario.seed, record.history, result);
  std::string error;
  bool ok = WriteFileAtomically(
      report_dir + "/history.jsonl",
      [&](std::ostream& out) { record.history.WriteJsonl(out, scenario.seed); }, &error);
  if (sources.finish_target_log) {
    bool written = sources.finish_target_log();
    // A short write (a full disk) must not replace the previous target.log,
    // nor may a complete one stand beside a previous, unrelated history.
    const std::string partial = report_dir + "/target.log.partial";
    if (ok && written) {
      std::rename(partial.c_str(), (report_dir + "/target.log").c_str());
    } else {
      if (ok) error = "cannot write " + report_dir + "/target.log: " + std::strerror(errno);
      ok = false;
      unlink(partial.c_str());
    }
  }
  if (!sources.server_log.empty())
    ok = ok && WriteFileAtomically(report_dir + "/postgres.log",
                                   ReadFileOrEmpty(sources.server_log, sources.server_log_offset),
                                   &error);
  ok = ok && CapOffending(report_dir, &result->checks, &error);
  ok =
      ok && WriteFileAtomically(report_dir + "/result.json", ResultJson(*result, scenario), &error);
  ok =
      ok && WriteRenderedReports(SavedReport::Of(*result, scenario.expect, record.history), &error);
  if (!ok && result->verdict == Verdict::kMet) {
    result->verdict = Verdict::kInfrastructure;
    result->message = error;
  }
}

}  // namespace lastcall
