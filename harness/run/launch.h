// The target's launch: its command and environment with the scenario's
// templates expanded, first the run's (what every instance shares), then
// each instance's (its port, its database login).
#ifndef LASTCALL_LAUNCH_H_
#define LASTCALL_LAUNCH_H_

#include <string>

#include "run/run_record.h"
#include "run/target.h"
#include "scenario/scenario.h"
#include "scenario/substitution.h"

namespace lastcall {

// Renders the template `text` of `scenario` with `variables` into *out.
// Returns false and sets *failure (bad input) when it is not a template.
bool ExpandTemplate(const Scenario& scenario, const std::string& text,
                    const TemplateVariables& variables, std::string* out, RunFailure* failure);

// What the run tells the target besides the scenario's variables.
struct RunIdentity {
  int port = 0;              // PORT: the clients' (HAProxy's behind the load balancer)
  std::string database_url;  // DATABASE_URL and the PG* variables: lastcall's own login
  std::string app_name;      // instance N's PGAPPNAME is app_name + N
  std::string run_dir;       // instance N's TMPDIR is run_dir/tmp/N
  std::string run_id;        // LASTCALL_RUN_ID
};

// The run's launch: the scenario's command, the harness's environment, then
// what the target needs to know, then the scenario's own variables, which
// may override any of it. Returns false and sets *failure when a template
// cannot be expanded.
bool RunLaunch(const Scenario& scenario, const TemplateVariables& variables, const RunIdentity& run,
               TargetLaunch* out, RunFailure* failure);

// One instance's launch from the run's: on `port`, logging in with
// `database_url` (in ${port} and PORT, ${database_url}, DATABASE_URL and the
// PG* variables), unless the scenario's own variables say otherwise.
bool InstanceLaunch(const Scenario& scenario, TemplateVariables variables,
                    const TargetLaunch& run_launch, int port, const std::string& database_url,
                    TargetLaunch* out, RunFailure* failure);

}  // namespace lastcall

#endif  // LASTCALL_LAUNCH_H_
