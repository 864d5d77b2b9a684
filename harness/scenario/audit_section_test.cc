#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "scenario/scenario.h"
#include "scenario/scenario_test_support.h"

namespace lastcall {
namespace {

TEST_CASE("audit", "[scenario]") {
  Scenario s = Parse(
      "audit:\n"
      "  applied: SELECT k, n FROM ledger\n"
      "  invariants:\n"
      "    - {name: a, sql: SELECT 1 WHERE false}\n"
      "    - {name: b, sql: SELECT 2 WHERE false}\n"
      "  checks: [lost, duplicated, faults]\n");
  REQUIRE(s.audit.invariants.size() == 2);
  CHECK(s.audit.invariants[1].name == "b");
  CHECK(s.audit.invariants[1].sql == "SELECT 2 WHERE false");
  CHECK(s.audit.checks == std::vector<std::string>{"lost", "duplicated", "faults"});

  CHECK(Error("audit:\n"
              "  applied: [SELECT 1]\n") ==
        "s.yaml:2:12: audit.applied must be a string, got a list");
  CHECK(Error("audit:\n"
              "  applied: SELECT 1\n"
              "  invariants:\n"
              "    - name: money\n") == "s.yaml:4:7: audit.invariants[0].sql is required");
  CHECK(Error("audit:\n"
              "  applied: SELECT 1\n"
              "  checks: all\n") ==
        "s.yaml:3:11: audit.checks must be default or a list of checks, got "
        "\"all\"");
  CHECK(Error("audit:\n"
              "  applied: SELECT 1\n"
              "  checks: []\n") == "s.yaml:3:11: audit.checks must name at least one check");
}

TEST_CASE("expect", "[scenario]") {
  Scenario s = Parse("expect: {fail: [duplicated, exit]}\n");
  CHECK_FALSE(s.expect.pass);
  CHECK(s.expect.fail_checks == std::vector<std::string>{"duplicated", "exit"});
  CHECK(Parse("expect: pass\n").expect.pass);

  CHECK(Error("expect: fail\n") ==
        "s.yaml:1:9: expect must be pass, {fail: [checks]} or {pass: [checks]}, "
        "got \"fail\"");
  CHECK(Error("expect: {}\n") == "s.yaml:1:9: expect takes one of fail and pass");
  CHECK(Error("expect: {fail: [exit], pass: [lost]}\n") ==
        "s.yaml:1:9: expect takes one of fail and pass");
  CHECK(Error("expect: {fail: lost}\n") == "s.yaml:1:16: expect.fail must be a list, got \"lost\"");
}

TEST_CASE("expect: {pass: [checks]} judges those checks and measures the others", "[scenario]") {
  Scenario s = Parse("expect: {pass: [lost, duplicated]}\n");
  CHECK(s.expect.pass);
  CHECK(s.expect.pass_checks == std::vector<std::string>{"lost", "duplicated"});
  CHECK(s.expect.MustPass("lost"));
  CHECK_FALSE(s.expect.MustPass("exit"));
  // Plain `pass` judges every check, a fail list none of them.
  CHECK(Parse("expect: pass\n").expect.MustPass("exit"));
  CHECK_FALSE(Parse("expect: {fail: [exit]}\n").expect.MustPass("lost"));
}

}  // namespace
}  // namespace lastcall
