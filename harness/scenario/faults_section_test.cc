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

TEST_CASE("Signal faults", "[scenario]") {
  Scenario s = Parse(
      "faults:\n"
      "  - {at: 0s, signal: sigint, to: group, grace: 0s}\n"
      "  - {when: {completed: 100}, signal: 9}\n"
      "  - at: 1.5s\n");
  REQUIRE(s.faults.size() == 3);
  CHECK(s.faults[0].trigger.kind == Trigger::Kind::kAt);
  CHECK(s.faults[0].trigger.at == Duration(0));
  CHECK(s.faults[0].signal == SIGINT);
  CHECK(s.faults[0].to == Recipient::kGroup);
  CHECK(s.faults[0].grace == Duration(0));
  CHECK(s.faults[1].trigger.kind == Trigger::Kind::kCompleted);
  CHECK(s.faults[1].trigger.count == 100);
  CHECK(s.faults[1].signal == SIGKILL);
  CHECK(s.faults[2].trigger.at == milliseconds(1500));
  CHECK(s.faults[2].signal == SIGTERM);
  CHECK(s.faults[2].grace == seconds(30));
  CHECK(s.faults[2].location.ToString() == "s.yaml:4:5");

  CHECK(Error("faults: {at: 1s}\n") == "s.yaml:1:9: faults must be a list, got a map");
  CHECK(Error("faults: [TERM]\n") == "s.yaml:1:10: faults[0] must be a map, got \"TERM\"");
  CHECK(Error("faults:\n"
              "  - signal: TERM\n") ==
        "s.yaml:2:5: faults[0] needs a trigger (at, random or when), or after_exit");
  CHECK(Error("faults:\n"
              "  - at: 1s\n"
              "    when: {completed: 3}\n") ==
        "s.yaml:3:5: faults[0] has both at and when; a fault has exactly one "
        "trigger");
  CHECK(Error("faults:\n"
              "  - at: soon\n") ==
        "s.yaml:2:9: faults[0].at must be a duration such as 250ms, 1.5s or "
        "1m, got \"soon\"");
  CHECK(Error("faults:\n"
              "  - {at: 1s, signal: TREM}\n") ==
        "s.yaml:2:22: faults[0].signal must be a signal such as TERM, INT or "
        "KILL, got \"TREM\" (did you mean 'TERM'?)");
  CHECK(Error("faults:\n"
              "  - {at: 1s, to: grop}\n") ==
        "s.yaml:2:18: faults[0].to must be process, group, tree or all, got \"grop\" "
        "(did you mean 'group'?)");
  CHECK(Error("faults:\n"
              "  - {at: 1s, grace: -1s}\n") ==
        "s.yaml:2:21: faults[0].grace must be a duration such as 250ms, 1.5s "
        "or 1m, got \"-1s\"");
}

TEST_CASE("when triggers", "[scenario]") {
  CHECK(Error("faults:\n"
              "  - when: {}\n") ==
        "s.yaml:2:11: faults[0].when must have exactly one condition: "
        "in_flight, completed, db_transactions_open, log or sql");
  CHECK(Error("faults:\n"
              "  - when: {in_flight: 1, completed: 1}\n") ==
        "s.yaml:2:11: faults[0].when must have exactly one condition: "
        "in_flight, completed, db_transactions_open, log or sql");
  CHECK(Error("faults:\n"
              "  - when: {completed: 0}\n") ==
        "s.yaml:2:23: faults[0].when.completed must be a positive integer, "
        "got 0");
  // At most load.clients requests can be in flight at once.
  CHECK(Error("load:\n"
              "  clients: 16\n"
              "  duration: 1s\n"
              "faults:\n"
              "  - at: 1s\n"
              "  - when: {in_flight: 32}\n") ==
        "s.yaml:6:23: faults[1].when.in_flight 32 can never fire: at most 16 "
        "requests are in flight (load.clients)");
  Scenario s = Parse(
      "load: {clients: 4, duration: 1s}\n"
      "faults: [{when: {in_flight: 4}}]\n");
  CHECK(s.faults[0].trigger.kind == Trigger::Kind::kInFlight);
  CHECK(s.faults[0].trigger.count == 4);
}

