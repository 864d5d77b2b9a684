#include "check/check_names.h"

#include <algorithm>

#include "base/edit_distance.h"
#include "base/visible_text.h"
#include "check/catalogue.h"
#include "scenario/matrix.h"

namespace lastcall {

namespace {

bool Contains(const std::vector<std::string>& list, const std::string& word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

// " (did you mean 'lost'?)", or, when no check is close, all of them.
std::string UnknownCheckHint(const std::string& name) {
  std::string hint = DidYouMean(name, KnownChecks());
  if (!hint.empty()) return hint;
  hint = "; the checks are";
  for (const std::string& check : KnownChecks())
    hint += (check == KnownChecks().front() ? " " : ", ") + check;
  return hint;
}

// The first problem, or "".
std::string CheckNamesProblem(const Scenario& scenario) {
  for (const WrittenCheckName& written : scenario.written_check_names)
    if (!Contains(KnownChecks(), written.name))
      return written.location.ToString() + ": unknown check '" + written.name + "' in " +
             written.list + UnknownCheckHint(written.name);
  // An expectation on a check that audit.checks leaves out could never be met.
  const std::vector<std::string>& runs = scenario.audit.checks;
  if (runs.empty()) return "";  // default: every check runs
  const Expectation& e = scenario.expect;
  for (const std::string& name : e.pass ? e.pass_checks : e.fail_checks)
    if (!Contains(runs, name))
      return e.location.ToString() + ": " + (e.pass ? "expect.pass" : "expect.fail") + " names '" +
             name + "', which audit.checks does not run";
  return "";
}

}  // namespace

bool ValidateCheckNames(const Scenario& scenario, std::string* error) {
  std::string problem = CheckNamesProblem(scenario);
  if (problem.empty()) return true;
  // As the parser says of a combination of a matrix, and for a terminal.
  if (!scenario.matrix.empty())
    problem += " (in the combination " + CombinationLabel(scenario.matrix) + ")";
  *error = VisibleText(problem);
  return false;
}

namespace {

bool ValidateEach(const std::vector<Scenario>& scenarios, std::string* error) {
  for (const Scenario& scenario : scenarios)
    if (!ValidateCheckNames(scenario, error)) return false;
  return true;
}

}  // namespace

bool ParseCheckedScenarioText(const std::string& yaml_text, const std::string& file_path,
                              const std::vector<std::string>& overrides,
                              std::vector<Scenario>* scenarios, std::string* error) {
  return ParseScenarioText(yaml_text, file_path, overrides, scenarios, error) &&
         ValidateEach(*scenarios, error);
}

bool ParseCheckedScenarioText(const std::string& yaml_text, const std::string& file_path,
                              Scenario* scenario, std::string* error) {
  return ParseScenarioText(yaml_text, file_path, scenario, error) &&
         ValidateCheckNames(*scenario, error);
}

bool LoadCheckedScenario(const std::string& path, const std::vector<std::string>& overrides,
                         std::vector<Scenario>* scenarios, std::string* error) {
  return LoadScenario(path, overrides, scenarios, error) && ValidateEach(*scenarios, error);
}

}  // namespace lastcall
