#include "run/nemesis.h"

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
    Recipient to;
  };
  std::vector<Sent> sent;
  int running = 1;  // the current instance; 0 when none
  int wakes = 0;
  int Deliver(int instance, int signal, Recipient to) override {
    int target = instance == 0 ? running : instance;
    if (target == 0 || target != running) return 0;
    if (signal != 0) sent.push_back({target, signal, to});
    return target;
  }
  void Wake() override { ++wakes; }
};

// A nemesis over `faults` against a FakeTarget, with its history.
struct Rig {
  explicit Rig(std::vector<Fault> f) : faults(std::move(f)) {}
  std::vector<Fault> faults;
  History history{1};
  FakeTarget target;
  Nemesis nemesis{faults, &history, &target};
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
  faults[0].to = Recipient::kGroup;
  Rig rig(faults);
  rig.nemesis.Begin(std::chrono::steady_clock::now());
  rig.nemesis.OnProgress(2, 50);  // the second fault is not armed yet
  CHECK(rig.target.sent.empty());
  rig.nemesis.OnProgress(3, 50);
  REQUIRE(rig.target.sent.size() == 1);  // the first fires, arming the second...
  rig.nemesis.OnProgress(3, 51);         // ...which holds at the next progress
  REQUIRE(rig.target.sent.size() == 2);
  rig.nemesis.OnProgress(3, 52);  // each fires once
  CHECK(rig.target.sent.size() == 2);
  CHECK(rig.target.sent[0].signal == SIGTERM);
  CHECK(rig.target.sent[0].to == Recipient::kGroup);
  CHECK(rig.target.sent[1].signal == SIGINT);
  std::vector<FaultRecord> records = rig.nemesis.records();
  CHECK(records[0].fired);
  CHECK(records[0].delivery_time >= records[0].trigger_time);
  CHECK(records[1].instance == 1);
}

TEST_CASE("in_flight counted by the kernel: what the clients wrote does not fire it") {
  Rig rig({SignalFault(Trigger::Kind::kInFlight, 3)});
  rig.nemesis.CountInFlightByKernel();
  rig.nemesis.Begin(std::chrono::steady_clock::now());
  rig.nemesis.OnProgress(16, 0);  // 16 written, none read yet
  CHECK(rig.target.sent.empty());
  rig.nemesis.OnInFlight(2);
  CHECK(rig.target.sent.empty());
  rig.nemesis.OnInFlight(3);
  CHECK(rig.target.sent.size() == 1);
}

TEST_CASE("the load is held while a count trigger waits and while a drain lasts") {
  Fault at;
  at.trigger.kind = Trigger::Kind::kAt;
  at.trigger.at = milliseconds(0);
  Fault restart;
  restart.kind = Fault::Kind::kRestart;
  Rig rig({SignalFault(Trigger::Kind::kCompleted, 5), restart,
           SignalFault(Trigger::Kind::kCompleted, 10, SIGKILL)});
  rig.nemesis.Begin(std::chrono::steady_clock::now());
  CHECK(rig.nemesis.HoldsLoad());  // fault 1 waits for its count
  rig.nemesis.OnProgress(0, 5);
  REQUIRE(rig.target.sent.size() == 1);
  CHECK(rig.nemesis.HoldsLoad());  // instance 1 drains, and fault 3 waits
  rig.nemesis.OnTargetExit(1, rig.history.Now());
  CHECK(rig.nemesis.HoldsLoad());  // the restart's new instance is not ready
  rig.target.running = 2;
  rig.nemesis.OnTargetReady(2, std::chrono::steady_clock::now());
  CHECK(rig.nemesis.HoldsLoad());  // fault 3 still waits
  CHECK(rig.nemesis.UnfiredCountFaults(7) ==
        std::vector<std::string>{"fault 3 (when: {completed: 10}) at : the count reached 7"});
  rig.nemesis.OnProgress(0, 10);
  REQUIRE(rig.target.sent.size() == 2);
  CHECK_FALSE(rig.nemesis.HoldsLoad());  // KILL starts no drain
  CHECK(rig.nemesis.UnfiredCountFaults(10).empty());

  Rig timed({at});
  timed.nemesis.Begin(std::chrono::steady_clock::now());
  CHECK_FALSE(timed.nemesis.HoldsLoad());
  timed.nemesis.OnTick();
  REQUIRE(timed.target.sent.size() == 1);
  CHECK(timed.nemesis.HoldsLoad());  // TERM: its drain is judged under load
  timed.nemesis.OnTargetExit(1, timed.history.Now());
  CHECK_FALSE(timed.nemesis.HoldsLoad());
}

