#include "check/checks.h"

#include <algorithm>

#include <catch2/catch.hpp>

using namespace lastcall;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr int64_t kMs = 1000000;

// A hand-made run: one client, a TERM fault delivered at 1 s to instance 1.
struct Fixture {
  Scenario scenario;
  History history{1};
  AuditInputs in;

  Fixture() {
    scenario.seed = 1;
    Fault term;
    term.signal = 15;
    term.grace = seconds(5);
    scenario.faults.push_back(term);
    FaultRecord fired;
    fired.fired = true;
    fired.trigger_time = 1000 * kMs;
    fired.delivery_time = 1000 * kMs;
    fired.instance = 1;
    in.faults.push_back(fired);
    InstanceRecord instance;
    instance.id = 1;
    instance.exit_time = 1500 * kMs;
    instance.exit = ExitStatus{false, 0};
    in.instances.push_back(instance);
    in.leaked_sessions = std::vector<std::string>{};
    in.scenario = &scenario;
    in.history = &history;
  }

  // Adds an attempt for request `seq`; times in ms. Its cause is what
  // the client alone can tell (no kernel record) unless `cause` is given.
  Attempt& Add(int64_t seq, int attempt, int64_t sent_ms, int64_t done_ms, int status,
               NetError error = NetError::kNone, std::optional<Cause> cause = std::nullopt) {
    Attempt a;
    a.seq = seq;
    a.attempt = attempt;
    a.send_start = sent_ms * kMs - kMs / 10;
    a.send_end =
        error == NetError::kRefused || error == NetError::kWriteFailed ? -1 : sent_ms * kMs;
    a.done = done_ms * kMs;
    a.status = status;
    a.error = error;
    a.outcome = Classify(status, error);
    a.cause = cause ? *cause : CauseOf(a, nullptr, nullptr, {});
    history.attempts(0).push_back(a);
    return history.attempts(0).back();
  }
  // audit.applied returns the row (key of `seq`, times).
  void Applied(int64_t seq, int64_t times) {
    in.applied.emplace_back(History::KeyFor(scenario.seed, seq), times);
  }
  // A KILL fault delivered to instance 1 at `ms`.
  void AddKill(int64_t ms) {
    Fault kill;
    kill.signal = 9;
    scenario.faults.push_back(kill);
    FaultRecord fired;
    fired.fired = true;
    fired.delivery_time = ms * kMs;
    fired.instance = 1;
    in.faults.push_back(fired);
  }
  CheckResult Result(const std::string& name) {
    std::vector<CheckResult> results = RunChecks(in);
    auto it = std::find_if(results.begin(), results.end(),
                           [&](const CheckResult& r) { return r.name == name; });
    REQUIRE(it != results.end());
    return *it;
  }
};

}  // namespace

TEST_CASE("lost: acknowledged but not in the database") {
  Fixture f;
  f.Add(0, 1, 100, 110, 201);
  f.Add(1, 1, 100, 110, 201);
  f.Applied(0, 1);
  CheckResult r = f.Result("lost");
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.offending == std::vector<std::string>{"lc-1-1"});
  f.Applied(1, 1);
  CHECK(f.Result("lost").status == CheckStatus::kPass);
}

TEST_CASE("a key's outcome: ok if any attempt was, else unknown if any was") {
  Fixture f;
  f.Add(0, 1, 100, 110, 0, NetError::kReset);  // unknown...
  f.Add(0, 2, 200, 210, 201);                  // ...then acknowledged
  CHECK(f.Result("lost").status == CheckStatus::kFail);
  f.Applied(0, 1);
  CHECK(f.Result("lost").status == CheckStatus::kPass);
  CHECK(f.Result("duplicated").status == CheckStatus::kPass);

  // Timed out (maybe applied), then refused while the server drained: the
  // refusal says nothing about the first attempt, so applied once is no
  // phantom.
  f.Add(1, 1, 100, 150, 0, NetError::kTimeout);
  f.Add(1, 2, 300, 301, 0, NetError::kRefused);
  f.Applied(1, 1);
  CHECK(f.Result("phantom").status == CheckStatus::kPass);
  f.in.applied.pop_back();  // and not applied: unknown is not lost either
  CHECK(f.Result("lost").status == CheckStatus::kPass);
}

