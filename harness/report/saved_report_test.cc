#include "report/saved_report.h"

#include <csignal>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "base/temp_dir.h"
#include "report/html_report.h"
#include "report/junit.h"
#include "report/markdown.h"
#include "report/matrix_table.h"

using namespace lastcall;
namespace fs = std::filesystem;

namespace {

// A finished run: a lost key with two attempts, an escalated fault, events.
SavedReport Finished(const History& history, const std::string& dir) {
  ScenarioResult r;
  r.name = "s";
  r.file = "/s.yaml";
  r.verdict = Verdict::kNotMet;
  r.message = "lost failed";
  r.seed = 7;
  r.run_id = "abc";
  r.report_dir = dir;
  r.requests = 2;
  r.attempts = 3;
  r.ok = 1;
  r.unknown = 1;
  r.total = 1.25;
  r.checks.resize(2);
  r.checks[0].name = "lost";
  r.checks[0].status = CheckStatus::kFail;
  r.checks[0].summary = "1 lost";
  r.checks[0].offending = {"lc-7-1 acknowledged"};
  r.checks[1].name = "exit";
  r.checks[1].status = CheckStatus::kSkipped;
  r.checks[1].summary = "no signal";
  FaultRecord fault;
  fault.fired = true;
  fault.trigger_time = 1000;
  fault.delivery_time = 1500;
  fault.instance = 1;
  fault.escalated = true;
  fault.escalation_time = 900000000;
  r.faults = {fault};
  r.fault_signals = {SIGTERM};
  r.matrix = {{"grace", "1s"}};
  r.instances = {InstanceRecord{1, 0, 5000, 2000000, ExitStatus{true, SIGKILL}}};
  r.attempts_of["lc-7-1"] = {"attempt 1 on connection 3 at 0.1s: eof, unknown after 2.0 ms"};
  Expectation bug;
  bug.pass = false;
  bug.fail_checks = {"lost"};
  return SavedReport::Of(r, bug, history);
}

// The scenario that Finished() ran, as far as result.json keeps it.
Scenario ScenarioOf(const SavedReport& run) {
  Scenario scenario;
  scenario.expect = run.expect;
  scenario.faults = {Fault()};  // a TERM
  scenario.matrix = run.result.matrix;
  return scenario;
}

}  // namespace

TEST_CASE("a saved run renders the same reports as the run did") {
  TempDir dir;
  History history(2);
  Attempt a;
  a.seq = 1;
  a.client = 1;
  a.connection = 3;
  a.send_start = 100;
  a.send_end = 200;
  a.done = 2000300;
  a.error = NetError::kEof;
  a.outcome = Outcome::kUnknown;
  history.attempts(1).push_back(a);
  a.attempt = 2;
  a.send_start = 3000000;
  a.done = 4000000;
  a.status = 201;
  a.error = NetError::kNone;
  a.outcome = Outcome::kOk;
  a.reused_connection = true;
  history.attempts(1).push_back(a);
  a.seq = 0;
  a.attempt = 1;
  a.client = 0;
  a.done = -1;  // never ended (an interrupted run)
  history.attempts(0).push_back(a);
  history.RecordAt(1500, "signal", "TERM to process", 1);
  history.RecordAt(0, "target_start", "pid 1 \"quoted\"", 1);
  const SavedReport run = Finished(history, dir.path.string());
  dir.Write("result.json", ResultJson(run.result, ScenarioOf(run)));
  std::ostringstream jsonl;
  history.WriteJsonl(jsonl, run.result.seed);
  dir.Write("history.jsonl", jsonl.str());

  SavedReport loaded;
  std::string error;
  REQUIRE(LoadSavedReport((dir.path / "result.json").string(), &loaded, &error));
  CHECK(loaded.result.report_dir == dir.path.string());
  CHECK(loaded.attempts.size() == 3);
  CHECK(loaded.events.size() == 2);
  CHECK(loaded.result.faults[0].escalation_time == 900000000);
  // What the matrix table is made of.
  CHECK(loaded.result.matrix == run.result.matrix);
  CHECK(loaded.result.fault_signals == run.result.fault_signals);
  REQUIRE(loaded.result.instances.size() == 1);
  CHECK(loaded.result.instances[0].exit_time == 2000000);
  CHECK(loaded.result.instances[0].exit == ExitStatus{true, SIGKILL});
  CHECK(MatrixTableText(MatrixTables({loaded.result})[0]) ==
        MatrixTableText(MatrixTables({run.result})[0]));
  CHECK(JunitXml({loaded.result}, {loaded.expect}) == JunitXml({run.result}, {run.expect}));
  CHECK(SummaryMarkdown({loaded.result}) == SummaryMarkdown({run.result}));
  CHECK(HtmlReport(loaded.result, loaded.attempts, loaded.events) ==
        HtmlReport(run.result, run.attempts, run.events));

  REQUIRE(WriteRenderedReports(loaded, &error));
  for (const char* file : {"junit.xml", "summary.md", "index.html"})
    CHECK(fs::file_size(dir.path / file) > 0);
}

