#include "run/rolling_restart.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace lastcall {
namespace {

using std::chrono::milliseconds;
using TimePoint = RollingRestartDriver::TimePoint;

// Records the actions, in order, as "signal 0", "deregister 1", ...
struct FakeControl : RolloutControl {
  std::vector<std::string> actions;
  bool up = false;
  bool start_ok = true;
  void SignalSlot(int slot) override { actions.push_back("signal " + std::to_string(slot)); }
  void Deregister(int slot) override { actions.push_back("deregister " + std::to_string(slot)); }
  void Readmit(int slot) override { actions.push_back("readmit " + std::to_string(slot)); }
  bool StartReplacement(int slot) override {
    actions.push_back("start " + std::to_string(slot));
    return start_ok;
  }
  bool SlotUp(int) override { return up; }
};

const TimePoint kT0{};

// A driver over `slots` slots with a fake control, begun at kT0.
struct Rig {
  FakeControl control;
  RollingRestartDriver driver;
  Rig(const RollingRestart& spec, int slots) : driver(spec, slots, &control) { driver.Begin(kT0); }
};

TEST_CASE("A rolling restart replaces each slot in turn", "[rolling_restart]") {
  RollingRestart spec;
  spec.at = milliseconds(100);
  Rig rig(spec, 2);
  CHECK(rig.driver.NextDeadline() == kT0 + milliseconds(100));
  rig.driver.Tick(kT0 + milliseconds(50));
  CHECK(rig.control.actions.empty());
  rig.driver.Tick(kT0 + milliseconds(100));
  CHECK(rig.control.actions == std::vector<std::string>{"deregister 0", "signal 0"});
  rig.driver.Tick(kT0 + milliseconds(150));  // no exit yet: nothing
  CHECK(rig.control.actions.size() == 2);
  rig.driver.OnSlotExit(1);  // not the slot being replaced
  rig.driver.Tick(kT0 + milliseconds(160));
  CHECK(rig.control.actions.size() == 2);
  rig.driver.OnSlotExit(0);
  rig.driver.Tick(kT0 + milliseconds(200));
  CHECK(rig.control.actions.back() == "readmit 0");
  rig.driver.Tick(kT0 + milliseconds(210));  // not UP yet
  CHECK(rig.control.actions.size() == 4);
  rig.control.up = true;
  rig.driver.Tick(kT0 + milliseconds(300));  // slot 0 UP: slot 1's turn at once
  CHECK(rig.control.actions.back() == "signal 1");
  rig.driver.OnSlotExit(1);
  rig.driver.Tick(kT0 + milliseconds(400));
  rig.driver.Tick(kT0 + milliseconds(500));
  CHECK(rig.driver.done());
  CHECK(*rig.driver.started() == kT0 + milliseconds(100));
  CHECK(*rig.driver.finished() == kT0 + milliseconds(500));
  CHECK(rig.control.actions == std::vector<std::string>{"deregister 0", "signal 0", "start 0",
                                                        "readmit 0", "deregister 1", "signal 1",
                                                        "start 1", "readmit 1"});
}

TEST_CASE("pre_stop signals after the deregistration", "[rolling_restart]") {
  RollingRestart spec;
  spec.deregister = Deregistration::kPreStop;
  spec.pre_stop = milliseconds(300);
  spec.propagation = milliseconds(100);
  Rig rig(spec, 1);
  rig.driver.Tick(kT0);
  CHECK(rig.control.actions.empty());
  CHECK(rig.driver.NextDeadline() == kT0 + milliseconds(100));
  rig.driver.Tick(kT0 + milliseconds(100));
  CHECK(rig.control.actions == std::vector<std::string>{"deregister 0"});
  CHECK(rig.driver.NextDeadline() == kT0 + milliseconds(300));
  rig.driver.Tick(kT0 + milliseconds(300));
  CHECK(rig.control.actions.back() == "signal 0");
}

TEST_CASE("with_signal applies the deregistration after its propagation", "[rolling_restart]") {
  RollingRestart spec;
  spec.propagation = milliseconds(200);
  Rig rig(spec, 1);
  rig.driver.Tick(kT0);
  CHECK(rig.control.actions == std::vector<std::string>{"signal 0"});
  // The instance is gone before the load balancer knows: no replacement
  // until the deregistration it replaces has been applied.
  rig.driver.OnSlotExit(0);
  rig.driver.Tick(kT0 + milliseconds(50));
  CHECK(rig.control.actions.size() == 1);
  rig.driver.Tick(kT0 + milliseconds(200));
  CHECK(rig.control.actions ==
        std::vector<std::string>{"signal 0", "deregister 0", "start 0", "readmit 0"});
}

TEST_CASE("health_checks never deregisters nor readmits", "[rolling_restart]") {
  RollingRestart spec;
  spec.deregister = Deregistration::kHealthChecks;
  Rig rig(spec, 1);
  rig.control.up = true;
  rig.driver.Tick(kT0);
  rig.driver.OnSlotExit(0);
  rig.driver.Tick(kT0 + milliseconds(10));
  rig.driver.Tick(kT0 + milliseconds(20));
  CHECK(rig.control.actions == std::vector<std::string>{"signal 0", "start 0"});
  CHECK(rig.driver.done());
}

TEST_CASE("A replacement that cannot start ends the rolling restart", "[rolling_restart]") {
  RollingRestart spec;
  Rig rig(spec, 2);
  rig.control.start_ok = false;
  rig.driver.Tick(kT0);
  rig.driver.OnSlotExit(0);
  CHECK_FALSE(rig.driver.Tick(kT0 + milliseconds(10)));
  CHECK(rig.driver.done());
  CHECK_FALSE(rig.driver.finished());
}

}  // namespace
}  // namespace lastcall
