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

TEST_CASE("Several instances put HAProxy in front with its defaults", "[scenario]") {
  Scenario s = Parse(
      "target:\n"
      "  command: [x]\n"
      "  instances: 3\n");
  CHECK(s.target.instances == 3);
  CHECK(s.load_balancer.enabled);
  CHECK(s.load_balancer.check_path == "/readyz");
  CHECK(s.load_balancer.check_interval == seconds(2));
  CHECK(s.load_balancer.rise == 2);
  CHECK(s.load_balancer.fall == 3);
  CHECK(s.load_balancer.retries == 0);
  CHECK_FALSE(s.load_balancer.rolling_restart.enabled);
  CHECK_FALSE(Parse("target: {command: [x]}\n").load_balancer.enabled);
}

TEST_CASE("A rolling restart behind the load balancer", "[scenario]") {
  Scenario s = Parse(
      "load_balancer:\n"
      "  check: {path: /ready, interval: 100ms, rise: 1, fall: 2}\n"
      "  retries: 2\n"
      "  redispatch: true\n"
      "  rolling_restart:\n"
      "    at: 300ms\n"
      "    deregister: pre_stop\n"
      "    pre_stop: 500ms\n"
      "    propagation: 200ms\n"
      "    signal: INT\n"
      "    grace: 5s\n"
      "    allowed_client_errors: 3\n");
  const LoadBalancerSpec& lb = s.load_balancer;
  CHECK(lb.enabled);
  CHECK(lb.check_path == "/ready");
  CHECK(lb.check_interval == milliseconds(100));
  CHECK(lb.rise == 1);
  CHECK(lb.fall == 2);
  CHECK(lb.retries == 2);
  CHECK(lb.redispatch);
  const RollingRestart& r = lb.rolling_restart;
  CHECK(r.enabled);
  CHECK(r.at == milliseconds(300));
  CHECK(r.deregister == Deregistration::kPreStop);
  CHECK(r.pre_stop == milliseconds(500));
  CHECK(r.propagation == milliseconds(200));
  CHECK(r.signal == SIGINT);
  CHECK(r.grace == seconds(5));
  CHECK(r.allowed_client_errors == 3);
  CHECK(Parse("load_balancer: {rolling_restart: {deregister: health_checks}}\n")
            .load_balancer.rolling_restart.deregister == Deregistration::kHealthChecks);
  CHECK(Parse("load_balancer: {rolling_restart: {at: 1s}}\n")
            .load_balancer.rolling_restart.deregister == Deregistration::kWithSignal);
}

TEST_CASE("Bad load balancer settings", "[scenario]") {
  CHECK(Error("load_balancer: {chek: {}}\n") ==
        "s.yaml:1:17: unknown key 'chek' in load_balancer (did you mean 'check'?)");
  CHECK(Error("load_balancer: {rolling_restart: {deregister: with_signals}}\n") ==
        "s.yaml:1:47: load_balancer.rolling_restart.deregister must be with_signal, "
        "pre_stop or health_checks, got \"with_signals\" (did you mean 'with_signal'?)");
  CHECK(Error("load_balancer: {rolling_restart: {pre_stop: 1s}}\n") ==
        "s.yaml:1:35: load_balancer.rolling_restart: pre_stop goes with deregister: "
        "pre_stop, and only with it");
  CHECK(Error("load_balancer: {check: {path: readyz}}\n") ==
        "s.yaml:1:31: load_balancer.check.path must be a path starting with / and "
        "without spaces, got \"readyz\"");
  CHECK(Error("load_balancer: {check: {rise: 0}}\n") ==
        "s.yaml:1:31: load_balancer.check.rise must be a positive integer, got 0");
  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  instances: 101\n") ==
        "s.yaml:3:14: target.instances must be at most 100, got 101");
  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  instances: 2\n"
              "faults:\n"
              "  - at: 1s\n") ==
        "s.yaml:5:5: faults with a load balancer are not supported yet; a deploy is "
        "load_balancer.rolling_restart");
}

}  // namespace
}  // namespace lastcall