TEST_CASE("a saved run keeps an expectation that names the checks that must pass") {
  TempDir dir;
  History history(1);
  SavedReport run = Finished(history, dir.path.string());
  Scenario scenario;
  scenario.expect.pass = true;
  scenario.expect.pass_checks = {"lost", "duplicated"};
  dir.Write("result.json", ResultJson(run.result, scenario));
  dir.Write("history.jsonl", "");
  SavedReport loaded;
  std::string error;
  REQUIRE(LoadSavedReport((dir.path / "result.json").string(), &loaded, &error));
  CHECK(loaded.expect.pass);
  CHECK(loaded.expect.pass_checks == std::vector<std::string>{"lost", "duplicated"});
}

TEST_CASE("a saved run that lastcall did not write: the file and line in the error") {
  TempDir dir;
  const std::string result = dir.Write("result.json", "{\"scenario\": 1}");
  SavedReport run;
  std::string error;
  CHECK_FALSE(LoadSavedReport((dir.path / "missing.json").string(), &run, &error));
  CHECK(error == "cannot read " + (dir.path / "missing.json").string());
  CHECK_FALSE(LoadSavedReport(result, &run, &error));
  CHECK(error.rfind(result + ": ", 0) == 0);

  History history(1);
  SavedReport empty = Finished(history, dir.path.string());
  dir.Write("result.json", ResultJson(empty.result, Scenario{}));
  dir.Write("history.jsonl",
            "{\"type\":\"info\",\"f\":\"x\",\"process\":\"nemesis\","
            "\"time\":0,\"value\":\"\"}\n{\"type\":\"ok\"}\n");
  SavedReport broken;
  CHECK_FALSE(LoadSavedReport(result, &broken, &error));
  CHECK(error.rfind((dir.path / "history.jsonl").string() + ":2: ", 0) == 0);
}

TEST_CASE("a saved run keeps its control run's outcome, and an invalid verdict") {
  TempDir dir;
  History history(1);
  SavedReport run = Finished(history, dir.path.string());
  run.result.verdict = Verdict::kInvalid;
  ControlOutcome control;
  control.verdict = Verdict::kNotMet;
  control.message = "lost failed";
  control.checks = run.result.checks;
  control.report_dir = dir.path.string() + "/control";
  control.total = 0.75;
  run.result.control = control;
  dir.Write("result.json", ResultJson(run.result, ScenarioOf(run)));
  dir.Write("history.jsonl", "");
  SavedReport loaded;
  std::string error;
  REQUIRE(LoadSavedReport((dir.path / "result.json").string(), &loaded, &error));
  CHECK(loaded.result.verdict == Verdict::kInvalid);
  REQUIRE(loaded.result.control);
  CHECK(loaded.result.control->verdict == Verdict::kNotMet);
  CHECK(loaded.result.control->FailedChecks() == std::vector<std::string>{"lost"});
  CHECK(loaded.result.control->report_dir == control.report_dir);
  CHECK(loaded.result.control->total == 0.75);
  CHECK(JunitXml({loaded.result}, {loaded.expect}) == JunitXml({run.result}, {run.expect}));
  CHECK(SummaryMarkdown({loaded.result}) == SummaryMarkdown({run.result}));
}
