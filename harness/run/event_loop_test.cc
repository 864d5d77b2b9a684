// The event loop against a fake fleet and a fake load: no processes, no
// sockets. Time is the real steady clock, but nothing sleeps on a guess: the
// fake fleet's WaitUntil() returns at the deadline the loop asked for, or at
// the moment one of its instances was told to exit, whichever comes first,
// so every assertion holds however slow the machine is.
#include "run/event_loop.h"

#include <signal.h>

#include <algorithm>
#include <thread>

#include <catch2/catch.hpp>

using namespace lastcall;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

// Instances that exit when sent one of the signals they are told to obey.
class FakeFleet : public TargetControl, public LoopFleet {
 public:
  struct Sent {
    int instance, signal;
    Clock::time_point at;
  };
  struct Instance {
    int id;
    std::optional<Clock::time_point> exit_at;  // told to exit, from then on
    bool exited = false;
  };

  explicit FakeFleet(History* history) : history_(history) { instances.push_back({1, {}}); }

  // A signal in `exits_on` makes the instance exit `exit_delay` later.
  std::vector<int> exits_on = {SIGTERM, SIGKILL};
  Duration exit_delay{0};
  bool restart_fails = false;
  bool interrupt_after_first_wait = false;
  Nemesis* nemesis = nullptr;  // told when a restarted instance is ready
  std::vector<Sent> sent;
  std::vector<Instance> instances;
  std::vector<Clock::time_point> restarts;

  // TargetControl.
  int Deliver(int instance, int signal, Recipient) override {
    Instance* target = Find(instance == 0 ? instances.back().id : instance);
    if (!target || target->exited) return 0;
    if (signal == 0) return target->id;
    sent.push_back({target->id, signal, Clock::now()});
    if (std::count(exits_on.begin(), exits_on.end(), signal) && !target->exit_at)
      target->exit_at = Clock::now() + exit_delay;
    return target->id;
  }
  void Wake() override {}

  // LoopFleet.
  bool AnyRunning() const override {
    return std::any_of(instances.begin(), instances.end(),
                       [](const Instance& i) { return !i.exited; });
  }
  void WaitUntil(TimePoint deadline) override {
    for (const Instance& i : instances)
      if (!i.exited && i.exit_at) deadline = std::min(deadline, *i.exit_at);
    std::this_thread::sleep_until(deadline);
    waits++;
  }
  bool Interrupted() override { return interrupt_after_first_wait && waits > 0; }
  void ReapExited(const std::function<void(int id, int64_t exit_time)>& exited) override {
    for (size_t n = 0; n < instances.size(); ++n) {
      Instance& i = instances[n];
      if (i.exited || !i.exit_at || Clock::now() < *i.exit_at) continue;
      i.exited = true;
      exited(i.id, history_->Since(*i.exit_at));
    }
  }
  std::optional<int> SlotOf(int) const override { return std::nullopt; }
  bool behind_load_balancer() const override { return false; }
  bool Restart(RunFailure* failure) override {
    restarts.push_back(Clock::now());
    if (restart_fails) {
      *failure = {Verdict::kInfrastructure, "the target exited before it was ready"};
      return false;
    }
    int id = static_cast<int>(instances.size()) + 1;
    instances.push_back({id, {}});
    nemesis->OnTargetReady(id, Clock::now());
    return true;
  }
  RunFailure replacement_failure() const override { return {}; }

 private:
  Instance* Find(int id) {
    for (Instance& i : instances)
      if (i.id == id) return &i;
    return nullptr;
  }
  History* history_;
  int waits = 0;
};

// A load that runs for `duration`, then ends unless held, as Load does: by
// its own Hold() or by the nemesis (a count fault waiting, a grace
// running); never past `max_duration`.
class FakeLoad : public LoopLoad {
 public:
  FakeLoad(Nemesis* nemesis, Clock::time_point start, Duration duration, Duration max_duration)
      : nemesis_(nemesis), end_(start + duration), max_end_(start + max_duration) {}

