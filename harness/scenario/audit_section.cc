#include "scenario/sections.h"

namespace lastcall {

const Keys kAuditKeys = {{"applied", "invariants", "checks", "jobs"}, {}};
const Keys kInvariantKeys = {{"name", "sql"}, {}};
const Keys kExpectKeys = {{"fail", "pass"}, {}};
bool Parser::AsCheckNames(const Value& value, std::vector<std::string>* out) {
  std::vector<Value> items;
  if (!AsList(value, &items))
    return false;
  if (value.present && items.empty())
    return Fail(value, value.path + " must name at least one check");
  for (const Value& item : items) {
    std::string name;
    if (!AsString(item, &name))
      return false;
    if (!Contains(KnownChecks(), name)) {
      std::string hint = DidYouMean(name, KnownChecks());
      if (hint.empty()) {  // nothing close: name them all
        hint = "; the checks are";
        for (const std::string& check : KnownChecks())
          hint += (check == KnownChecks().front() ? " " : ", ") + check;
      }
      return Fail(item, "unknown check '" + name + "' in " + value.path + hint);
    }
    out->push_back(name);
  }
  return true;
}

bool Parser::ParseAudit(const Value& value, const JobsSpec& jobs,
                        AuditSpec* out) {
  Section section;
  if (!AsSection(value, kAuditKeys, &section) ||
      !Require(section, "applied") ||
      !AsString(section.Get("applied"), &out->applied_sql) ||
      !AsString(section.Get("jobs"), &out->jobs_sql))
    return false;
  if (jobs.enabled && out->jobs_sql.empty())
    return Fail(section.self.key, "audit.jobs is required when the scenario "
                                  "has jobs: a query of (job id, times it took "
                                  "effect)");
  if (!jobs.enabled && section.Get("jobs").present)
    return Fail(section.Get("jobs").key, "audit.jobs needs a jobs section "
                                         "that enqueues them");
  out->applied_location = Location(section.Get("applied").node);
  out->jobs_location = Location(section.Get("jobs").node);

  std::vector<Value> invariants;
  if (!AsList(section.Get("invariants"), &invariants))
    return false;
  for (const Value& item : invariants) {
    Section invariant;
    Invariant parsed;
    if (!AsSection(item, kInvariantKeys, &invariant) ||
        !Require(invariant, "name") || !Require(invariant, "sql") ||
        !AsString(invariant.Get("name"), &parsed.name) ||
        !AsString(invariant.Get("sql"), &parsed.sql))
      return false;
    parsed.location = Location(invariant.Get("sql").node);
    out->invariants.push_back(parsed);
  }

  Value checks = section.Get("checks");
  if (checks.present && checks.node.IsScalar() &&
      checks.node.Scalar() == "default")
    return true;
  if (checks.present && !checks.node.IsSequence())
    return Fail(checks, "audit.checks must be default or a list of checks, "
                        "got " + Describe(checks.node));
  return AsCheckNames(checks, &out->checks);
}

bool Parser::ParseExpect(const Value& value, Expectation* out) {
  if (!value.present)
    return true;
  if (value.node.IsScalar() && value.node.Scalar() == "pass") {
    out->pass = true;
    return true;
  }
  if (!value.node.IsMap())
    return Fail(value, "expect must be pass, {fail: [checks]} or "
                       "{pass: [checks]}, got " + Describe(value.node));
  Section section;
  if (!AsSection(value, kExpectKeys, &section))
    return false;
  Value fail = section.Get("fail");
  Value pass = section.Get("pass");
  if (fail.present == pass.present)
    return Fail(value, "expect takes one of fail and pass");
  out->pass = pass.present;
  return AsCheckNames(fail, &out->fail_checks) &&
         AsCheckNames(pass, &out->pass_checks);
}

// An expectation on a check that audit.checks leaves out could never be met.
bool Parser::CheckExpectRuns(const Value& expect, const Scenario& scenario) {
  const std::vector<std::string>& runs = scenario.audit.checks;
  if (runs.empty()) return true;  // default: every check runs
  const Expectation& e = scenario.expect;
  for (const std::string& name : e.pass ? e.pass_checks : e.fail_checks)
    if (!Contains(runs, name))
      return Fail(expect, std::string(e.pass ? "expect.pass" : "expect.fail") +
                              " names '" + name +
                              "', which audit.checks does not run");
  return true;
}


}  // namespace lastcall
