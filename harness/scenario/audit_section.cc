#include <string>
#include <vector>

#include "scenario/sections.h"

namespace lastcall::scenario_file {

const Keys kAuditKeys = {{"applied", "invariants", "checks", "jobs"}, {}};
const Keys kInvariantKeys = {{"name", "sql"}, {}};
const Keys kExpectKeys = {{"fail", "pass"}, {}};

namespace {

// Check names are recorded, not judged: see WrittenCheckName.
bool AsCheckNames(YamlReader* yaml, const Value& value, std::vector<std::string>* out,
                  std::vector<WrittenCheckName>* written) {
  std::vector<Value> items;
  if (!yaml->AsList(value, &items)) return false;
  if (value.present && items.empty())
    return yaml->Fail(value, value.path + " must name at least one check");
  for (const Value& item : items) {
    std::string name;
    if (!yaml->AsString(item, &name)) return false;
    out->push_back(name);
    written->push_back({name, value.path, yaml->Location(item.node)});
  }
  return true;
}

}  // namespace

bool ParseAudit(YamlReader* yaml, const Value& value, const JobsSpec& jobs, AuditSpec* out,
                std::vector<WrittenCheckName>* written) {
  Section section;
  if (!yaml->AsSection(value, kAuditKeys, &section) || !yaml->Require(section, "applied") ||
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
  if (!yaml->AsList(section.Get("invariants"), &invariants)) return false;
  for (const Value& item : invariants) {
    Section invariant;
    Invariant parsed;
    if (!yaml->AsSection(item, kInvariantKeys, &invariant) || !yaml->Require(invariant, "name") ||
        !yaml->Require(invariant, "sql") || !yaml->AsString(invariant.Get("name"), &parsed.name) ||
        !yaml->AsString(invariant.Get("sql"), &parsed.sql))
      return false;
    parsed.location = yaml->Location(invariant.Get("sql").node);
    out->invariants.push_back(parsed);
  }

  Value checks = section.Get("checks");
  if (checks.present && checks.node.IsScalar() && checks.node.Scalar() == "default") return true;
  if (checks.present && !checks.node.IsSequence())
    return yaml->Fail(checks,
                      "audit.checks must be default or a list of checks, "
                      "got " +
                          Describe(checks.node));
  return AsCheckNames(yaml, checks, &out->checks, written);
}

bool ParseExpect(YamlReader* yaml, const Value& value, Expectation* out,
                 std::vector<WrittenCheckName>* written) {
  if (!value.present) return true;
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
  if (!yaml->AsSection(value, kExpectKeys, &section)) return false;
  Value fail = section.Get("fail");
  Value pass = section.Get("pass");
  if (fail.present == pass.present) return yaml->Fail(value, "expect takes one of fail and pass");
  out->pass = pass.present;
  out->location = yaml->Location(value.node);
  return AsCheckNames(yaml, fail, &out->fail_checks, written) &&
         AsCheckNames(yaml, pass, &out->pass_checks, written);
}

}  // namespace lastcall::scenario_file