  bool finished() const override {
    if (finished_at) return true;
    Clock::time_point now = Clock::now();
    if (now >= max_end_) reached_max_duration = true;
    if (abandoned || reached_max_duration || (now >= end_ && !held_ && !nemesis_->HoldsLoad()))
      finished_at = now;
    return finished_at.has_value();
  }
  void Hold(bool held) override { held_ = held; }
  void Abandon() override { abandoned = true; }

  bool abandoned = false;
  mutable bool reached_max_duration = false;
  mutable std::optional<Clock::time_point> finished_at;

 private:
  Nemesis* nemesis_;
  Clock::time_point end_, max_end_;
  bool held_ = false;
};

Fault SignalAt(Duration at, int signal = SIGTERM) {
  Fault f;
  f.trigger.kind = Trigger::Kind::kAt;
  f.trigger.at = at;
  f.signal = signal;
  return f;
}

Fault SignalAtCompleted(int64_t count) {
  Fault f;
  f.trigger.kind = Trigger::Kind::kCompleted;
  f.trigger.count = count;
  return f;
}

Fault RestartAfterExit(Duration delay) {
  Fault f;
  f.kind = Fault::Kind::kRestart;
  f.restart_delay = delay;
  return f;
}

// The loop, the nemesis, the fake fleet and the fake load of one test.
struct Rig {
  Rig(std::vector<Fault> f, Duration load_duration, Duration max_duration = std::chrono::seconds(5))
      : faults(std::move(f)),
        start(Clock::now()),
        load(&nemesis, start, load_duration, max_duration) {
    fleet.nemesis = &nemesis;
    nemesis.Begin(start);
  }
  EventLoop::End Run(const std::function<void()>& each_turn = [] {}) { return loop.Run(each_turn); }

  std::vector<Fault> faults;
  History history{1};
  FakeFleet fleet{&history};
  Nemesis nemesis{faults, &history, &fleet};
  Clock::time_point start;
  FakeLoad load;
  EventLoop loop{&nemesis, nullptr, &fleet, &load, &history};
};

}  // namespace

TEST_CASE("event loop: a SIGTERM at its time, then the target is gone for good") {
  Rig rig({SignalAt(milliseconds(30))}, milliseconds(10));
  CHECK(rig.Run() == EventLoop::End::kDone);
  REQUIRE(rig.fleet.sent.size() == 1);
  CHECK(rig.fleet.sent[0].signal == SIGTERM);
  CHECK(rig.fleet.sent[0].at >= rig.start + milliseconds(30));
  CHECK(rig.nemesis.records()[0].fired);
  CHECK(rig.fleet.instances[0].exited);
  // Without a restart to wait for, retrying against a closed port proves
  // nothing: the load is abandoned.
  CHECK(rig.load.abandoned);
  CHECK(rig.fleet.restarts.empty());
  CHECK_FALSE(rig.loop.start_failure());
}

TEST_CASE("event loop: the grace runs out and SIGKILL follows") {
  Fault term = SignalAt(milliseconds(0));
  term.grace = milliseconds(40);
  Rig rig({term}, milliseconds(0));
  rig.fleet.exits_on = {SIGKILL};  // ignores SIGTERM
  CHECK(rig.Run() == EventLoop::End::kDone);
  REQUIRE(rig.fleet.sent.size() == 2);
  CHECK(rig.fleet.sent[0].signal == SIGTERM);
  CHECK(rig.fleet.sent[1].signal == SIGKILL);
  CHECK(rig.fleet.sent[1].at - rig.fleet.sent[0].at >= milliseconds(40));
  FaultRecord record = rig.nemesis.records()[0];
  CHECK(record.grace_expired);
  CHECK(record.escalated);
  // Nothing is pending once SIGKILL is out: the loop does not wait for the
  // exit, the teardown reaps it.
  CHECK(rig.fleet.instances[0].exit_at);
}

