#include "nemesis.h"

#include <signal.h>

#include <thread>

#include <catch2/catch.hpp>

using namespace lastcall;
using std::chrono::milliseconds;

namespace {

// A target that records what it is sent.
struct FakeTarget : TargetControl {
  struct Sent {
    int instance, signal;
    bool to_group;
  };
  std::vector<Sent> sent;
  int running = 1;  // the current instance; 0 when none
  int wakes = 0;
  int Deliver(int instance, int signal, bool to_group) override {
    int target = instance == 0 ? running : instance;
    if (target == 0 || target != running) return 0;
    sent.push_back({target, signal, to_group});
    return target;
  }
  void Wake() override { ++wakes; }
};

Fault SignalFault(Trigger::Kind kind, int64_t count, int signal = SIGTERM) {
  Fault f;
  f.trigger.kind = kind;
  f.trigger.count = count;
  f.signal = signal;
  return f;
}

}  // namespace

TEST_CASE("count triggers fire once, in order, when the count is reached") {
  std::vector<Fault> faults = {SignalFault(Trigger::Kind::kInFlight, 3),
                               SignalFault(Trigger::Kind::kCompleted, 10, SIGINT)};
  faults[0].to_group = true;
  History history(1);
  FakeTarget target;
  Nemesis nemesis(faults, &history, &target);
  nemesis.Begin(std::chrono::steady_clock::now());
  nemesis.OnProgress(2, 50);  // the second fault is not armed yet
  CHECK(target.sent.empty());
  nemesis.OnProgress(3, 50);
  REQUIRE(target.sent.size() == 1);  // the first fires, arming the second...
  nemesis.OnProgress(3, 51);          // ...which holds at the next progress
  REQUIRE(target.sent.size() == 2);
  nemesis.OnProgress(3, 52);          // each fires once
  CHECK(target.sent.size() == 2);
  CHECK(target.sent[0].signal == SIGTERM);
  CHECK(target.sent[0].to_group);
  CHECK(target.sent[1].signal == SIGINT);
  std::vector<FaultRecord> records = nemesis.records();
  CHECK(records[0].fired);
  CHECK(records[0].delivery_time >= records[0].trigger_time);
  CHECK(records[1].instance == 1);
}

TEST_CASE("an at trigger fires from OnTick once its time has come") {
  Fault f;
  f.trigger.kind = Trigger::Kind::kAt;
  f.trigger.at = milliseconds(20);
  std::vector<Fault> faults = {f};
  History history(1);
  FakeTarget target;
  Nemesis nemesis(faults, &history, &target);
  auto start = std::chrono::steady_clock::now();
  nemesis.Begin(start);
  CHECK(nemesis.NextDeadline() == start + milliseconds(20));
  nemesis.OnTick();
  CHECK(target.sent.empty());
  CHECK(nemesis.Pending(true, true));
  std::this_thread::sleep_until(start + milliseconds(20));
  nemesis.OnTick();
  CHECK(target.sent.size() == 1);
}

TEST_CASE("grace runs out: SIGKILL to the same recipient, and an exit cancels it") {
  Fault f = SignalFault(Trigger::Kind::kInFlight, 1);
  f.grace = milliseconds(0);
  f.to_group = true;
  std::vector<Fault> faults = {f};
  History history(1);
  FakeTarget target;
  Nemesis nemesis(faults, &history, &target);
  nemesis.Begin(std::chrono::steady_clock::now());
  nemesis.OnProgress(1, 0);
  CHECK(nemesis.Pending(false, true));  // the grace period is running
  nemesis.OnTick();
  REQUIRE(target.sent.size() == 2);
  CHECK(target.sent[1].signal == SIGKILL);
  CHECK(target.sent[1].to_group);
  CHECK(nemesis.records()[0].escalated);

  // The same, but the target exits first: no escalation.
  FakeTarget polite;
  Nemesis second(faults, &history, &polite);
  second.Begin(std::chrono::steady_clock::now());
  second.OnProgress(1, 0);
  CHECK_FALSE(second.OnTargetExit(1, history.Now()));
  second.OnTick();
  CHECK(polite.sent.size() == 1);
  CHECK_FALSE(second.Pending(false, false));
}

TEST_CASE("a restart fault waits for the exit and gives its delay") {
  Fault kill = SignalFault(Trigger::Kind::kCompleted, 5, SIGKILL);
  Fault restart;
  restart.kind = Fault::Kind::kRestart;
  restart.restart_delay = milliseconds(100);
  std::vector<Fault> faults = {kill, restart};
  History history(1);
  FakeTarget target;
  Nemesis nemesis(faults, &history, &target);
  nemesis.Begin(std::chrono::steady_clock::now());
  nemesis.OnProgress(0, 5);
  REQUIRE(target.sent.size() == 1);
  CHECK(target.sent[0].signal == SIGKILL);  // no grace for KILL
  CHECK(nemesis.Pending(true, true));       // waiting for the exit
  std::optional<Duration> delay = nemesis.OnTargetExit(1, history.Now());
  REQUIRE(delay);
  CHECK(*delay == milliseconds(100));
  CHECK(nemesis.records()[1].fired);
  CHECK_FALSE(nemesis.Pending(true, false));
}

TEST_CASE("a signal with no target running is recorded, not sent") {
  std::vector<Fault> faults = {SignalFault(Trigger::Kind::kInFlight, 1)};
  History history(1);
  FakeTarget target;
  target.running = 0;
  Nemesis nemesis(faults, &history, &target);
  nemesis.Begin(std::chrono::steady_clock::now());
  nemesis.OnProgress(1, 0);
  CHECK(target.sent.empty());
  CHECK(nemesis.records()[0].fired);
  CHECK(nemesis.records()[0].instance == 0);
  CHECK(nemesis.records()[0].delivery_time == -1);
}
