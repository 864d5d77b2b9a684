#include "scenario/sections.h"

#include <string>
#include <vector>

namespace lastcall::scenario_file {

const Keys kAuditKeys = {{"applied", "invariants", "checks", "jobs"}, {}};
const Keys kInvariantKeys = {{"name", "sql"}, {}};
const Keys kExpectKeys = {{"fail", "pass"}, {}};

namespace {

bool AsCheckNames(YamlReader* yaml, const Value& value,
                  std::vector<std::string>* out) {
  std::vector<Value> items;
  if (!yaml->AsList(value, &items))
    return false;
  if (value.present && items.empty())
    return yaml->Fail(value, value.path + " must name at least one check");
  for (const Value& item : items) {
    std::string name;
    if (!yaml->AsString(item, &name))
      return false;
    if (!Contains(KnownChecks(), name)) {
      std::string hint = DidYouMean(name, KnownChecks());
      if (hint.empty()) {  // nothing close: name them all
        hint = "; the checks are";
        for (const std::string& check : KnownChecks())
          hint += (check == KnownChecks().front() ? " " : ", ") + check;
      }
      return yaml->Fail(item,
                        "unknown check '" + name + "' in " + value.path + hint);
    }
    out->push_back(name);
  }
  return true;
}

}  // namespace

bool ParseAudit(YamlReader* yaml, const Value& value, const JobsSpec& jobs,
                AuditSpec* out) {
  Section section;
  if (!yaml->AsSection(value, kAuditKeys, &section) ||
      !yaml->Require(section, "applied") ||
      !yaml->AsString(section.Get("applied"), &out->applied_sql) ||
      !yaml->AsString(section.Get("jobs"), &out->jobs_sql))
    return false;
  if (jobs.enabled && out->jobs_sql.empty())
    return yaml->Fail(section.self.key,
                      "audit.jobs is required when the scenario "
                      "has jobs: a query of (job id, times it took "
                      "effect)");
  if (!jobs.enabled && section.Get("jobs").present)
    return yaml->Fail(section.Get("jobs").key,
                      "audit.jobs needs a jobs section "
                      "that enqueues them");
  out->applied_location = yaml->Location(section.Get("applied").node);
  out->jobs_location = yaml->Location(section.Get("jobs").node);

  std::vector<Value> invariants;
  if (!yaml->AsList(section.Get("invariants"), &invariants))
    return false;
  for (const Value& item : invariants) {
    Section invariant;
    Invariant parsed;
    if (!yaml->AsSection(item, kInvariantKeys, &invariant) ||
        !yaml->Require(invariant, "name") || !yaml->Require(invariant, "sql") ||
        !yaml->AsString(invariant.Get("name"), &parsed.name) ||
        !yaml->AsString(invariant.Get("sql"), &parsed.sql))
      return false;
    parsed.location = yaml->Location(invariant.Get("sql").node);
    out->invariants.push_back(parsed);
  }

  Value checks = section.Get("checks");
  if (checks.present && checks.node.IsScalar() &&
      checks.node.Scalar() == "default")
    return true;
  if (checks.present && !checks.node.IsSequence())
    return yaml->Fail(checks,
                      "audit.checks must be default or a list of checks, "
                      "got " +
                          Describe(checks.node));
  return AsCheckNames(yaml, checks, &out->checks);
}

bool ParseExpect(YamlReader* yaml, const Value& value, Expectation* out) {
  if (!value.present)
    return true;
  if (value.node.IsScalar() && value.node.Scalar() == "pass") {
    out->pass = true;
    return true;
  }
  if (!value.node.IsMap())
    return yaml->Fail(value,
                      "expect must be pass, {fail: [checks]} or "
                      "{pass: [checks]}, got " +
                          Describe(value.node));
  Section section;
  if (!yaml->AsSection(value, kExpectKeys, &section))
    return false;
  Value fail = section.Get("fail");
  Value pass = section.Get("pass");
  if (fail.present == pass.present)
    return yaml->Fail(value, "expect takes one of fail and pass");
  out->pass = pass.present;
  return AsCheckNames(yaml, fail, &out->fail_checks) &&
         AsCheckNames(yaml, pass, &out->pass_checks);
}

// An expectation on a check that audit.checks leaves out could never be met.
bool CheckExpectRuns(YamlReader* yaml, const Value& expect,
                     const Scenario& scenario) {
  const std::vector<std::string>& runs = scenario.audit.checks;
  if (runs.empty()) return true;  // default: every check runs
  const Expectation& e = scenario.expect;
  for (const std::string& name : e.pass ? e.pass_checks : e.fail_checks)
    if (!Contains(runs, name))
      return yaml->Fail(
          expect, std::string(e.pass ? "expect.pass" : "expect.fail") +
                      " names '" + name + "', which audit.checks does not run");
  return true;
}

}  // namespace lastcall::scenario_file
