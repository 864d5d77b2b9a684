#include "run/run_case.h"

namespace lastcall {

// The rows of each invariant kept for the reports; the others are counted.
constexpr size_t kRowsListedPerInvariant = 1000;

void RunCase::QueryAudit() {
  std::string error;
  AuditInputs& in = record_.audit;  // the leftovers are in already
  record_.faults = nemesis_->records();
  if (rollout_ && rollout_->started()) {
    in.deploy_start = history_.Since(*rollout_->started());
    if (rollout_->finished()) {
      in.deploy_end = history_.Since(*rollout_->finished());
      record_.timings.rolling_restart =
          SecondsBetween(*rollout_->started(), *rollout_->finished());
    }
  }
  record_.instances = fleet_->Records();
  AppliedFold applied(scenario_.seed, history_.KeyOutcomes().size(), &in.applied, &in.unkept);
  AuditConnection* audit = database_.connection();
  // A query that runs long gives way to Ctrl-C, and is then no error of it.
  audit->CancelOnInterrupt(session_->interrupt());
  if (!audit->QueryApplied(
          scenario_.audit.applied_sql,
          [&](const std::string& key, int64_t times) { applied.Add(key, times); }, &error)) {
    FailAuditQuery(scenario_.audit.applied_location.ToString() + ": " + error);
    return;
  }
  // A query that fails is bad input, whatever the expectation: not a
  // violation, which `expect: {fail: [invariants]}` would take for a pass.
  for (const Invariant& invariant : scenario_.audit.invariants) {
    in.invariants.emplace_back();
    if (!audit->QueryInvariant(invariant, kRowsListedPerInvariant, &in.invariants.back(),
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
        RunSessions{database_.name(), database_.role_prefix(),
                    database_.own_sessions()->sessions(),
                    static_cast<int64_t>(WallClockSeconds(history_.epoch()) * 1e9)});
  in.roles_error = database_.roles_error();
  if (kernel_) record_.kernel_view = kernel_->KeepSockets();
  record_.audited = true;
}

bool RunCase::AuditJobs(AuditInputs* in) {
  std::string error;
  JobsAudit jobs;
  jobs.processing_list = scenario_.jobs.processing;
  for (int64_t n = 0; n < jobs_->enqueued(); ++n) jobs.enqueued.push_back(JobId(scenario_.seed, n));
  if (!database_.connection()->QueryApplied(
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

}  // namespace lastcall
