#include "run/control.h"

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/temp_dir.h"
#include "report/saved_report.h"

using namespace lastcall;
namespace fs = std::filesystem;

namespace {

// A SIGTERM scenario with a rolling restart, asking for a control run.
Scenario WithFaults() {
  Scenario s;
  s.name = "s";
  s.file = "/s.yaml";
  s.control = true;
  s.faults = {Fault(), Fault()};
  s.load_balancer.rolling_restart.enabled = true;
  return s;
}

CheckResult Check(const std::string& name, CheckStatus status,
                  std::vector<std::string> offending = {}) {
  return CheckResult{name, status, "", std::move(offending)};
}

ScenarioResult Result(const std::string& name, Verdict verdict,
                      std::vector<CheckResult> checks = {}) {
  ScenarioResult r;
  r.name = name;
  r.verdict = verdict;
  r.seed = 9;
  r.total = 1.5;
  r.checks = std::move(checks);
  return r;
}

// A RunFunction that answers with `results`, one per call in order, and
// records the scenarios and folders it was given.
struct FakeRuns {
  std::vector<ScenarioResult> results;
  std::vector<Scenario> scenarios;
  std::vector<std::string> folders;
  RunFunction Function() {
    return [this](const Scenario& scenario, const std::string& folder) {
      scenarios.push_back(scenario);
      folders.push_back(folder);
      return results.at(scenarios.size() - 1);
    };
  }
};

nlohmann::json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("the checks a control run judges are known checks, none about a shutdown") {
  for (const std::string& check : ChecksWithoutFault())
    CHECK(std::find(KnownChecks().begin(), KnownChecks().end(), check) != KnownChecks().end());
  for (const char* shutdown : {"drained", "exit", "connections_leaked", "temp_files", "orphans",
                               "transactions_abandoned", "jobs", "faults"})
    CHECK(std::find(ChecksWithoutFault().begin(), ChecksWithoutFault().end(), shutdown) ==
          ChecksWithoutFault().end());
}

TEST_CASE(
    "a control scenario: no faults, no rolling restart, the checks without a fault must pass") {
  Scenario bug = WithFaults();
  bug.expect.pass = false;
  bug.expect.fail_checks = {"lost"};
  std::optional<Scenario> control = ControlScenario(bug);
  REQUIRE(control);
  CHECK(control->name == "s (control)");
  CHECK(control->faults.empty());
  CHECK_FALSE(control->load_balancer.rolling_restart.enabled);
  CHECK_FALSE(control->control);
  CHECK(control->rest_before_teardown > Duration(0));  // nothing committing is cut short
  CHECK(bug.rest_before_teardown == Duration(0));
  CHECK(control->audit.checks == ChecksWithoutFault());
  // A bug-reproduction scenario's control must pass: its bug is a shutdown bug.
  CHECK(control->expect.pass);
  CHECK(control->expect.pass_checks.empty());
  CHECK(bug.faults.size() == 2);  // the scenario itself is untouched

  Scenario some = WithFaults();
  some.audit.checks = {"drained", "phantom", "lost"};
  REQUIRE(ControlScenario(some));
  CHECK(ControlScenario(some)->audit.checks == std::vector<std::string>{"lost", "phantom"});
  some.expect.pass_checks = {"phantom", "drained"};
  CHECK(ControlScenario(some)->audit.checks == std::vector<std::string>{"phantom"});
}

TEST_CASE("a scenario that judges no check that applies without a fault has no control") {
  Scenario s = WithFaults();
  s.audit.checks = {"exit", "drained"};
  CHECK_FALSE(ControlScenario(s));
  s.audit.checks.clear();
  s.expect.pass_checks = {"drained"};
  CHECK_FALSE(ControlScenario(s));
}

TEST_CASE("a control that failed a check makes the scenario invalid, an error stays an error") {
  Scenario s = WithFaults();
  ScenarioResult control =
      Result("s (control)", Verdict::kNotMet,
             {Check("lost", CheckStatus::kFail, {"lc-9-3"}),
              Check("duplicated", CheckStatus::kPass), Check("invariants", CheckStatus::kFail)});
  control.report_dir = "r/s/control";
  ScenarioResult invalid = NotRunResult(s, control, "r/s");
  CHECK(invalid.verdict == Verdict::kInvalid);
  CHECK(std::string(VerdictName(invalid.verdict)) == "invalid");
  CHECK(invalid.message.find("fails without a fault") == 0);
  CHECK(invalid.message.find("lost, invariants") != std::string::npos);
  CHECK(invalid.checks.empty());  // the real run was not run
  CHECK(invalid.report_dir == "r/s");
  CHECK(invalid.seed == 9);
  REQUIRE(invalid.control);
  CHECK(invalid.control->report_dir == "r/s/control");
  CHECK(invalid.control->FailedChecks() == std::vector<std::string>{"lost", "invariants"});

  ScenarioResult broken = Result("s (control)", Verdict::kInfrastructure);
  broken.message = "the target was not ready within 10s";
  ScenarioResult error = NotRunResult(s, broken, "r/s");
  CHECK(error.verdict == Verdict::kInfrastructure);
  CHECK(error.message == "control run: the target was not ready within 10s");
}

TEST_CASE("RunWithControl: a failed control skips the real run and writes its reports") {
  TempDir dir;
  FakeRuns runs;
  runs.results = {
      Result("s (control)", Verdict::kNotMet, {Check("lost", CheckStatus::kFail, {"lc-9-3"})})};
  const std::string reports = dir.path.string();
  fs::create_directories(dir.path / "s");
  std::ofstream(dir.path / "s" / "target.log") << "an earlier run's log\n";
  ScenarioResult result = RunWithControl(WithFaults(), reports, "s", runs.Function());
  REQUIRE(runs.scenarios.size() == 1);  // the control only
  CHECK(runs.folders[0] == "s/control");
  CHECK(runs.scenarios[0].faults.empty());
  CHECK(result.verdict == Verdict::kInvalid);
  CHECK_FALSE(fs::exists(dir.path / "s" / "target.log"));
  for (const char* file : {"result.json", "history.jsonl", "junit.xml", "summary.md", "index.html"})
    CHECK(fs::exists(dir.path / "s" / file));
  nlohmann::json json = ReadJson(dir.path / "s" / "result.json");
  CHECK(json["verdict"] == "invalid");
  CHECK(json["expectation_met"] == false);
  CHECK(json["control"]["passed"] == false);
  CHECK(json["control"]["failed_checks"] == nlohmann::json::array({"lost"}));
  CHECK(json["resolved_scenario"]["control"] == true);
  // `lastcall report` renders it again.
  SavedReport loaded;
  std::string error;
  REQUIRE(LoadSavedReport((dir.path / "s" / "result.json").string(), &loaded, &error));
  CHECK(loaded.result.verdict == Verdict::kInvalid);
}

TEST_CASE("RunWithControl: a passed control, then the real run with the outcome in its reports") {
  TempDir dir;
  FakeRuns runs;
  ScenarioResult real = Result("s", Verdict::kNotMet, {Check("drained", CheckStatus::kFail)});
  real.report_dir = dir.path.string();
  Scenario scenario = WithFaults();
  dir.Write("result.json", ResultJson(real, scenario));
  runs.results = {Result("s (control)", Verdict::kMet, {Check("lost", CheckStatus::kPass)}), real};
  ScenarioResult result = RunWithControl(scenario, "reports", "s", runs.Function());
  REQUIRE(runs.scenarios.size() == 2);
  CHECK(runs.folders == std::vector<std::string>{"s/control", "s"});
  CHECK(runs.scenarios[1].faults.size() == 2);
  CHECK(result.verdict == Verdict::kNotMet);  // the real run's verdict stands
  REQUIRE(result.control);
  CHECK(result.control->passed());
  nlohmann::json json = ReadJson(dir.path / "result.json");
  CHECK(json["verdict"] == "not met");
  CHECK(json["control"]["passed"] == true);
  CHECK(json["control"]["checks"][0]["name"] == "lost");
  std::ifstream junit(dir.path / "junit.xml");
  CHECK(std::string(std::istreambuf_iterator<char>(junit), {}).find("name=\"control\"") !=
        std::string::npos);
}

TEST_CASE("RunWithControl: without control one run, with nothing to judge the real run alone") {
  FakeRuns runs;
  runs.results = {Result("s", Verdict::kMet), Result("s", Verdict::kMet)};
  Scenario plain = WithFaults();
  plain.control = false;
  CHECK_FALSE(RunWithControl(plain, "reports", "s", runs.Function()).control);
  Scenario nothing = WithFaults();
  nothing.audit.checks = {"exit"};
  ScenarioResult result = RunWithControl(nothing, "reports", "s", runs.Function());
  CHECK(runs.folders == std::vector<std::string>{"s", "s"});
  REQUIRE(result.control);
  CHECK_FALSE(result.control->ran);
  CHECK(result.verdict == Verdict::kMet);
}