TEST_CASE("event loop: an exit within the grace is not escalated") {
  Fault term = SignalAt(milliseconds(0));
  term.grace = milliseconds(200);
  Rig rig({term}, milliseconds(0));
  rig.fleet.exit_delay = milliseconds(20);
  CHECK(rig.Run() == EventLoop::End::kDone);
  REQUIRE(rig.fleet.sent.size() == 1);
  CHECK_FALSE(rig.nemesis.records()[0].escalated);
}

TEST_CASE("event loop: a restart after the exit, its delay later") {
  Rig rig({SignalAt(milliseconds(10)), RestartAfterExit(milliseconds(25))}, milliseconds(60));
  CHECK(rig.Run() == EventLoop::End::kDone);
  REQUIRE(rig.fleet.restarts.size() == 1);
  REQUIRE(rig.fleet.instances.size() == 2);
  CHECK(rig.fleet.restarts[0] >= *rig.fleet.instances[0].exit_at + milliseconds(25));
  CHECK_FALSE(rig.fleet.instances[1].exited);
  CHECK(rig.nemesis.records()[1].fired);
  // The restarted instance is judged under load: the load was not abandoned.
  CHECK_FALSE(rig.load.abandoned);
  CHECK(rig.loop.load_end());
}

TEST_CASE("event loop: a restart that fails abandons the load and says why") {
  Rig rig({SignalAt(milliseconds(0)), RestartAfterExit(milliseconds(0))}, milliseconds(60));
  rig.fleet.restart_fails = true;
  CHECK(rig.Run() == EventLoop::End::kDone);
  CHECK(rig.fleet.restarts.size() == 1);
  REQUIRE(rig.loop.start_failure());
  CHECK(rig.loop.start_failure()->verdict == Verdict::kInfrastructure);
  CHECK(rig.load.abandoned);
}

TEST_CASE("event loop: the load is held past its end while a count fault waits") {
  Rig rig({SignalAtCompleted(10)}, milliseconds(20));
  // The clients reach the count only at 60 ms, well past the load's 20 ms.
  Clock::time_point reached = rig.start + milliseconds(60);
  CHECK(rig.Run([&] {
    if (Clock::now() >= reached) rig.nemesis.OnProgress(0, 10);
  }) == EventLoop::End::kDone);
  REQUIRE(rig.fleet.sent.size() == 1);
  CHECK(rig.fleet.sent[0].at >= reached);
  REQUIRE(rig.load.finished_at);
  CHECK(*rig.load.finished_at >= rig.fleet.sent[0].at);
  CHECK_FALSE(rig.load.reached_max_duration);
  REQUIRE(rig.loop.load_end());
  CHECK(*rig.loop.load_end() >= reached);
  CHECK(FaultsCutShortByMaxDuration(rig.nemesis, 10, milliseconds(5000)).empty());
}

TEST_CASE("event loop: load.max_duration ends a hold whose count never comes") {
  Fault fault = SignalAtCompleted(10);
  fault.location = SourceLocation{"cut-short.yaml", 4, 7};
  Rig rig({fault}, milliseconds(20), milliseconds(80));
  CHECK(rig.Run([&] { rig.nemesis.OnProgress(0, 3); }) == EventLoop::End::kDone);
  CHECK(rig.fleet.sent.empty());
  CHECK(rig.load.reached_max_duration);
  REQUIRE(rig.loop.load_end());
  CHECK(*rig.loop.load_end() >= rig.start + milliseconds(80));
  // The run then fails as lastcall's own (exit code 3), not as the target's.
  std::string message = FaultsCutShortByMaxDuration(rig.nemesis, 3, milliseconds(80));
  CHECK(message.find("load.max_duration") != std::string::npos);
  CHECK(message.find("fault 1 (when: {completed: 10}) at cut-short.yaml:4:7") != std::string::npos);
  CHECK(message.find("the count reached 3") != std::string::npos);
}

TEST_CASE("event loop: an interrupt ends it at the next wake-up") {
  Rig rig({SignalAt(std::chrono::seconds(10))}, std::chrono::seconds(10));
  rig.fleet.interrupt_after_first_wait = true;
  CHECK(rig.Run() == EventLoop::End::kInterrupted);
  CHECK(rig.fleet.sent.empty());
}
