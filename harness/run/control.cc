#include "run/control.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include <pqxx/pqxx>

#include "process/database.h"
#include "report/saved_report.h"
#include "run/database_watch.h"

namespace lastcall {

namespace fs = std::filesystem;

const std::vector<std::string>& ChecksWithoutFault() {
  static const std::vector<std::string> checks = {"lost", "duplicated", "phantom", "invariants"};
  return checks;
}

namespace {

// How long a control run waits for its target to be at rest before the
// teardown: as long as the teardown itself waits for an exit before SIGKILL.
constexpr Duration kRestLimit = std::chrono::seconds(10);

// The names of `names` that `keep` holds too, in the order of `names`.
std::vector<std::string> Among(const std::vector<std::string>& names,
                               const std::vector<std::string>& keep) {
  std::vector<std::string> out;
  for (const std::string& name : names)
    if (std::find(keep.begin(), keep.end(), name) != keep.end()) out.push_back(name);
  return out;
}

ControlOutcome OutcomeOf(const ScenarioResult& control) {
  ControlOutcome outcome;
  outcome.verdict = control.verdict;
  outcome.message = control.message;
  outcome.checks = control.checks;
  outcome.report_dir = control.report_dir;
  outcome.total = control.total;
  return outcome;
}

// The reports of a scenario whose real run was not run, in its folder (made
// by MakeRunFolder()). history.jsonl is written empty, so that `lastcall
// report` can render them again; the logs of an earlier run of the same name
// go, or they would sit beside a result they do not belong to. Returns false
// and sets *error when a file cannot be written.
bool WriteNotRunReports(const ScenarioResult& result, const Scenario& scenario,
                        std::string* error) {
  std::error_code ignored;
  for (const char* stale : {"target.log", "postgres.log"})
    fs::remove(fs::path(result.report_dir) / stale, ignored);
  Scenario resolved = scenario;
  resolved.seed = result.seed;  // --seed, as the control ran it
  return WriteFileAtomically(result.report_dir + "/history.jsonl", "", error) &&
         WriteFileAtomically(result.report_dir + "/result.json", ResultJson(result, resolved),
                             error) &&
         WriteRenderedReports(SavedReport{result, scenario.expect, {}, {}}, error);
}

// Puts result->control into the real run's result.json, and renders its
// junit.xml and summary.md again (index.html does not show the control).
// A run that wrote no reports is left as it is: its verdict says why.
void RecordInReports(ScenarioResult* result, const Expectation& expect) {
  const std::string path = result->report_dir + "/result.json";
  std::error_code ignored;
  if (result->report_dir.empty() || !fs::exists(path, ignored)) return;
  std::string error;
  if (RecordControl(path, *result->control, &error) &&
      WriteTextReports(SavedReport{*result, expect, {}, {}}, &error))
    return;
  if (result->verdict == Verdict::kMet) {  // as a run whose reports fail
    result->verdict = Verdict::kInfrastructure;
    result->message = error;
  }
}

}  // namespace

std::optional<Scenario> ControlScenario(const Scenario& scenario) {
  std::vector<std::string> judged = ChecksWithoutFault();
  if (!scenario.audit.checks.empty()) judged = Among(judged, scenario.audit.checks);
  if (scenario.expect.pass && !scenario.expect.pass_checks.empty())
    judged = Among(judged, scenario.expect.pass_checks);
  if (judged.empty()) return std::nullopt;
  Scenario control = scenario;
  control.name += " (control)";
  control.description = "the control run, without faults, of: " + scenario.description;
  control.faults.clear();
  control.load_balancer.rolling_restart.enabled = false;
  control.audit.checks = judged;
  control.rest_before_teardown = kRestLimit;
  control.expect = Expectation{};  // every check it runs must pass
  control.control = false;
  return control;
}

std::string AwaitTargetAtRest(const std::string& url, OwnSessions* own, Duration limit,
                              Interrupt* interrupt) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  auto since = [&] {
    return std::to_string(
               std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)
                   .count()) +
           " ms";
  };
  try {
    pqxx::connection connection(url);
    {
      pqxx::row me = pqxx::nontransaction(connection).exec1(kOwnSessionSql);
      own->Add(me[0].as<int>(), me[1].c_str());
    }
    const auto [pids, starts] = own->ArrayLiterals();
    connection.prepare("open", OpenTransactionsSql());
    for (;;) {
      int64_t open =
          pqxx::nontransaction(connection).exec_prepared1("open", pids, starts)[0].as<int64_t>();
      if (open == 0) return "at rest after " + since();
      if (Clock::now() - start >= limit || interrupt->Check() > 0)
        return std::to_string(open) + " transactions still open after " + since();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  } catch (const std::exception& e) {
    return "cannot tell whether the target is at rest: " + PostgresMessage(e);
  }
}

ScenarioResult NotRunResult(const Scenario& scenario, const ScenarioResult& control,
                            const std::string& report_dir) {
  ScenarioResult result;
  result.name = scenario.name;
  result.file = scenario.file;
  result.matrix = scenario.matrix;
  result.seed = control.seed;
  result.report_dir = report_dir;
  result.total = control.total;  // the time the scenario took
  result.control = OutcomeOf(control);
  if (control.verdict == Verdict::kNotMet) {
    result.verdict = Verdict::kInvalid;
    result.message = "fails without a fault: its control run (faults removed) failed " +
                     NameList(result.control->FailedChecks()) + "; the real run was not run";
  } else {
    result.verdict = control.verdict;
    result.message = "control run: " + control.message;
  }
  return result;
}

ScenarioResult RunWithControl(const Scenario& scenario, const std::string& reports_dir,
                              const std::string& report_name, const RunFunction& run) {
  if (!scenario.control) return run(scenario, report_name);
  ControlOutcome outcome;
  if (std::optional<Scenario> control = ControlScenario(scenario)) {
    ScenarioResult control_result = run(*control, report_name + "/control");
    if (control_result.verdict != Verdict::kMet) {
      ScenarioResult result =
          NotRunResult(scenario, control_result, reports_dir + "/" + report_name);
      std::string error;
      const bool written = MakeRunFolder(reports_dir, report_name, &error) == RunFolder::kReady &&
                           WriteNotRunReports(result, scenario, &error);
      if (!written) result.message += " (" + error + ")";
      return result;
    }
    outcome = OutcomeOf(control_result);
  } else {
    outcome.ran = false;
    outcome.message = "the scenario judges none of the checks that apply without a fault (" +
                      NameList(ChecksWithoutFault()) + ")";
  }
  ScenarioResult result = run(scenario, report_name);
  result.control = outcome;
  RecordInReports(&result, scenario.expect);
  return result;
}

}  // namespace lastcall