TEST_CASE("duplicated: applied more than once") {
  Fixture f;
  f.Add(0, 1, 100, 110, 0, NetError::kTimeout);
  f.Add(0, 2, 200, 210, 201);
  f.Applied(0, 2);
  CheckResult r = f.Result("duplicated");
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.offending == std::vector<std::string>{"lc-1-0 (applied 2x)"});
}

TEST_CASE("duplicated: a key the query returns twice is counted once per row") {
  Fixture f;
  f.Add(0, 1, 100, 110, 201);
  f.Applied(0, 1);
  CHECK(f.Result("duplicated").status == CheckStatus::kPass);
  f.Applied(0, 1);  // e.g. a UNION of two ledgers
  CheckResult r = f.Result("duplicated");
  CHECK(r.offending == std::vector<std::string>{"lc-1-0 (applied 2x)"});
  CHECK(r.summary == "1 of 1 applied keys were applied more than once");
  // Keys that are not the run's are summed as well.
  f.in.applied.emplace_back("made-up", 1);
  f.in.applied.emplace_back("made-up", 2);
  r = f.Result("duplicated");
  CHECK(r.offending == std::vector<std::string>{"lc-1-0 (applied 2x)", "made-up (applied 3x)"});
  CHECK(r.summary == "2 of 2 applied keys were applied more than once");
}

TEST_CASE("phantom: told it failed, but it happened") {
  Fixture f;
  f.Add(0, 1, 100, 110, 422);
  f.Add(1, 1, 100, 110, 0, NetError::kRefused);
  f.Applied(1, 1);
  CHECK(f.Result("phantom").offending == std::vector<std::string>{"lc-1-1"});
  f.in.applied.clear();
  CHECK(f.Result("phantom").status == CheckStatus::kPass);
  f.in.applied.emplace_back("made-up", 1);
  CHECK(f.Result("phantom").offending == std::vector<std::string>{"made-up (never sent)"});
}

TEST_CASE("phantom: a key of this run spelt otherwise was never sent") {
  Fixture f;
  f.Add(0, 1, 100, 110, 422);
  f.in.applied = {{"lc-1-00", 1},  // not how key 0 is written
                  {"lc-2-0", 1},   // another seed
                  {"lc-1-0", 0}};  // ours, not applied
  CHECK(f.Result("phantom").offending ==
        std::vector<std::string>{"lc-1-00 (never sent)", "lc-2-0 (never sent)"});
  f.in.applied.emplace_back("lc-1-0", 1);
  CHECK(f.Result("phantom").offending ==
        std::vector<std::string>{"lc-1-0", "lc-1-00 (never sent)", "lc-2-0 (never sent)"});
}

TEST_CASE("invariants: any returned row is a violation") {
  Fixture f;
  CHECK(f.Result("invariants").status == CheckStatus::kSkipped);
  f.scenario.audit.invariants.push_back({"money is conserved", "SELECT ...", {}});
  f.in.invariants.push_back({"money is conserved", {}, 0});
  CHECK(f.Result("invariants").status == CheckStatus::kPass);
  f.in.invariants[0].rows.push_back("1999880");
  CHECK(f.Result("invariants").offending ==
        std::vector<std::string>{"money is conserved: 1999880"});
  // The rows past those the audit kept count as much.
  f.in.invariants[0].unlisted_rows = 4;
  CheckResult r = f.Result("invariants");
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.OffendingCount() == 5);
  CHECK(r.summary == "5 of 1 invariants violated");
}