TEST_CASE("after_exit faults", "[scenario]") {
  Scenario s = Parse(
      "faults:\n"
      "  - at: 1s\n"
      "  - after_exit: {restart: true}\n"
      "  - after_exit: {restart: yes, delay: 0ms}\n");
  REQUIRE(s.faults.size() == 3);
  CHECK(s.faults[1].kind == Fault::Kind::kRestart);
  CHECK(s.faults[1].restart_delay == Duration(0));
  CHECK(s.faults[2].kind == Fault::Kind::kRestart);

  CHECK(Error("faults:\n"
              "  - after_exit: {restart: true}\n"
              "    signal: TERM\n") ==
        "s.yaml:3:5: faults[0].signal does not apply to an after_exit fault");
  CHECK(Error("faults:\n"
              "  - after_exit: {restart: true}\n"
              "    at: 1s\n") == "s.yaml:3:5: faults[0].at does not apply to an after_exit fault");
  CHECK(Error("faults:\n"
              "  - after_exit: {delay: 1s}\n") ==
        "s.yaml:2:5: faults[0].after_exit.restart is required");
  CHECK(Error("faults:\n"
              "  - after_exit: {restart: false}\n") ==
        "s.yaml:2:27: faults[0].after_exit.restart must be true: restarting "
        "is the only action after exit");
  CHECK(Error("faults:\n"
              "  - after_exit: {restart: true, delay: later}\n") ==
        "s.yaml:2:40: faults[0].after_exit.delay must be a duration such as "
        "250ms, 1.5s or 1m, got \"later\"");
}

TEST_CASE("Triggers db_transactions_open log sql and random", "[scenario]") {
  Scenario s = Parse(
      "faults:\n"
      "  - when: {db_transactions_open: 2}\n"
      "  - when: {log: 'draining \\d+'}\n"
      "  - when: {sql: SELECT count(*) > 3 FROM ledger}\n"
      "  - random: {between: [200ms, 3s]}\n");
  REQUIRE(s.faults.size() == 4);
  CHECK(s.faults[0].trigger.kind == Trigger::Kind::kDbTransactionsOpen);
  CHECK(s.faults[0].trigger.count == 2);
  CHECK(s.faults[1].trigger.kind == Trigger::Kind::kLog);
  CHECK(s.faults[1].trigger.text == "draining \\d+");
  CHECK(s.faults[2].trigger.kind == Trigger::Kind::kSql);
  CHECK(s.faults[2].trigger.text == "SELECT count(*) > 3 FROM ledger");
  CHECK(s.faults[3].trigger.kind == Trigger::Kind::kRandom);
  CHECK(s.faults[3].trigger.random_min == milliseconds(200));
  CHECK(s.faults[3].trigger.random_max == seconds(3));

  CHECK(Error("faults:\n"
              "  - when: {log: '(unclosed'}\n") ==
        "s.yaml:2:17: faults[0].when.log is not a valid regular expression: "
        "Mismatched '(' and ')' in regular expression");
  CHECK(Error("faults:\n"
              "  - when: {sql: ''}\n") == "s.yaml:2:17: faults[0].when.sql must not be empty");
  CHECK(Error("faults:\n"
              "  - when: {db_transactions_open: 0}\n") ==
        "s.yaml:2:34: faults[0].when.db_transactions_open must be a positive "
        "integer, got 0");
  CHECK(Error("faults:\n"
              "  - random: {between: [3s, 1s]}\n") ==
        "s.yaml:2:23: faults[0].random.between: min is greater than max");
  CHECK(Error("faults:\n"
              "  - random: {between: [1s]}\n") ==
        "s.yaml:2:23: faults[0].random.between must be [min, max]");
  CHECK(Error("faults:\n"
              "  - {at: 1s, random: {between: [1s, 2s]}}\n") ==
        "s.yaml:2:14: faults[0] has both at and random; a fault has exactly one "
        "trigger");
}

