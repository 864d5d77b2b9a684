#include "run/run_case.h"

namespace lastcall {

// The rows of each invariant kept for the reports; the others are counted.
constexpr size_t kRowsListedPerInvariant = 1000;

void RunCase::Audit() {
  std::string error;
  AuditInputs in = leftovers_;
  in.scenario = &scenario_;
  in.history = &history_;
  in.faults = nemesis_->records();
  if (rollout_ && rollout_->started()) {
    in.deploy_start = history_.Since(*rollout_->started());
    if (rollout_->finished()) {
      in.deploy_end = history_.Since(*rollout_->finished());
      result_.rolling_restart = SecondsBetween(*rollout_->started(), *rollout_->finished());
    }
  }
  result_.instances = fleet_->Records();
  in.instances = result_.instances;
  AppliedFold applied(scenario_.seed, history_.KeyOutcomes().size(), &in.applied, &in.unkept);
  // A query that runs long gives way to Ctrl-C, and is then no error of it.
  audit_->CancelOnInterrupt(session_->interrupt());
  if (!audit_->QueryApplied(
          scenario_.audit.applied_sql,
          [&](const std::string& key, int64_t times) { applied.Add(key, times); }, &error)) {
    FailAuditQuery(scenario_.audit.applied_location.ToString() + ": " + error);
    return;
  }
  // A query that fails is bad input, whatever the expectation: not a
  // violation, which `expect: {fail: [invariants]}` would take for a pass.
  for (const Invariant& invariant : scenario_.audit.invariants) {
    in.invariants.emplace_back();
    if (!audit_->QueryInvariant(invariant, kRowsListedPerInvariant, &in.invariants.back(),
                                &error)) {
      FailAuditQuery(invariant.location.ToString() + ": audit.invariants \"" +
                     invariant.name + "\" failed: " + error);
      return;
    }
  }
  if (FailIfInterrupted("the audit") || (jobs_ && !AuditJobs(&in))) return;
  if (!session_->ServerLog().empty())
    in.unclean_disconnects = FindUncleanDisconnects(
        ReadFileOrEmpty(session_->ServerLog(), server_log_offset_),
        RunSessions{db_name_, role_prefix_, own_sessions_.sessions(),
                    static_cast<int64_t>(WallClockSeconds(history_.epoch()) * 1e9)});
  in.roles_error = roles_error_;
  result_.faults = in.faults;
  ClassifyCauses(&in);
  result_.checks = RunChecks(in);
  std::string why;
  bool met = ExpectationMet(scenario_.expect, result_.checks, &why);
  result_.verdict = met ? Verdict::kMet : Verdict::kNotMet;
  result_.message = met ? (scenario_.expect.pass ? "every check passed"
                                                 : "the expected checks failed")
                        : why;
}

void RunCase::ClassifyCauses(AuditInputs* in) {
  in->kernel_view_missing = kernel_view_missing_;
  result_.kernel_view_missing = kernel_view_missing_;
  if (sockets_) {
    kernel_.sockets = sockets_->Sockets();
    result_.kernel_view = sockets_->stats();
  }
  ClassifyAttempts(sockets_ ? &kernel_ : nullptr, DrainWindowsOf(*in), &history_);
}

bool RunCase::AuditJobs(AuditInputs* in) {
  std::string error;
  JobsAudit jobs;
  jobs.processing_list = scenario_.jobs.processing;
  for (int64_t n = 0; n < jobs_->enqueued(); ++n) jobs.enqueued.push_back(JobId(scenario_.seed, n));
  if (!audit_->QueryApplied(
          scenario_.audit.jobs_sql,
          [&](const std::string& id, int64_t times) { jobs.done[id] += times; }, &error,
          "audit.jobs")) {
    FailAuditQuery(scenario_.audit.jobs_location.ToString() + ": " + error);
    return false;
  }
  JobLists lists;
  if (!jobs_->ReadLists(&lists, &error))
    return Fail(Verdict::kInfrastructure, "cannot read the job lists: " + error);
  jobs.queue = std::move(lists.queue);
  jobs.processing = std::move(lists.processing);
  in->jobs = std::move(jobs);
  return true;
}

// For the report: the attempts of the first offending keys of each failed
// check, so a reader sees what the client saw without opening the history.
void RunCase::AttemptsOfOffendingKeys() {
  std::map<std::string, std::vector<const Attempt*>> wanted;
  for (const CheckResult& c : result_.checks) {
    if (c.status != CheckStatus::kFail) continue;
    for (size_t i = 0; i < c.offending.size() && i < 20; ++i) {
      std::string key = KeyOf(c.offending[i]);
      if (!key.empty()) wanted[key];
    }
  }
  if (wanted.empty()) return;
  for (const auto& client : history_.all_attempts())
    for (const Attempt& a : client) {
      auto it = wanted.find(History::KeyFor(scenario_.seed, a.seq));
      if (it != wanted.end()) it->second.push_back(&a);
    }
  for (auto& [key, attempts] : wanted) {
    std::sort(attempts.begin(), attempts.end(),
              [](const Attempt* a, const Attempt* b) { return a->attempt < b->attempt; });
    for (const Attempt* a : attempts) {
      char line[256];
      std::snprintf(line, sizeof line, "attempt %d on connection %lld at %.6fs: %s, %s after %.1f ms%s%s%s",
                    a->attempt, static_cast<long long>(a->connection),
                    static_cast<double>(a->send_start) / 1e9,
                    a->status ? ("HTTP " + std::to_string(a->status)).c_str()
                              : NetErrorName(a->error),
                    OutcomeName(a->outcome),
                    static_cast<double>(a->done - a->send_start) / 1e6,
                    a->cause == Cause::kNone ? "" : " (", a->cause == Cause::kNone ? "" : CauseName(a->cause),
                    a->cause == Cause::kNone ? "" : ")");
      result_.attempts_of[key].push_back(line);
    }
  }
}

void RunCase::WriteReports() {
  CountRequests(history_, &result_);
  AttemptsOfOffendingKeys();
  std::string error;
  bool ok = WriteFileAtomically(
      report_dir_ + "/history.jsonl",
      [&](std::ostream& out) { history_.WriteJsonl(out, scenario_.seed); }, &error);
  if (fleet_ && fleet_->log_open()) {
    bool written = fleet_->CloseLog();
    // A short write (a full disk) must not replace the previous target.log,
    // nor may a complete one stand beside a previous, unrelated history.
    const std::string partial = report_dir_ + "/target.log.partial";
    if (ok && written) {
      std::rename(partial.c_str(), (report_dir_ + "/target.log").c_str());
    } else {
      if (ok) error = "cannot write " + report_dir_ + "/target.log: " + std::strerror(errno);
      ok = false;
      unlink(partial.c_str());
    }
  }
  if (!session_->ServerLog().empty())
    ok = ok && WriteFileAtomically(report_dir_ + "/postgres.log",
                                   ReadFileOrEmpty(session_->ServerLog(), server_log_offset_),
                                   &error);
  ok = ok && CapOffending(report_dir_, &result_.checks, &error);
  ok = ok && WriteFileAtomically(report_dir_ + "/result.json",
                                 ResultJson(result_, scenario_), &error);
  ok = ok && WriteRenderedReports(SavedRun::Of(result_, scenario_.expect, history_), &error);
  if (!ok && result_.verdict == Verdict::kMet) Fail(Verdict::kInfrastructure, error);
}

}  // namespace lastcall