TEST_CASE("AppliedFold: the run's keys and a bounded number of others, the rest counted") {
  Fixture f;
  f.Add(0, 1, 100, 110, 201);
  f.Add(1, 1, 100, 110, 422);
  AppliedFold fold(f.scenario.seed, 2, &f.in.applied, &f.in.unkept);
  fold.Add("lc-1-0", 1);
  fold.Add("lc-1-1", 1);
  fold.Add("lc-1-0", 1);  // summed with its first row
  for (size_t i = 0; i < AppliedFold::kForeignKeysKept; ++i) fold.Add("x" + std::to_string(i), 1);
  fold.Add("x0", 1);      // kept: summed
  fold.Add("lc-1-2", 1);  // a seq never sent: a foreign key past the bound
  fold.Add("y", 0);
  fold.Add("z", 2);
  fold.Add("z", 3);  // past the bound, not summed: two rows
  CHECK(f.in.applied.size() == 2 + AppliedFold::kForeignKeysKept);
  CHECK(f.in.applied[0] == std::make_pair(std::string("lc-1-0"), int64_t{2}));
  CHECK(f.in.applied[2] == std::make_pair(std::string("x0"), int64_t{2}));
  CHECK(f.in.unkept.rows == 4);
  CHECK(f.in.unkept.applied == 3);
  CHECK(f.in.unkept.repeated == 2);
  // Counted as phantoms and duplicates, exactly, and said so.
  CheckResult phantom = f.Result("phantom");
  CHECK(phantom.offending.size() == 1 + AppliedFold::kForeignKeysKept);
  CHECK(phantom.unlisted == 3);
  CHECK(phantom.summary.rfind(std::to_string(AppliedFold::kForeignKeysKept + 4) + " of 1 ", 0) ==
        0);
  CHECK(phantom.summary.find("; audit.applied returned 4 more rows of keys lastcall never sent, "
                             "past the first " +
                             std::to_string(AppliedFold::kForeignKeysKept) + " such keys") !=
        std::string::npos);
  CheckResult duplicated = f.Result("duplicated");
  CHECK(duplicated.offending == std::vector<std::string>{"lc-1-0 (applied 2x)", "x0 (applied 2x)"});
  CHECK(duplicated.unlisted == 2);
  CHECK(duplicated.summary.rfind(
            "4 of " + std::to_string(2 + AppliedFold::kForeignKeysKept + 4) + " applied keys", 0) ==
        0);
}

TEST_CASE("drained without a kernel record: in flight at the signal by the settle window") {
  Fixture f;
  f.Add(0, 1, 500, 1200, 201);                   // in flight, answered: fine
  f.Add(1, 1, 600, 900, 201);                    // answered before the signal
  f.Add(2, 1, 998, 1100, 0, NetError::kEof);     // written within settle: excused
  f.Add(3, 1, 1100, 1150, 0, NetError::kReset);  // sent after the signal
  CHECK(f.Result("drained").status == CheckStatus::kPass);
  f.Add(4, 1, 700, 1300, 0, NetError::kEof);  // dropped
  f.Add(5, 1, 800, 1300, 500);                // answered with a 5xx
  CheckResult r = f.Result("drained");
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.offending == std::vector<std::string>{"lc-1-4 attempt 1: eof (no kernel record)",
                                                "lc-1-5 attempt 1: HTTP 500"});
  CHECK(r.summary.find("3 ended without a kernel record, judged by the 5ms window") !=
        std::string::npos);
  f.in.kernel_view_missing = "not permitted";
  CHECK(f.Result("drained").summary.find("no kernel view (not permitted)") != std::string::npos);
}

TEST_CASE("drained: the kernel's cause decides, whenever in the drain the request came") {
  Fixture f;
  // The signal is at 1000 ms, the exit at 1500 ms.
  f.Add(0, 1, 998, 1100, 0, NetError::kReset, Cause::kResetInAcceptQueue);  // never accepted
  f.Add(1, 1, 1100, 1100, 0, NetError::kRefused);                           // listener closed
  f.Add(2, 1, 1200, 1210, 0, NetError::kEof, Cause::kClosedIdleKeepAlive);  // the race
  f.Add(3, 1, 1300, 1310, 503);                                             // clean refusal
  f.Add(4, 1, 1300, 1400, 201);                                             // accepted in the drain
  CheckResult r = f.Result("drained");
  CHECK(r.status == CheckStatus::kPass);
  CHECK(r.summary == "0 of 1 requests the target took during a drain were dropped");
  CheckResult refused = f.Result("refused_while_draining");
  CHECK(refused.summary ==
        "4 requests were never taken during a drain (1 HTTP 503, 1 refused, "
        "1 reset in accept queue, 1 closed idle keep-alive)");
  // Written 1 ms before the signal, read, then dropped: the window would
  // have excused it; the kernel does not.
  f.Add(5, 1, 999, 1100, 0, NetError::kEof, Cause::kDroppedAfterRead);
  // Accepted during the drain, never read, reset when the target exited
  // (gunicorn's quick shutdown).
  f.Add(6, 1, 1200, 1500, 0, NetError::kReset, Cause::kResetUnread);
  r = f.Result("drained");
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.offending == std::vector<std::string>{"lc-1-5 attempt 1: eof (dropped after read)",
                                                "lc-1-6 attempt 1: reset (reset unread)"});
  // After the instance exited, nothing is judged.
  f.Add(7, 1, 1600, 1600, 0, NetError::kReset, Cause::kResetUnread);
  CHECK(f.Result("drained").offending.size() == 2);
}

