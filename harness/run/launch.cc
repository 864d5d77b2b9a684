#include "run/launch.h"

#include <map>
#include <optional>

#include "process/database.h"

extern char** environ;

namespace lastcall {

bool ExpandTemplate(const Scenario& scenario, const std::string& text,
                    const TemplateVariables& variables, std::string* out, RunFailure* failure) {
  std::string error;
  std::optional<Template> t = Template::Compile(text, variables, &error);
  if (!t) {
    *failure = {Verdict::kBadInput, scenario.file + ": " + error};
    return false;
  }
  out->clear();
  t->Render({}, out);
  return true;
}

bool RunLaunch(const Scenario& scenario, const TemplateVariables& variables, const RunIdentity& run,
               TargetLaunch* out, RunFailure* failure) {
  out->port = run.port;
  out->cwd = scenario.target.cwd;
  out->container = scenario.target.container;
  out->ready = scenario.target.ready;
  for (const std::string& arg : scenario.target.command) {
    out->argv.emplace_back();
    if (!ExpandTemplate(scenario, arg, variables, &out->argv.back(), failure)) return false;
  }
  // The harness's environment, then what the target needs to know, then
  // the scenario's own variables, which may override any of it.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    size_t eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  env["PORT"] = std::to_string(run.port);
  // DATABASE_URL and the PG* variables are each instance's (InstanceLaunch()).
  env["DATABASE_URL"] = run.database_url;
  for (const auto& [name, value] : LibpqEnvironment(run.database_url)) env[name] = value;
  env["PGAPPNAME"] = run.app_name + "1";   // each instance's (TargetFleet)
  env["TMPDIR"] = run.run_dir + "/tmp/1";  // each instance's (TargetFleet)
  env["LASTCALL_RUN_ID"] = run.run_id;
  for (const auto& [name, value] : scenario.target.env)
    if (!ExpandTemplate(scenario, value, variables, &env[name], failure)) return false;
  for (const auto& [name, value] : env) out->env.push_back(name + "=" + value);
  return true;
}

bool InstanceLaunch(const Scenario& scenario, TemplateVariables variables,
                    const TargetLaunch& run_launch, int port, const std::string& database_url,
                    TargetLaunch* out, RunFailure* failure) {
  *out = run_launch;
  out->port = port;
  variables.constants["port"] = std::to_string(port);
  variables.constants["database_url"] = database_url;
  std::map<std::string, std::string> own = {{"PORT", std::to_string(port)},
                                            {"DATABASE_URL", database_url}};
  for (const auto& [name, value] : LibpqEnvironment(database_url)) own[name] = value;
  for (size_t i = 0; i < scenario.target.command.size(); ++i)
    if (!ExpandTemplate(scenario, scenario.target.command[i], variables, &out->argv[i], failure))
      return false;
  for (std::string& entry : out->env) {
    std::string name = entry.substr(0, entry.find('='));
    auto templated = scenario.target.env.find(name);
    auto instance_value = own.find(name);
    std::string value;
    if (templated != scenario.target.env.end()) {
      if (!ExpandTemplate(scenario, templated->second, variables, &value, failure)) return false;
    } else if (instance_value != own.end()) {
      value = instance_value->second;
    } else {
      continue;
    }
    entry = name + "=" + value;
  }
  return true;
}

}  // namespace lastcall
