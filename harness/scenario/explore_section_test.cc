#include <csignal>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "scenario/scenario.h"
#include "scenario/scenario_test_support.h"

namespace lastcall {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("explore: defaults come from the load and the first fault", "[scenario]") {
  Scenario s = Parse(
      "load:\n  clients: 6\n  duration: 2s\n"
      "faults:\n  - {at: 1s, signal: TERM, grace: 4s}\n");
  const ExploreSpec& e = s.explore;
  CHECK(e.signals == std::vector<int>{SIGTERM, SIGINT, SIGKILL});
  CHECK(e.clients.min == 6);
  CHECK(e.clients.max == 6);
  CHECK(e.grace.min == Duration(seconds(4)).count());
  CHECK(e.faults.max == 1);
  CHECK(e.restart == std::vector<bool>{false});
  REQUIRE(e.triggers.size() == 1);
  CHECK(e.triggers[0].kind == Trigger::Kind::kAt);
  CHECK(e.triggers[0].range.min == Duration(milliseconds(200)).count());
  CHECK(e.triggers[0].range.max == Duration(milliseconds(1600)).count());
  // The longest load and the most requests a file may write.
  CHECK(Parse("load:\n  duration: 4611686018s\n").explore.triggers[0].range.max ==
        3689348814400000000);
  CHECK(Parse("load:\n  requests: 9223372036854775807\n").explore.triggers[0].range.max ==
        7378697629483820645);
}

TEST_CASE("explore: every bound written", "[scenario]") {
  Scenario s = Parse(
      "explore:\n"
      "  signals: [TERM, KILL]\n"
      "  triggers:\n"
      "    at: [100ms, 900ms]\n"
      "    in_flight: [1, 4]\n"
      "    completed: 50\n"
      "    db_transactions_open: [1, 2]\n"
      "  grace: [0s, 2s]\n"
      "  faults: [1, 2]\n"
      "  restart: [false, true]\n"
      "  clients: [2, 8]\n");
  const ExploreSpec& e = s.explore;
  CHECK(e.signals == std::vector<int>{SIGTERM, SIGKILL});
  REQUIRE(e.triggers.size() == 4);
  CHECK(e.triggers[1].kind == Trigger::Kind::kInFlight);
  CHECK(e.triggers[2].range.min == 50);
  CHECK(e.triggers[2].range.max == 50);
  CHECK(e.triggers[3].kind == Trigger::Kind::kDbTransactionsOpen);
  CHECK(e.grace.max == Duration(seconds(2)).count());
  CHECK(e.faults.max == 2);
  CHECK(e.restart == std::vector<bool>{false, true});
  CHECK(e.clients.min == 2);
  CHECK(Parse("explore: {restart: true}\n").explore.restart == std::vector<bool>{true});
}

TEST_CASE("explore: bad bounds are file:line:column errors", "[scenario]") {
  CHECK(Error("explore: {signal: [TERM]}\n") ==
        "s.yaml:1:11: unknown key 'signal' in explore (did you mean 'signals'?)");
  CHECK(Error("explore: {signals: [TREM]}\n") ==
        "s.yaml:1:21: explore.signals[0] must be a signal such as TERM, INT or KILL, "
        "got \"TREM\" (did you mean 'TERM'?)");
  CHECK(Error("explore: {signals: []}\n") ==
        "s.yaml:1:20: explore.signals must name at least one signal");
  CHECK(Error("explore: {grace: [2s, 1s]}\n") ==
        "s.yaml:1:18: explore.grace: min is greater than max");
  CHECK(Error("explore: {clients: [0, 4]}\n") ==
        "s.yaml:1:21: explore.clients[0] must be a positive integer, got 0");
  CHECK(Error("explore: {faults: [1, 2, 3]}\n") ==
        "s.yaml:1:19: explore.faults must be [min, max] or one value");
  CHECK(Error("explore: {faults: 11}\n") ==
        "s.yaml:1:19: explore.faults must be at most 10 signals per run");
  CHECK(Error("explore: {restart: [maybe]}\n") ==
        "s.yaml:1:21: explore.restart[0] must be true or false, got \"maybe\"");
  CHECK(Error("explore: {triggers: {}}\n") ==
        "s.yaml:1:21: explore.triggers must name at least one of at, in_flight, "
        "completed and db_transactions_open");
  CHECK(Error("explore: {triggers: {completd: 5}}\n") ==
        "s.yaml:1:22: unknown key 'completd' in explore.triggers (did you mean 'completed'?)");
  CHECK(Error("explore: {triggers: {at: [0s, 1s]}}\n") ==
        "s.yaml:1:26: explore.triggers.at must end before the load does "
        "(load.duration): a fault drawn later would never fire");
  CHECK(Error("explore: {clients: 4, triggers: {in_flight: [5, 6]}}\n") ==
        "s.yaml:1:45: explore.triggers.in_flight can never fire: at most 4 "
        "requests are in flight (explore.clients)");
}

}  // namespace
}  // namespace lastcall