TEST_CASE("drained: what a KILL fault cut short is not the target's drop") {
  Fixture f;
  f.AddKill(1200);
  f.in.instances[0].exit_time = 1201 * kMs;
  f.Add(0, 1, 1100, 1201, 0, NetError::kEof, Cause::kDroppedAfterRead);
  CHECK(f.Result("drained").status == CheckStatus::kPass);
  f.Add(1, 1, 1000, 1150, 0, NetError::kEof, Cause::kDroppedAfterRead);
  CHECK(f.Result("drained").status == CheckStatus::kFail);
}

TEST_CASE(
    "unannounced_close: a drain-time keep-alive response, then the close under the next "
    "request") {
  Fixture f;
  Attempt& before = f.Add(0, 1, 900, 1100, 201);  // answered during the drain
  before.keep_alive = true;
  before.connection = 3;
  Attempt& next = f.Add(1, 1, 1101, 1200, 0, NetError::kReset, Cause::kClosedAfterKeepAlive);
  next.connection = 3;
  next.reused_connection = true;
  CheckResult r = f.Result("unannounced_close");
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.offending.size() == 1);
  CHECK(r.offending[0] ==
        "lc-1-1 attempt 1: reset (closed after keep-alive response), on "
        "connection 3 kept alive by HTTP 201 at 1.1s");
  CHECK(r.summary.rfind("1 of 1 requests on connections reused during a drain", 0) == 0);
  // drained leaves it to unannounced_close.
  CHECK(f.Result("drained").status == CheckStatus::kPass);

  SECTION("the plain keep-alive race is not this check's") {
    f.history.attempts(0)[1].cause = Cause::kClosedIdleKeepAlive;
    CHECK(f.Result("unannounced_close").status == CheckStatus::kPass);
  }
  SECTION("no reused connection without keep-alive") {
    f.scenario.load.keep_alive = false;
    CHECK(f.Result("unannounced_close").status == CheckStatus::kSkipped);
  }
}

TEST_CASE("drained and exit are skipped without a graceful signal") {
  Fixture f;
  f.scenario.faults[0].signal = 9;
  f.Add(0, 1, 500, 1200, 0, NetError::kReset);
  CHECK(f.Result("drained").status == CheckStatus::kSkipped);
  CHECK(f.Result("exit").status == CheckStatus::kSkipped);
}

TEST_CASE("exit: clean, within grace, without SIGKILL") {
  Fixture f;
  CHECK(f.Result("exit").status == CheckStatus::kPass);

  f.in.instances[0].exit = ExitStatus{false, 1};
  CHECK(f.Result("exit").offending == std::vector<std::string>{"instance 1: exit 1 after TERM"});

  f.in.instances[0].exit = ExitStatus{true, 15};
  CHECK(f.Result("exit").offending ==
        std::vector<std::string>{
            "instance 1: killed by TERM after TERM (the signal was not handled)"});
  f.scenario.target.clean_exit.push_back(ExitStatus{true, 15});
  CHECK(f.Result("exit").status == CheckStatus::kPass);

  f.in.instances[0].exit = ExitStatus{true, 9};
  f.in.faults[0].grace_expired = f.in.faults[0].escalated = true;
  CHECK(f.Result("exit").offending ==
        std::vector<std::string>{"instance 1: still running 5s after TERM, KILL was needed"});

  // A sender that never escalates (a terminal): lastcall stopped it.
  f.in.faults[0].escalated = false;
  f.in.instances[0].exit = ExitStatus{false, 0};
  f.in.instances[0].stopped_by_harness = true;
  CHECK(f.Result("exit").offending ==
        std::vector<std::string>{
            "instance 1: still running 5s after TERM (the sender does not escalate)"});
  f.in.faults[0].grace_expired = false;  // the run ended before the grace did
  CHECK(f.Result("exit").offending ==
        std::vector<std::string>{"instance 1: did not exit by itself after TERM"});
}

