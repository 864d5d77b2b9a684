#include "report/matrix_table.h"

#include <csignal>

#include <catch2/catch.hpp>

namespace lastcall {
namespace {

constexpr int64_t kSecond = 1000000000;

CheckResult Check(const std::string& name, CheckStatus status, const std::string& summary = "",
                  std::vector<std::string> offending = {}) {
  return CheckResult{name, status, summary, std::move(offending)};
}

// A matrix run: SIGTERM delivered at 1 s to instance 1, which exits at
// `exit_s`; escalated when the grace ran out first.
ScenarioResult Run(const std::string& grace, double exit_s, bool escalated, size_t cut,
                   int refused) {
  ScenarioResult r;
  r.name = "compare/grace=" + grace;
  r.file = "/s/compare.yaml";
  r.matrix = {{"grace", grace}};
  r.verdict = Verdict::kMet;
  FaultRecord term;
  term.fired = true;
  term.delivery_time = kSecond;
  term.instance = 1;
  term.escalated = escalated;
  r.faults = {term};
  r.fault_signals = {SIGTERM};
  r.instances = {InstanceRecord{1, 0, 0, static_cast<int64_t>(exit_s * kSecond), {}}};
  std::vector<std::string> dropped(cut, "lc-1-1 attempt 1: eof");
  r.checks = {Check("lost", CheckStatus::kPass),
              Check("drained", cut ? CheckStatus::kFail : CheckStatus::kPass, "", dropped),
              Check("refused_while_draining", CheckStatus::kInfo,
                    std::to_string(refused) + " requests refused between ..."),
              Check("exit", escalated ? CheckStatus::kFail : CheckStatus::kPass)};
  return r;
}

TEST_CASE("The matrix table: a row per run, each check, the shutdown's cost", "[matrix_table]") {
  ScenarioResult plain;  // not of a matrix: no row
  plain.name = "other";
  std::vector<MatrixTable> tables =
      MatrixTables({Run("1s", 2.0, true, 3, 0), plain, Run("30s", 4.5, false, 0, 7)});
  REQUIRE(tables.size() == 1);
  CHECK(tables[0].name == "compare");
  using Row = std::vector<std::string>;
  REQUIRE(tables[0].cells.size() == 3);
  CHECK(tables[0].cells[0] == Row{"grace", "verdict", "lost", "drained", "exit", "drain", "refused",
                                  "cut", "escalated", "deploy"});
  CHECK(tables[0].cells[1] ==
        Row{"1s", "met", "pass", "fail", "fail", "1.00 s", "0", "3", "1", "1.00 s"});
  CHECK(tables[0].cells[2] ==
        Row{"30s", "met", "pass", "pass", "pass", "3.50 s", "7", "0", "0", "3.50 s"});
  CHECK(MatrixTableText(tables[0]) ==
        "matrix compare:\n"
        "  grace  verdict  lost  drained  exit  drain   refused  cut  escalated  deploy\n"
        "  1s     met      pass  fail     fail  1.00 s  0        3    1          1.00 s\n"
        "  30s    met      pass  pass     pass  3.50 s  7        0    0          3.50 s\n");
}

TEST_CASE("The matrix table: deploy time runs to the next instance's readiness", "[matrix_table]") {
  ScenarioResult r = Run("1s", 2.0, false, 0, 0);
  r.instances.push_back(InstanceRecord{2, 2 * kSecond, 3 * kSecond, -1, {}});
  r.faults.push_back(FaultRecord{});  // the restart
  r.fault_signals.push_back(0);
  std::vector<MatrixTable> tables = MatrixTables({r});
  REQUIRE(tables.size() == 1);
  CHECK(tables[0].cells[1].back() == "2.00 s");                          // deploy: 1 s -> 3 s
  CHECK(tables[0].cells[1][tables[0].cells[1].size() - 5] == "1.00 s");  // drain
}

TEST_CASE("The matrix table: what does not apply is '-'", "[matrix_table]") {
  // A KILL is not a graceful signal: no drain time, no drained check.
  ScenarioResult killed = Run("1s", 2.0, false, 0, 0);
  killed.fault_signals = {SIGKILL};
  killed.checks = {Check("drained", CheckStatus::kSkipped),
                   Check("refused_while_draining", CheckStatus::kSkipped),
                   Check("jobs", CheckStatus::kSkipped)};
  ScenarioResult drained = Run("5s", 2.0, false, 0, 0);
  drained.checks = {Check("drained", CheckStatus::kPass), Check("jobs", CheckStatus::kSkipped)};
  std::vector<MatrixTable> tables = MatrixTables({killed, drained});
  REQUIRE(tables.size() == 1);
  using Row = std::vector<std::string>;
  // `jobs`, skipped by every run, gets no column.
  CHECK(tables[0].cells[0] ==
        Row{"grace", "verdict", "drained", "drain", "refused", "cut", "escalated", "deploy"});
  CHECK(tables[0].cells[1] == Row{"1s", "met", "skipped", "-", "-", "-", "0", "1.00 s"});
  CHECK(tables[0].cells[2] == Row{"5s", "met", "pass", "1.00 s", "-", "0", "0", "1.00 s"});
  CHECK(MatrixTables({}).empty());
}

}  // namespace
}  // namespace lastcall
