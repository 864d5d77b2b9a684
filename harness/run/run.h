// Running scenarios: one scenario run from database to verdict, in the
// session (session.h) every run of one `lastcall run` shares.
#ifndef LASTCALL_RUN_H_
#define LASTCALL_RUN_H_

#include <string>

#include "report/report.h"
#include "run/progress.h"
#include "run/session.h"
#include "scenario/scenario.h"

namespace lastcall {

// Runs one scenario end to end and writes its reports under
// options.reports_dir/`report_name`/. Never throws; every failure is a
// verdict in the result. Publishes its progress in *status (may be null;
// owned by the caller).
ScenarioResult RunAndReport(const Scenario& scenario, Session* session,
                            const std::string& report_name, RunStatus* status = nullptr);

}  // namespace lastcall

#endif  // LASTCALL_RUN_H_