TEST_CASE("exit: a KILL fault during the grace period is not the target's fault") {
  Fixture f;
  f.AddKill(1200);
  f.in.instances[0].exit = ExitStatus{true, 9};
  CHECK(f.Result("exit").status == CheckStatus::kSkipped);
}

TEST_CASE("connections_leaked and faults") {
  Fixture f;
  CHECK(f.Result("connections_leaked").status == CheckStatus::kPass);
  f.in.leaked_sessions = std::vector<std::string>{"pid 7 idle: SELECT 1"};
  CHECK(f.Result("connections_leaked").status == CheckStatus::kFail);
  f.in.leaked_sessions.reset();
  CHECK(f.Result("connections_leaked").status == CheckStatus::kSkipped);

  CHECK(f.Result("faults").status == CheckStatus::kPass);
  f.in.faults[0].fired = false;
  CHECK(f.Result("faults").status == CheckStatus::kFail);
}

TEST_CASE("audit.checks limits what runs, what this version cannot check is skipped") {
  Fixture f;
  CHECK(RunChecks(f.in).size() == KnownChecks().size());
  f.scenario.audit.checks = {"lost", "jobs"};
  std::vector<CheckResult> results = RunChecks(f.in);
  REQUIRE(results.size() == 2);
  CHECK(results[0].name == "lost");
  CHECK(results[1].status == CheckStatus::kSkipped);
}

TEST_CASE("expectations") {
  std::vector<CheckResult> results(2);
  results[0].name = "lost";
  results[1].name = "duplicated";
  results[1].status = CheckStatus::kFail;
  std::string why;
  Expectation pass;
  CHECK_FALSE(ExpectationMet(pass, results, &why));
  CHECK(why == "duplicated failed");
  Expectation fail;
  fail.pass = false;
  fail.fail_checks = {"duplicated"};
  CHECK(ExpectationMet(fail, results, &why));
  fail.fail_checks = {"duplicated", "lost"};
  CHECK_FALSE(ExpectationMet(fail, results, &why));
  CHECK(why == "expected lost to fail, it was pass");
}

TEST_CASE("unclean_disconnects: only after a graceful signal, not after SIGKILL") {
  Fixture f;
  f.in.unclean_disconnects = std::vector<UncleanDisconnect>{};
  CHECK(f.Result("unclean_disconnects").status == CheckStatus::kPass);
  f.in.unclean_disconnects->push_back({"lastcall_ab_1", 1, -1, false, "... unexpected EOF"});
  f.in.unclean_disconnects->push_back({"lastcall_ab_2", 2, -1, false, "... of instance 2"});
  CheckResult r = f.Result("unclean_disconnects");
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.offending == std::vector<std::string>{"... unexpected EOF"});
  f.in.faults[0].escalated = true;
  f.in.instances[0].exit = ExitStatus{true, 9};
  CHECK(f.Result("unclean_disconnects").status == CheckStatus::kSkipped);
  f.in.unclean_disconnects.reset();
  CHECK(f.Result("unclean_disconnects").status == CheckStatus::kSkipped);
}

TEST_CASE("transactions_abandoned: any instance that was not SIGKILLed") {
  Fixture f;
  f.in.unclean_disconnects =
      std::vector<UncleanDisconnect>{{"lastcall_ab_1", 1, -1, false, "plain EOF"}};
  CHECK(f.Result("transactions_abandoned").status == CheckStatus::kPass);
  f.in.unclean_disconnects->push_back({"lastcall_ab_1", 1, -1, true, "EOF in a transaction"});
  CHECK(f.Result("transactions_abandoned").offending ==
        std::vector<std::string>{"EOF in a transaction"});
  f.in.instances[0].exit = ExitStatus{true, 9};
  CHECK(f.Result("transactions_abandoned").status == CheckStatus::kSkipped);
}