TEST_CASE("an at trigger fires from OnTick once its time has come") {
  Fault f;
  f.trigger.kind = Trigger::Kind::kAt;
  f.trigger.at = milliseconds(20);
  Rig rig({f});
  auto start = std::chrono::steady_clock::now();
  rig.nemesis.Begin(start);
  CHECK(rig.nemesis.NextDeadline() == start + milliseconds(20));
  rig.nemesis.OnTick();
  CHECK(rig.target.sent.empty());
  CHECK(rig.nemesis.Pending(true, true));
  std::this_thread::sleep_until(start + milliseconds(20));
  rig.nemesis.OnTick();
  CHECK(rig.target.sent.size() == 1);
}

TEST_CASE("grace runs out: SIGKILL to the same recipient, and an exit cancels it") {
  Fault f = SignalFault(Trigger::Kind::kInFlight, 1);
  f.grace = milliseconds(0);
  f.to = f.escalate_to = Recipient::kGroup;
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
  CHECK(target.sent[1].to == Recipient::kGroup);
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
  Rig rig({kill, restart});
  rig.nemesis.Begin(std::chrono::steady_clock::now());
  rig.nemesis.OnProgress(0, 5);
  REQUIRE(rig.target.sent.size() == 1);
  CHECK(rig.target.sent[0].signal == SIGKILL);  // no grace for KILL
  CHECK(rig.nemesis.Pending(true, true));       // waiting for the exit
  std::optional<Duration> delay = rig.nemesis.OnTargetExit(1, rig.history.Now());
  REQUIRE(delay);
  CHECK(*delay == milliseconds(100));
  CHECK(rig.nemesis.records()[1].fired);
  CHECK_FALSE(rig.nemesis.Pending(true, false));
}

