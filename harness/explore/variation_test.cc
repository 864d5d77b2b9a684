#include "explore/variation.h"

#include <csignal>
#include <set>

#include <catch2/catch.hpp>

using namespace lastcall;

namespace {

using std::chrono::milliseconds;

// A scenario parsed from `explore` (the body of its explore: section).
Scenario Base(const std::string& explore) {
  Scenario s;
  std::string error;
  REQUIRE(
      ParseScenarioText("target: {command: [server]}\n"
                        "load: {clients: 4, duration: 1s}\n"
                        "audit: {applied: SELECT 1}\n"
                        "explore:\n" +
                            explore,
                        "/tmp/base.yaml", &s, &error));
  return s;
}

const char* kWide =
    "  signals: [TERM, INT, KILL]\n"
    "  triggers: {at: [100ms, 800ms], in_flight: [1, 16], completed: [5, 50],\n"
    "             db_transactions_open: [1, 3]}\n"
    "  grace: [500ms, 2s]\n"
    "  faults: [1, 3]\n"
    "  restart: [false, true]\n"
    "  clients: [2, 8]\n";

}  // namespace

TEST_CASE("the same seed and run draw the same variation", "[explore]") {
  Scenario base = Base(kWide);
  for (int64_t run = 1; run <= 50; ++run)
    CHECK(DrawVariation(base, 7, run) == DrawVariation(base, 7, run));
  // Another seed, or another run, draws something else.
  CHECK_FALSE(DrawVariation(base, 7, 1) == DrawVariation(base, 8, 1));
  CHECK_FALSE(DrawVariation(base, 7, 1) == DrawVariation(base, 7, 2));
}

TEST_CASE("variations stay within the explore bounds and cover them", "[explore]") {
  Scenario base = Base(kWide);
  std::set<int> signals, clients, fault_counts;
  std::set<Trigger::Kind> kinds;
  std::set<bool> restarts;
  for (int64_t run = 1; run <= 2000; ++run) {
    Variation v = DrawVariation(base, 42, run);
    CHECK(v.clients >= 2);
    CHECK(v.clients <= 8);
    CHECK(v.duration == std::chrono::seconds(1));
    CHECK(v.faults.size() >= 1);
    CHECK(v.faults.size() <= 3);
    clients.insert(v.clients);
    fault_counts.insert(static_cast<int>(v.faults.size()));
    for (const VariedFault& f : v.faults) {
      signals.insert(f.signal);
      kinds.insert(f.trigger);
      restarts.insert(f.restart);
      CHECK(f.grace >= milliseconds(500));
      CHECK(f.grace <= milliseconds(2000));
      CHECK(f.grace.count() % 1000000 == 0);  // whole milliseconds
      switch (f.trigger) {
        case Trigger::Kind::kAt:
          CHECK(f.value >= Duration(milliseconds(100)).count());
          CHECK(f.value <= Duration(milliseconds(800)).count());
          break;
        case Trigger::Kind::kInFlight:  // never more than the run's clients
          CHECK(f.value >= 1);
          CHECK(f.value <= v.clients);
          break;
        case Trigger::Kind::kCompleted:
          CHECK(f.value >= 5);
          CHECK(f.value <= 50);
          break;
        default:
          CHECK(f.value >= 1);
          CHECK(f.value <= 3);
      }
    }
  }
  CHECK(signals == std::set<int>{SIGTERM, SIGINT, SIGKILL});
  CHECK(kinds.size() == 4);
  CHECK(clients.size() == 7);
  CHECK(fault_counts.size() == 3);
  CHECK(restarts.size() == 2);
}

TEST_CASE("a variation in one line", "[explore]") {
  Variation v;
  v.clients = 3;
  v.duration = milliseconds(1500);
  v.faults = {{SIGINT, Trigger::Kind::kCompleted, 40, std::chrono::seconds(2), true},
              {SIGKILL, Trigger::Kind::kAt, Duration(milliseconds(420)).count(), {}, false}};
  CHECK(DescribeVariation(v) ==
        "3 clients, 1500ms; INT when completed 40 (grace 2s), restart; KILL at 420ms");
}

TEST_CASE("a run's completed counts increase from fault to fault", "[explore]") {
  Scenario base = Base(
      "  signals: [KILL]\n  triggers: {completed: [5, 500], in_flight: [1, 2]}\n"
      "  faults: [4, 6]\n  restart: [true]\n");
  int mixed = 0;  // runs with both kinds of trigger: the in_flight ones stay put
  for (int64_t run = 1; run <= 200; ++run) {
    Variation v = DrawVariation(base, 3, run);
    int64_t last = 0;
    bool in_flight = false;
    for (const VariedFault& f : v.faults) {
      if (f.trigger == Trigger::Kind::kInFlight) {
        in_flight = true;
        CHECK(f.value <= 2);
        continue;
      }
      CHECK(f.value >= last);
      last = f.value;
    }
    mixed += in_flight && last > 0;
  }
  CHECK(mixed > 100);
}