TEST_CASE("a session under another role is its instance's when only one could have opened it") {
  Fixture f;  // instance 1 ran from 0 to 1.5 s and got a TERM
  f.in.instances[0].start_time = 0;
  f.in.unclean_disconnects = std::vector<UncleanDisconnect>{
      {"postgres", 0, 200 * kMs, false, "EOF of a session opened at 0.2 s"}};
  CHECK(f.Result("unclean_disconnects").status == CheckStatus::kFail);
  // With one instance even the moment is not needed.
  (*f.in.unclean_disconnects)[0].connected = -1;
  CHECK(f.Result("unclean_disconnects").status == CheckStatus::kFail);
}

// Instance 1 got the TERM and exited at 1.5 s; instance 2 ran from 1.6 s
// to 3 s and got no signal (so unclean_disconnects does not judge it).
struct Restarted : Fixture {
  Restarted() {
    in.instances[0].start_time = 0;
    InstanceRecord second;
    second.id = 2;
    second.start_time = 1600 * kMs;
    second.exit_time = 3000 * kMs;
    second.exit = ExitStatus{false, 0};
    in.instances.push_back(second);
    in.unclean_disconnects = std::vector<UncleanDisconnect>{};
  }
};

TEST_CASE("sessions no single instance could have opened: skipped with the reason, not passed") {
  Restarted f;
  // When it connected is unknown: instance 1 or 2.
  f.in.unclean_disconnects->push_back({"postgres", 0, -1, false, "EOF, moment unknown"});
  CheckResult r = f.Result("unclean_disconnects");
  CHECK(r.status == CheckStatus::kSkipped);
  CHECK(r.summary ==
        "1 sessions could not be attributed to an instance: they logged in as postgres, "
        "not as an instance's role, and more than one instance could have opened them");
  f.in.roles_error = "permission denied to create role";
  CHECK(f.Result("unclean_disconnects")
            .summary.find(
                "(instances have no role of their own: permission denied to create role)") !=
        std::string::npos);
  // Each instance was not SIGKILLed: transactions_abandoned judges both.
  (*f.in.unclean_disconnects)[0].open_transaction = true;
  CHECK(f.Result("transactions_abandoned").status == CheckStatus::kSkipped);

  // A failure attributed to a judged instance fails, whatever else is not known.
  f.in.unclean_disconnects->push_back({"lastcall_ab_1", 1, -1, false, "EOF of instance 1"});
  r = f.Result("unclean_disconnects");
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.offending == std::vector<std::string>{"EOF of instance 1"});
  CHECK(r.summary.find("; 1 more not attributed to an instance") != std::string::npos);
}

TEST_CASE("sessions attributed by the moment they connected") {
  Restarted f;
  // While only instance 2 ran, which unclean_disconnects does not judge.
  f.in.unclean_disconnects->push_back({"postgres", 0, 2000 * kMs, false, "EOF of instance 2"});
  CHECK(f.Result("unclean_disconnects").status == CheckStatus::kPass);
  // Between the two: only instance 1, which had started, can have left a
  // process behind to open it.
  f.in.unclean_disconnects->push_back({"postgres", 0, 1550 * kMs, false, "EOF of 1's leftover"});
  CHECK(f.Result("unclean_disconnects").offending ==
        std::vector<std::string>{"EOF of 1's leftover"});
  // Within the clocks' slack of instance 1's exit and instance 2's start
  // at once: either.
  f.in.instances[1].start_time = 1502 * kMs;
  (*f.in.unclean_disconnects)[1].connected = 1503 * kMs;
  CHECK(f.Result("unclean_disconnects").status == CheckStatus::kSkipped);
  // transactions_abandoned: instance 2 SIGKILLed, so only instance 1 is
  // judged; a session only instance 2 could have opened is not counted.
  f.in.unclean_disconnects = std::vector<UncleanDisconnect>{
      {"postgres", 0, 2000 * kMs, true, "EOF in a transaction of instance 2"}};
  f.in.instances[1].exit = ExitStatus{true, 9};
  CHECK(f.Result("transactions_abandoned").status == CheckStatus::kPass);
}