TEST_CASE("a count met while a deploy's new instance starts waits until it is ready") {
  Fault kill = SignalFault(Trigger::Kind::kCompleted, 5, SIGKILL);
  Fault restart;
  restart.kind = Fault::Kind::kRestart;
  Rig rig({kill, restart, SignalFault(Trigger::Kind::kCompleted, 3, SIGKILL)});
  rig.nemesis.Begin(std::chrono::steady_clock::now());
  rig.nemesis.OnProgress(0, 5);
  REQUIRE(rig.nemesis.OnTargetExit(1, rig.history.Now()));
  rig.target.running = 2;
  rig.nemesis.OnProgress(1, 6);  // a client sends, to an instance not ready
  CHECK(rig.target.sent.size() == 1);
  rig.nemesis.OnTargetReady(2, std::chrono::steady_clock::now());
  rig.nemesis.OnProgress(1, 6);
  REQUIRE(rig.target.sent.size() == 2);
  CHECK(rig.target.sent[1].instance == 2);
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

TEST_CASE("a log trigger fires on the first matching line once armed") {
  Fault f;
  f.trigger.kind = Trigger::Kind::kLog;
  f.trigger.text = "draining [0-9]+ requests";
  Rig rig({f});
  rig.nemesis.OnOutputLine("draining 3 requests");  // before Begin: not armed
  CHECK(rig.target.sent.empty());
  rig.nemesis.Begin(std::chrono::steady_clock::now());
  rig.nemesis.OnOutputLine("listening on 8080");
  CHECK(rig.target.sent.empty());
  rig.nemesis.OnOutputLine("status: draining 12 requests now");
  CHECK(rig.target.sent.size() == 1);
  rig.nemesis.OnOutputLine("draining 3 requests");  // fired once
  CHECK(rig.target.sent.size() == 1);
}

TEST_CASE("a database condition is offered to the watch and fires once") {
  Fault db;
  db.trigger.kind = Trigger::Kind::kDbTransactionsOpen;
  db.trigger.count = 2;
  Fault sql;
  sql.trigger.kind = Trigger::Kind::kSql;
  sql.trigger.text = "SELECT true";
  Rig rig({db, sql});
  CHECK_FALSE(rig.nemesis.ArmedDatabaseCondition());  // not begun
  rig.nemesis.Begin(std::chrono::steady_clock::now());
  std::optional<DatabaseCondition> armed = rig.nemesis.ArmedDatabaseCondition();
  REQUIRE(armed);
  CHECK(armed->fault == 0);
  CHECK(armed->trigger.count == 2);
  CHECK_FALSE(rig.nemesis.FireIfArmed(1, rig.history.Now()));  // not the armed one
  CHECK(rig.nemesis.FireIfArmed(0, rig.history.Now()));
  rig.nemesis.NoteDatabasePolls(0, 1, 120.0);
  CHECK(rig.nemesis.records()[0].transactions_at_delivery == 1);
  CHECK(rig.nemesis.records()[0].poll_interval_us == 120.0);
  armed = rig.nemesis.ArmedDatabaseCondition();
  REQUIRE(armed);
  CHECK(armed->fault == 1);
  CHECK(rig.nemesis.FireIfArmed(1, rig.history.Now()));
  CHECK_FALSE(rig.nemesis.ArmedDatabaseCondition());
  CHECK(rig.target.sent.size() == 2);
}

TEST_CASE("a deploy after the first counts from the new instance being ready") {
  Fault term;
  term.trigger.at = milliseconds(10);
  Fault restart;
  restart.kind = Fault::Kind::kRestart;
  Fault second = term;
  second.trigger.since_ready = true;
  Rig rig({term, restart, second});
  auto start = std::chrono::steady_clock::now();
  rig.nemesis.Begin(start);
  CHECK(rig.nemesis.NextDeadline() == start + milliseconds(10));
  std::this_thread::sleep_until(start + milliseconds(10));
  rig.nemesis.OnTick();
  REQUIRE(rig.target.sent.size() == 1);
  REQUIRE(rig.nemesis.OnTargetExit(1, rig.history.Now()));
  // Not due until the new instance is ready, however late that is.
  CHECK(rig.nemesis.NextDeadline() == std::chrono::steady_clock::time_point::max());
  rig.target.running = 2;
  auto ready = std::chrono::steady_clock::now();
  rig.nemesis.OnTargetReady(2, ready);
  CHECK(rig.nemesis.NextDeadline() == ready + milliseconds(10));
}

TEST_CASE("a sender that never escalates: grace expires, nothing is sent") {
  Fault f = SignalFault(Trigger::Kind::kInFlight, 1, SIGINT);
  f.grace = milliseconds(0);
  f.escalation_signal = 0;
  Rig rig({f});
  rig.nemesis.Begin(std::chrono::steady_clock::now());
  rig.nemesis.OnProgress(1, 0);
  rig.nemesis.OnTick();
  CHECK(rig.target.sent.size() == 1);  // the INT only
  CHECK(rig.nemesis.records()[0].grace_expired);
  CHECK_FALSE(rig.nemesis.records()[0].escalated);
}

TEST_CASE("signals in `also` follow the first to the same recipient") {
  Fault f = SignalFault(Trigger::Kind::kInFlight, 1);
  f.to = Recipient::kAll;
  f.also = {SIGCONT};
  Rig rig({f});
  rig.nemesis.Begin(std::chrono::steady_clock::now());
  rig.nemesis.OnProgress(1, 0);
  REQUIRE(rig.target.sent.size() == 2);
  CHECK(rig.target.sent[0].signal == SIGTERM);
  CHECK(rig.target.sent[1].signal == SIGCONT);
  CHECK(rig.target.sent[1].to == Recipient::kAll);
}

TEST_CASE("random triggers: drawn from the seed, within bounds, reproducible") {
  Fault f;
  f.trigger.kind = Trigger::Kind::kRandom;
  f.trigger.random_min = milliseconds(200);
  f.trigger.random_max = milliseconds(3000);
  std::vector<Fault> a(8, f), b(8, f), c(8, f);
  DrawRandomTriggers(42, &a);
  DrawRandomTriggers(42, &b);
  DrawRandomTriggers(43, &c);
  int differs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].trigger.kind == Trigger::Kind::kAt);
    CHECK(a[i].trigger.at >= milliseconds(200));
    CHECK(a[i].trigger.at <= milliseconds(3000));
    CHECK(a[i].trigger.at == b[i].trigger.at);
    differs += a[i].trigger.at != c[i].trigger.at;
    if (i > 0) CHECK(a[i].trigger.at != a[0].trigger.at);  // per position
  }
  CHECK(differs == 8);
}
