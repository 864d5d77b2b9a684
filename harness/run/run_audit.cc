#include "run/run_audit.h"

#include "base/file.h"
#include "process/server_log.h"

namespace lastcall {

namespace {

// The rows of each invariant kept for the reports; the others are counted.
constexpr size_t kRowsListedPerInvariant = 1000;

// The audit's failures, as the run's: a query the harness's interrupt
// cancelled is an interrupted run, else the failure given.
class AuditFailure {
 public:
  AuditFailure(Interrupt* interrupt, RunFailure* failure)
      : interrupt_(interrupt), failure_(failure) {}
  // If the harness has been interrupted, fails so and returns true.
  bool IfInterrupted() {
    if (interrupt_->Check() == 0) return false;
    *failure_ = {Verdict::kInterrupted,
                 "interrupted by " + SignalName(interrupt_->first_signal()) + " during the audit"};
    return true;
  }
  // A query that failed: cancelled by an interrupt, else bad input, as
  // `message` says.
  bool Query(const std::string& message) {
    if (!IfInterrupted()) *failure_ = {Verdict::kBadInput, message};
    return false;
  }
  bool Fail(Verdict verdict, const std::string& message) {
    *failure_ = {verdict, message};
    return false;
  }

 private:
  Interrupt* interrupt_;
  RunFailure* failure_;
};

// audit.jobs and the Redis lists, into in->jobs.
bool AuditJobs(const Scenario& scenario, AuditConnection* audit, JobGenerator* generator,
               AuditFailure* fail, AuditInputs* in) {
  std::string error;
  JobsAudit jobs;
  jobs.processing_list = scenario.jobs.processing;
  for (int64_t n = 0; n < generator->enqueued(); ++n)
    jobs.enqueued.push_back(JobId(scenario.seed, n));
  if (!audit->QueryApplied(
          scenario.audit.jobs_sql,
          [&](const std::string& id, int64_t times) { jobs.done[id] += times; }, &error,
          "audit.jobs"))
    return fail->Query(scenario.audit.jobs_location.ToString() + ": " + error);
  JobLists lists;
  if (!generator->ReadLists(&lists, &error))
    return fail->Fail(Verdict::kInfrastructure, "cannot read the job lists: " + error);
  jobs.queue = std::move(lists.queue);
  jobs.processing = std::move(lists.processing);
  in->jobs = std::move(jobs);
  return true;
}

}  // namespace

bool QueryAudit(const AuditSources& sources, AuditInputs* in, RunFailure* failure) {
  const Scenario& scenario = *sources.scenario;
  AuditFailure fail(sources.interrupt, failure);
  std::string error;
  AppliedFold applied(scenario.seed, sources.history->KeyOutcomes().size(), &in->applied,
                      &in->unkept);
  AuditConnection* audit = sources.database->connection();
  // A query that runs long gives way to Ctrl-C, and is then no error of it.
  audit->CancelOnInterrupt(sources.interrupt);
  if (!audit->QueryApplied(
          scenario.audit.applied_sql,
          [&](const std::string& key, int64_t times) { applied.Add(key, times); }, &error))
    return fail.Query(scenario.audit.applied_location.ToString() + ": " + error);
  // A query that fails is bad input, whatever the expectation: not a
  // violation, which `expect: {fail: [invariants]}` would take for a pass.
  for (const Invariant& invariant : scenario.audit.invariants) {
    in->invariants.emplace_back();
    if (!audit->QueryInvariant(invariant, kRowsListedPerInvariant, &in->invariants.back(), &error))
      return fail.Query(invariant.location.ToString() + ": audit.invariants \"" + invariant.name +
                        "\" failed: " + error);
  }
  if (fail.IfInterrupted()) return false;
  if (sources.jobs && !AuditJobs(scenario, audit, sources.jobs, &fail, in)) return false;
  CaseDatabase& database = *sources.database;
  if (!sources.server_log.empty())
    in->unclean_disconnects = FindUncleanDisconnects(
        ReadFileOrEmpty(sources.server_log, sources.server_log_offset),
        RunSessions{database.name(), database.role_prefix(), database.own_sessions()->sessions(),
                    static_cast<int64_t>(WallClockSeconds(sources.history->epoch()) * 1e9)});
  in->roles_error = database.roles_error();
  return true;
}

}  // namespace lastcall
