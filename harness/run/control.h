// The control run (docs/control-run.md). A scenario's verdict says "this is
// a shutdown bug"; that holds only if the target passes the same checks with
// no fault at all. With `control: true` (or `lastcall run --control`) the
// scenario is first run with its faults removed; a check it fails there
// makes the verdict "invalid: fails without a fault", and the real run is
// not run, since its failures could not be told from that plain bug.
#ifndef LASTCALL_CONTROL_H_
#define LASTCALL_CONTROL_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/interrupt.h"
#include "process/database.h"
#include "report/report.h"
#include "scenario/scenario.h"

namespace lastcall {

// The checks a control run judges, in report order: what became of the
// payments while the target served, which holds or fails with or without a
// fault. The other checks judge a shutdown (its drain, its exit, what it
// left behind); a control run's only shutdown is lastcall's own teardown,
// which no check may judge, so they are not run there.
const std::vector<std::string>& ChecksWithoutFault();

// The control run of `scenario`: the same scenario with its faults and its
// rolling restart removed, named "NAME (control)", running the checks of
// ChecksWithoutFault() that the scenario judges, each of which must pass,
// in a bug-reproduction scenario too (its bug must be a shutdown bug). Its
// teardown waits for the target to be at rest: a payment acknowledged before
// its commit is still being committed, and a teardown that cut it short
// would be a shutdown the control judged.
// nullopt when the scenario judges none of them (`audit.checks: [exit]`,
// `expect: {pass: [drained]}`): the control would have nothing to judge.
std::optional<Scenario> ControlScenario(const Scenario& scenario);

// The result of a scenario whose control run did not pass, so that its real
// run was not run: verdict "invalid" when the control failed a check, else
// the control's own (bad input, infrastructure failure, interrupted), its
// message prefixed "control run: ". `report_dir` is the scenario's own
// reports folder.
ScenarioResult NotRunResult(const Scenario& scenario, const ScenarioResult& control,
                            const std::string& report_dir);

// Waits until no session of the target (every session on the database at
// `url` but lastcall's own, `own`, which the connection this opens joins)
// is inside a transaction, at most `limit`, or until `interrupt` has caught
// a signal. Returns what it saw, for the history: "at rest after 52 ms", "2
// transactions still open after 10000 ms", or why it could not look.
std::string AwaitTargetAtRest(const std::string& url, OwnSessions* own, Duration limit,
                              Interrupt* interrupt);

// One scenario run into the reports folder `report_name` (RunAndReport(),
// with whatever the caller shows around it).
using RunFunction =
    std::function<ScenarioResult(const Scenario& scenario, const std::string& report_name)>;

// Runs `scenario` with `run` into `report_name`, and when scenario.control,
// its control run first into `report_name`/control. Returns the real run's
// result, the control's outcome in it and in its result.json, junit.xml and
// summary.md; or, when the control did not pass, NotRunResult(), its
// reports written into `reports_dir`/`report_name` (result.json, an empty
// history.jsonl, junit.xml, summary.md, index.html). Never throws: every
// failure is a verdict.
ScenarioResult RunWithControl(const Scenario& scenario, const std::string& reports_dir,
                              const std::string& report_name, const RunFunction& run);

}  // namespace lastcall

#endif  // LASTCALL_CONTROL_H_
