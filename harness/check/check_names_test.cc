#include "scenario/scenario_test_support.h"

#include <catch2/catch.hpp>

namespace lastcall {
namespace {

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

}  // namespace
}  // namespace lastcall