TEST_CASE("orphans and temp_files fail on anything left") {
  Fixture f;
  CHECK(f.Result("orphans").status == CheckStatus::kSkipped);
  CHECK(f.Result("temp_files").status == CheckStatus::kSkipped);
  f.in.orphans = std::vector<std::string>{};
  f.in.temp_files = std::vector<std::string>{};
  CHECK(f.Result("orphans").status == CheckStatus::kPass);
  CHECK(f.Result("temp_files").status == CheckStatus::kPass);
  f.in.orphans->push_back("4242 payment-server --worker");
  f.in.temp_files->push_back("instance 1: receipt-7.json");
  CHECK(f.Result("orphans").offending == std::vector<std::string>{"4242 payment-server --worker"});
  CHECK(f.Result("temp_files").status == CheckStatus::kFail);
}

namespace {

// Jobs job-1-0 .. job-1-(n-1) enqueued, none done, both lists empty.
JobsAudit Enqueued(int n) {
  JobsAudit jobs;
  jobs.processing_list = "jobs:processing";
  for (int i = 0; i < n; ++i) jobs.enqueued.push_back("job-1-" + std::to_string(i));
  return jobs;
}

}  // namespace

TEST_CASE("jobs: each enqueued job took effect once or is still queued") {
  Fixture f;
  CHECK(f.Result("jobs").status == CheckStatus::kSkipped);
  JobsAudit jobs = Enqueued(4);
  jobs.done = {{"job-1-0", 1}, {"job-1-1", 1}};
  jobs.queue = {"job-1-2", "job-1-3"};
  f.in.jobs = jobs;
  CheckResult r = f.Result("jobs");
  CHECK(r.status == CheckStatus::kPass);
  CHECK(r.summary == "4 jobs enqueued, 2 done, 2 still queued: 0 lost, 0 duplicated, 0 stranded");
}

TEST_CASE("jobs: lost and duplicated jobs and effects of jobs never enqueued") {
  Fixture f;
  JobsAudit jobs = Enqueued(3);
  jobs.done = {{"job-1-0", 2}, {"job-1-2", 1}, {"job-9-9", 1}};
  f.in.jobs = jobs;
  CheckResult r = f.Result("jobs");
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.offending ==
        std::vector<std::string>{"job-1-0 (took effect 2x)",
                                 "job-1-1 (lost: never took effect, in neither list)",
                                 "job-9-9 (took effect, never enqueued)"});
}

TEST_CASE("jobs: stranded in the processing list only counts after a graceful end") {
  Fixture f;
  JobsAudit jobs = Enqueued(2);
  jobs.done = {{"job-1-0", 1}};
  jobs.processing = {"job-1-0", "job-1-1"};  // done but never acknowledged; held
  f.in.jobs = jobs;
  CheckResult r = f.Result("jobs");
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.offending == std::vector<std::string>{
                           "job-1-0 (stranded in jobs:processing after a graceful shutdown)",
                           "job-1-1 (stranded in jobs:processing after a graceful shutdown)"});
  // SIGKILLed: nobody could hand them back; a restart would. Not lost either.
  f.in.instances.back().exit = ExitStatus{true, 9};
  r = f.Result("jobs");
  CHECK(r.status == CheckStatus::kPass);
  CHECK(r.summary.find("not judged: the last instance was SIGKILLed") != std::string::npos);
}

namespace {

// A WebSocket connection of client `client`, connected at 100 ms, whose
// server's close frame (code `code`, 0 for none) came at `close_ms`.
WebSocketConnection Socket(int client, int code, int64_t close_ms) {
  WebSocketConnection w;
  w.client = client;
  w.connect_start = 90 * kMs;
  w.connected = 100 * kMs;
  w.messages = 10;
  w.close_frame = code != 0;
  w.close_code = code;
  w.close_time = code ? close_ms * kMs : -1;
  w.ended = close_ms * kMs + kMs;
  w.error = code ? "" : "eof";
  return w;
}

}  // namespace

TEST_CASE("websocket_close: skipped without load.websockets") {
  Fixture f;
  CHECK(f.Result("websocket_close").status == CheckStatus::kSkipped);
  CHECK(f.Result("websocket_close").summary == "the scenario has no load.websockets");
}

