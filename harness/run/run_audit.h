// The audit's queries, made once the target is gone and before the run's
// database is dropped: audit.applied, the invariants, audit.jobs with the
// Redis lists, and the server's log of the target's sessions. What they
// answer goes to the checks (AuditInputs).
#ifndef LASTCALL_RUN_AUDIT_H_
#define LASTCALL_RUN_AUDIT_H_

#include <cstddef>
#include <string>

#include "base/interrupt.h"
#include "check/checks.h"
#include "client/job_queue.h"
#include "history/history.h"
#include "run/audit.h"
#include "run/case_database.h"
#include "run/run_record.h"
#include "scenario/scenario.h"

namespace lastcall {

// What the queries are made on; all pointers but `jobs` non-null.
struct AuditSources {
  const Scenario* scenario = nullptr;
  const History* history = nullptr;
  CaseDatabase* database = nullptr;  // its connection taken
  Interrupt* interrupt = nullptr;    // cancels a query that runs long
  JobGenerator* jobs = nullptr;      // null without jobs
  // The server's log and where the run's part of it begins; "" for an
  // external server.
  std::string server_log;
  size_t server_log_offset = 0;
};

// Makes the queries into *in. Returns false and sets *failure when one
// failed: bad input (the scenario's SQL), lastcall's own (the job lists),
// or the harness interrupted.
bool QueryAudit(const AuditSources& sources, AuditInputs* in, RunFailure* failure);

}  // namespace lastcall

#endif  // LASTCALL_RUN_AUDIT_H_
