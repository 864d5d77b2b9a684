// What the target left behind, looked at as systemd would: after its main
// process is gone, wait (for the rest of the grace period, at least 2 s)
// until no process carrying the run's id is left; what is left then is an
// orphan. Sessions still open then (an orphan's included) are leaks. Then
// the orphans are killed, and the private TMPDIR is listed.
#ifndef LASTCALL_LEFTOVERS_H_
#define LASTCALL_LEFTOVERS_H_

#include <string>
#include <vector>

#include "base/interrupt.h"
#include "check/checks.h"
#include "history/history.h"
#include "run/audit.h"
#include "run/nemesis.h"
#include "run/target_fleet.h"
#include "scenario/scenario.h"

namespace lastcall {

// Where the leftovers are looked for; all pointers but `audit` non-null.
struct LeftoverScan {
  const Scenario* scenario = nullptr;
  std::vector<FaultRecord> fault_records;  // empty if the nemesis never ran
  History* history = nullptr;
  std::string run_id;                // in LASTCALL_RUN_ID of every process the run started
  Interrupt* interrupt = nullptr;    // an interrupt cuts the waits short
  AuditConnection* audit = nullptr;  // null: the sessions are not looked at
  TargetFleet* fleet = nullptr;
};

// Sets leftovers->orphans, leaked_sessions and temp_files, each left unset
// when it could not be looked at.
void CollectLeftovers(const LeftoverScan& scan, AuditInputs* leftovers);

}  // namespace lastcall

#endif  // LASTCALL_LEFTOVERS_H_