TEST_CASE("Sender presets set signal recipient grace and escalation", "[scenario]") {
  Scenario s = Parse(
      "faults:\n"
      "  - {at: 1s, sender: kubernetes}\n"
      "  - {at: 1s, sender: pm2, grace: 5s}\n"
      "  - {at: 1s, sender: systemd}\n"
      "  - {at: 1s, sender: ctrl-c}\n"
      "  - {at: 1s, sender: docker, signal: QUIT, to: group,\n"
      "     escalation: {signal: KILL, to: process}}\n");
  REQUIRE(s.faults.size() == 5);
  const Fault& k8s = s.faults[0];
  CHECK(k8s.sender == "kubernetes");
  CHECK(k8s.signal == SIGTERM);
  CHECK(k8s.to == Recipient::kProcess);
  CHECK(k8s.grace == seconds(30));
  CHECK(k8s.escalation_signal == SIGKILL);
  CHECK(k8s.escalate_to == Recipient::kAll);
  const Fault& pm2 = s.faults[1];
  CHECK(pm2.signal == SIGINT);
  CHECK(pm2.to == Recipient::kTree);
  CHECK(pm2.grace == seconds(5));  // overridden
  CHECK(pm2.escalate_to == Recipient::kTree);
  const Fault& systemd = s.faults[2];
  CHECK(systemd.to == Recipient::kAll);
  CHECK(systemd.also == std::vector<int>{SIGCONT});
  CHECK(systemd.grace == seconds(90));
  const Fault& ctrl_c = s.faults[3];
  CHECK(ctrl_c.signal == SIGINT);
  CHECK(ctrl_c.to == Recipient::kGroup);
  CHECK(ctrl_c.escalation_signal == 0);
  const Fault& docker = s.faults[4];
  CHECK(docker.signal == SIGQUIT);
  CHECK(docker.to == Recipient::kGroup);
  CHECK(docker.grace == seconds(10));
  CHECK(docker.escalate_to == Recipient::kProcess);

  // A top-level sender is every fault's default; a fault's own wins.
  Scenario top = Parse(
      "sender: nomad\n"
      "faults:\n"
      "  - {at: 1s}\n"
      "  - {at: 2s, sender: heroku}\n"
      "  - {at: 3s, escalation: none}\n");
  CHECK(top.faults[0].signal == SIGINT);
  CHECK(top.faults[0].grace == seconds(5));
  CHECK(top.faults[1].to == Recipient::kAll);
  CHECK(top.faults[2].escalation_signal == 0);

  CHECK(Error("faults:\n"
              "  - {at: 1s, sender: kubernets}\n") ==
        "s.yaml:2:22: unknown sender 'kubernets' in faults[0].sender "
        "(did you mean 'kubernetes'?)");
  CHECK(Error("faults:\n"
              "  - {at: 1s, to: everyone}\n") ==
        "s.yaml:2:18: faults[0].to must be process, group, tree or all, got "
        "\"everyone\"");
  CHECK(Error("faults:\n"
              "  - {at: 1s, escalation: never}\n") ==
        "s.yaml:2:26: faults[0].escalation must be none or {signal: KILL, to: "
        "process|group|tree|all}, got \"never\"");
  // Without a preset the escalation follows the signal's recipient.
  Scenario plain = Parse(
      "faults:\n"
      "  - {at: 1s, to: tree}\n");
  CHECK(plain.faults[0].escalate_to == Recipient::kTree);
}

TEST_CASE("deploys N expands to N signal-exit-restart steps", "[scenario]") {
  Scenario s = Parse(
      "faults:\n"
      "  - {at: 500ms, signal: TERM, deploys: 3, restart_delay: 100ms}\n");
  REQUIRE(s.faults.size() == 6);
  for (size_t i = 0; i < 6; i += 2) {
    CHECK(s.faults[i].kind == Fault::Kind::kSignal);
    CHECK(s.faults[i].trigger.at == milliseconds(500));
    CHECK(s.faults[i].trigger.since_ready == (i > 0));
    CHECK(s.faults[i + 1].kind == Fault::Kind::kRestart);
    CHECK(s.faults[i + 1].restart_delay == milliseconds(100));
  }
  CHECK(Error("faults:\n"
              "  - {when: {completed: 5}, deploys: 2}\n") ==
        "s.yaml:2:28: faults[0]: deploys need an `at` trigger (each deploy "
        "after the first fires that long after the new instance is ready)");
  CHECK(Error("faults:\n"
              "  - {after_exit: {restart: true}, signal: TERM}\n") ==
        "s.yaml:2:35: faults[0].signal does not apply to an after_exit fault");
}

}  // namespace
}  // namespace lastcall
