// A run case: one scenario run, from its database to the audit's queries,
// returning its record (run_record.h) for the verdict and the reports
// (judge.h). It holds what it acquires: the workspace (workspace.h), the
// database (case_database.h), the target fleet (target_fleet.h), and the
// load phase (load_phase.h): the load with the nemesis and the watches. Its
// destructor lets go of the load phase first, then Redis, the work folder,
// the fleet, and the database last. Internal to the run layer.
#ifndef LASTCALL_RUN_CASE_H_
#define LASTCALL_RUN_CASE_H_

#include <memory>
#include <string>

#include "client/job_queue.h"
#include "history/history.h"
#include "process/redis.h"
#include "run/case_database.h"
#include "run/judge.h"
#include "run/load_phase.h"
#include "run/progress.h"
#include "run/run_record.h"
#include "run/session.h"
#include "run/target.h"
#include "run/target_fleet.h"
#include "run/workspace.h"
#include "scenario/scenario.h"
#include "scenario/substitution.h"

namespace lastcall {

class RunCase {
 public:
  // The case of `scenario` (with the session's --seed, if given), its
  // reports in the session's reports folder under `report_name`; its
  // progress published in *status (may be null).
  RunCase(const Scenario& scenario, Session* session, const std::string& report_name,
          RunStatus* status);
  ~RunCase();

  // Runs the case, from its database to the audit's queries, and returns
  // its record. The record's history is shared with the case's parts: the
  // record lives as long as the case. Never throws.
  RunRecord& Run();
  // The scenario as run: the seed given, the random triggers drawn, the
  // rolling restart's faults added.
  const Scenario& scenario() const { return scenario_; }
  // What the reports need of the run besides its record.
  ReportSources report_sources();

 private:
  // Run()'s phases, from the database to the audit.
  void RunPhases();
  bool Prepare();
  // Redis, embedded or redis.url, and the job generator with fresh lists.
  bool PrepareRedis();
  // ${port}, ${database_url}, ${run_dir}, ${seed}.
  TemplateVariables RunVariables() const;
  bool Expand(const std::string& text, std::string* out);
  bool behind_load_balancer() const { return scenario_.load_balancer.enabled; }
  // The rolling restart's signals are faults of the scenario, one per slot
  // after the scenario's own, so that every check judges them as any other.
  void AddRollingRestartFaults();
  // Behind the load balancer: N more free ports, one per slot.
  bool ChooseSlotPorts(std::string* error);
  // The load phase (load_phase.h), made and driven once the target is ready.
  void Drive();
  // The target fleet, made once the launch is known.
  bool MakeFleet();
  // The audit's queries (run_audit.h) and what the checks read besides,
  // into the record; record_.audited once every query answered.
  void Audit();
  // Takes the connection Prepare() began to open. Returns false (and fails
  // the run) if it could not be made.
  bool AwaitAuditConnection() {
    RunFailure failure;
    return database_.AwaitConnection(&failure) || Fail(failure);
  }
  // Makes the run's database (Prepare()).
  bool PrepareDatabase();
  bool Fail(const RunFailure& failure) { return Fail(failure.verdict, failure.message); }
  bool Fail(Verdict verdict, const std::string& message) {
    record_.failure = {verdict, message};
    return false;
  }
  bool interrupted() { return session_->interrupt()->Check() > 0; }
  // If the harness has been interrupted, fails the run so, naming `phase`,
  // and returns true.
  bool FailIfInterrupted(const std::string& phase) {
    if (!interrupted()) return false;
    Fail(
        Verdict::kInterrupted,
        "interrupted by " + SignalName(session_->interrupt()->first_signal()) + " during " + phase);
    return true;
  }

  Scenario scenario_;
  Session* session_;
  std::string report_name_;
  RunStatus unwatched_;  // when nobody watches
  RunStatus* status_;
  RunRecord record_;
  History& history_;  // the record's
  std::string run_id_, app_name_;
  CaseDatabase database_;
  // When the scenario uses Redis; released before the database, and the
  // generator (which talks to it) before the server.
  std::unique_ptr<EmbeddedRedis> redis_;
  std::string redis_url_;
  std::unique_ptr<JobGenerator> jobs_;
  size_t server_log_offset_ = 0;
  TargetLaunch launch_;
  // Behind the load balancer: each slot's port.
  std::vector<int> slot_ports_;
  size_t first_rollout_fault_ = 0;  // index of slot 0's fault in faults
  std::unique_ptr<TargetFleet> fleet_;
  int ws_port_ = 0;  // ${ws_port}
  // Let go of first (the destructor): its nemesis and watches call the
  // fleet, the database and the job generator.
  std::unique_ptr<LoadPhase> load_phase_;
  // Declared last, so it goes first: once the destructor has stopped what
  // runs in its work folder (Redis), before the target's instances and the
  // database go.
  RunWorkspace workspace_;
};

}  // namespace lastcall

#endif  // LASTCALL_RUN_CASE_H_
