#include "check/check_names.h"

#include <catch2/catch.hpp>

#include "scenario/scenario_test_support.h"

namespace lastcall {
namespace {

// Parses Complete(yaml) as "s.yaml" as the front ends do, check names
// judged; it must fail: returns the error.
std::string Error(const std::string& yaml) {
  Scenario scenario;
  std::string error;
  INFO(Complete(yaml));
  CHECK_FALSE(ParseCheckedScenarioText(Complete(yaml), "s.yaml", &scenario, &error));
  return error;
}

TEST_CASE("Unknown check names in audit.checks", "[check]") {
  CHECK(Error("audit: {applied: x, checks: [client_eror]}\n") ==
        "s.yaml:1:30: unknown check 'client_eror' in audit.checks (did you mean "
        "'client_errors'?)");
  CHECK(Error("audit:\n"
              "  applied: SELECT 1\n"
              "  checks: [lost, lots]\n") ==
        "s.yaml:3:18: unknown check 'lots' in audit.checks (did you mean "
        "'lost'?)");
}

TEST_CASE("Unknown check names in expect, and checks audit.checks does not run", "[check]") {
  CHECK(Error("expect:\n"
              "  fail: [duplicate]\n") ==
        "s.yaml:2:10: unknown check 'duplicate' in expect.fail (did you mean "
        "'duplicated'?)");
  CHECK(Error("audit: {applied: SELECT 1, checks: [lost]}\n"
              "expect: {fail: [duplicated]}\n") ==
        "s.yaml:2:9: expect.fail names 'duplicated', which audit.checks does not run");
  CHECK(Error("expect: {fail: [unknown_check]}\n") ==
        "s.yaml:1:17: unknown check 'unknown_check' in expect.fail; the checks "
        "are lost, duplicated, phantom, invariants, drained, "
        "unannounced_close, refused_while_draining, exit, connections_leaked, unclean_disconnects, "
        "transactions_abandoned, orphans, temp_files, jobs, websocket_close, "
        "client_errors, faults");
  CHECK(Error("expect: {pass: [lots]}\n") ==
        "s.yaml:1:17: unknown check 'lots' in expect.pass (did you mean 'lost'?)");
  CHECK(Error("audit: {applied: SELECT 1, checks: [lost]}\n"
              "expect: {pass: [exit]}\n") ==
        "s.yaml:2:9: expect.pass names 'exit', which audit.checks does not run");
}

TEST_CASE("Known check names pass, and the parser alone records them", "[check]") {
  const std::string yaml = Complete(
      "audit: {applied: SELECT 1, checks: [lost, exit]}\n"
      "expect: {fail: [lots]}\n");
  Scenario scenario;
  std::string error;
  REQUIRE(ParseScenarioText(yaml, "s.yaml", &scenario, &error));
  REQUIRE(scenario.written_check_names.size() == 3);
  CHECK(scenario.written_check_names[2].name == "lots");
  CHECK(scenario.written_check_names[2].list == "expect.fail");
  CHECK(scenario.written_check_names[2].location.ToString() == "s.yaml:2:17");
  CHECK_FALSE(ValidateCheckNames(scenario, &error));
  CHECK(error == "s.yaml:2:17: unknown check 'lots' in expect.fail (did you mean 'lost'?)");
  CHECK(
      ParseCheckedScenarioText(Complete("expect: {fail: [exit]}\n"), "s.yaml", &scenario, &error));
}

TEST_CASE("An unknown check name in a combination of a matrix says which", "[check]") {
  std::vector<Scenario> scenarios;
  std::string error;
  CHECK_FALSE(ParseCheckedScenarioText(Complete("matrix: {check: [lost, lots]}\n"
                                                "expect: {fail: [\"${matrix.check}\"]}\n"),
                                       "s.yaml", {}, &scenarios, &error));
  CHECK(error ==
        "s.yaml:2:17: unknown check 'lots' in expect.fail (did you mean 'lost'?) "
        "(in the combination check=lots)");
  CHECK(ParseCheckedScenarioText(Complete("expect: {fail: [lost]}\n"), "s.yaml",
                                 {"expect.fail.0=exit"}, &scenarios, &error));
}

}  // namespace
}  // namespace lastcall