TEST_CASE("websocket_close: every socket open at the signal gets 1001") {
  Fixture f;
  f.scenario.load.websockets.clients = 2;
  f.in.instances[0].start_time = 0;
  f.history.AddWebSocket(Socket(0, 1001, 1200));
  f.history.AddWebSocket(Socket(1, 1001, 1250));
  CheckResult r = f.Result("websocket_close");
  CHECK(r.status == CheckStatus::kPass);
  CHECK(r.summary ==
        "0 of 2 WebSocket connections open at a graceful signal were not closed with 1001 "
        "(Going Away); 20 messages received; the last close frame 250.0 ms after the signal");
}

TEST_CASE("websocket_close: no close frame or another code or none at all fail") {
  Fixture f;
  f.scenario.load.websockets.clients = 5;
  f.in.instances[0].start_time = 0;
  f.history.AddWebSocket(Socket(0, 1001, 1200));
  f.history.AddWebSocket(Socket(1, 0, 1400));     // the TCP connection just ended
  f.history.AddWebSocket(Socket(2, 1000, 1300));  // Normal Closure is not Going Away
  WebSocketConnection open = Socket(3, 1000, 3000);
  open.closed_by_lastcall = true;  // the target never closed it
  f.history.AddWebSocket(open);
  WebSocketConnection refused;
  refused.client = 4;
  refused.error = "refused";
  f.history.AddWebSocket(refused);
  CheckResult r = f.Result("websocket_close");
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.offending ==
        std::vector<std::string>{
            "websocket client 1: the TCP connection ended without a close frame (eof) after TERM",
            "websocket client 2: close code 1000 after TERM, not 1001 (Going Away)",
            "websocket client 3: still open at the end of the run after TERM (lastcall closed it)",
            "websocket client 4: never connected (refused)"});
  CHECK(r.summary.rfind("4 of 5 ", 0) == 0);
}

TEST_CASE("websocket_close: what the target was not asked to close is not judged") {
  Fixture f;
  f.scenario.load.websockets.clients = 1;
  f.in.instances[0].start_time = 0;
  // Ended before the signal: not a matter of shutting down.
  f.history.AddWebSocket(Socket(0, 0, 500));
  CHECK(f.Result("websocket_close").status == CheckStatus::kSkipped);

  // Open at the signal, but the instance was SIGKILLed: it could not close.
  Fixture killed;
  killed.scenario.load.websockets.clients = 1;
  killed.in.instances[0].start_time = 0;
  killed.in.instances[0].exit = ExitStatus{true, 9};
  killed.history.AddWebSocket(Socket(0, 0, 1400));
  CHECK(killed.Result("websocket_close").status == CheckStatus::kSkipped);
  killed.in.instances[0].exit = ExitStatus{false, 0};
  CHECK(killed.Result("websocket_close").status == CheckStatus::kFail);
}

TEST_CASE("client_errors: attempts that failed during the rolling restart") {
  Fixture f;
  CHECK(f.Result("client_errors").status == CheckStatus::kSkipped);
  f.scenario.load_balancer.enabled = true;
  f.scenario.load_balancer.rolling_restart.enabled = true;
  CHECK(f.Result("client_errors").summary == "the rolling restart never began");
  f.in.deploy_start = 1000 * kMs;
  f.in.deploy_end = 2000 * kMs;
  f.Add(0, 1, 900, 905, 503);  // before the deploy
  f.Add(1, 1, 1100, 1105, 201);
  f.Add(2, 1, 1200, 1205, 503);                    // a client error...
  f.Add(2, 2, 1300, 1305, 201);                    // ...even when a retry succeeds
  f.Add(3, 1, 1400, 6400, 0, NetError::kTimeout);  // unknown
  f.Add(4, 1, 2100, 2105, 0, NetError::kRefused);  // after the deploy
  CheckResult r = f.Result("client_errors");
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.offending ==
        std::vector<std::string>{"lc-1-2 attempt 1: HTTP 503", "lc-1-3 attempt 1: timeout"});
  CHECK(r.summary ==
        "2 of 4 attempts during the 1.00 s deploy failed or ended unknown "
        "(0 allowed)");
  f.scenario.load_balancer.rolling_restart.allowed_client_errors = 2;
  CHECK(f.Result("client_errors").status == CheckStatus::kPass);
  f.in.deploy_end = -1;
  CHECK(f.Result("client_errors").summary ==
        "3 of 5 attempts during an unfinished deploy failed or ended unknown (2 allowed)");
}
