#include <csignal>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "scenario/scenario.h"
#include "scenario/scenario_test_support.h"

namespace lastcall {
namespace {

using std::chrono::milliseconds;

TEST_CASE("target.command", "[scenario]") {
  CHECK(Error("target:\n"
              "  command: server --port 8080\n") ==
        "s.yaml:2:12: target.command must be a list, got \"server --port "
        "8080\"");
  CHECK(Error("target:\n"
              "  command: []\n") == "s.yaml:2:12: target.command must not be empty");
  CHECK(Error("target:\n"
              "  command: [x, {a: b}]\n") ==
        "s.yaml:2:16: target.command[1] must be a string, got a map");
  CHECK(Error("target:\n"
              "  command: [x, --port, \"${prot}\"]\n") ==
        "s.yaml:2:24: target.command[2]: unknown variable ${prot} (did you "
        "mean ${port}?)");
  CHECK(Error("target:\n"
              "  command: [x, \"--id=${key}\"]\n") ==
        "s.yaml:2:16: target.command[1]: request variables (${key}, ${from}, "
        "${to}, ${amount}, ${seq}) exist only inside load.request");
}

TEST_CASE("target.env", "[scenario]") {
  REQUIRE(setenv("LASTCALL_SCENARIO_TEST_HOME", "/home/x", 1) == 0);
  Scenario s = Parse(
      "target:\n"
      "  command: [x]\n"
      "  env:\n"
      "    PORT: ${port}\n"
      "    HOME: ${env.LASTCALL_SCENARIO_TEST_HOME}\n"
      "    PRICE: $${not_a_variable}\n"
      "    WORKERS: 4\n");
  // Raw strings are kept: substitution happens at run time.
  CHECK(s.target.env ==
        std::map<std::string, std::string>{{"PORT", "${port}"},
                                           {"HOME", "${env.LASTCALL_SCENARIO_TEST_HOME}"},
                                           {"PRICE", "$${not_a_variable}"},
                                           {"WORKERS", "4"}});
  unsetenv("LASTCALL_SCENARIO_TEST_HOME");

  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  env: [A=b]\n") == "s.yaml:3:8: target.env must be a map, got a list");
  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  env: {URL: \"http://localhost:${port\"}\n") ==
        "s.yaml:3:14: target.env.URL: unterminated ${");
  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  env: {HOME: \"${env.LASTCALL_SCENARIO_TEST_HOME}\"}\n") ==
        "s.yaml:3:15: target.env.HOME: environment variable "
        "LASTCALL_SCENARIO_TEST_HOME is not set "
        "(${env.LASTCALL_SCENARIO_TEST_HOME})");
}

TEST_CASE("target.ready", "[scenario]") {
  Scenario s = Parse(
      "target:\n"
      "  command: [x]\n"
      "  ready: {log: \"listening on [0-9]+\", timeout: 1.5s}\n");
  CHECK(s.target.ready.kind == ReadyProbe::Kind::kLog);
  CHECK(s.target.ready.log_regex == "listening on [0-9]+");
  CHECK(s.target.ready.timeout == milliseconds(1500));
  s = Parse(
      "target:\n"
      "  command: [x]\n"
      "  ready: {tcp: true}\n");
  CHECK(s.target.ready.kind == ReadyProbe::Kind::kTcp);
  s = Parse(
      "target:\n"
      "  command: [x]\n"
      "  ready: {http: /readyz}\n");
  CHECK(s.target.ready.kind == ReadyProbe::Kind::kHttp);
  CHECK(s.target.ready.http_path == "/readyz");

  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  ready: {http: /healthz, tcp: true}\n") ==
        "s.yaml:3:3: target.ready takes only one of http, log and tcp");
  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  ready: {http: healthz}\n") ==
        "s.yaml:3:17: target.ready.http must be a path starting with /, got "
        "\"healthz\"");
  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  ready: {tcp: false}\n") ==
        "s.yaml:3:16: target.ready.tcp must be true, got \"false\"");
  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  ready: {timeout: 0s}\n") ==
        "s.yaml:3:20: target.ready.timeout must be greater than 0, got "
        "\"0s\"");
  std::string error = Error(
      "target:\n"
      "  command: [x]\n"
      "  ready: {log: \"listening (on\"}\n");
  CHECK_THAT(error, Catch::StartsWith("s.yaml:3:16: target.ready.log is not "
                                      "a valid regular expression: "));
}

TEST_CASE("target.clean_exit", "[scenario]") {
  Scenario s = Parse(
      "target:\n"
      "  command: [x]\n"
      "  clean_exit: [0, 143, SIGTERM, int]\n");
  CHECK(s.target.clean_exit ==
        std::vector<ExitStatus>{{false, 0}, {false, 143}, {true, SIGTERM}, {true, SIGINT}});
  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  clean_exit: [0, SIGFOO]\n") ==
        "s.yaml:3:19: target.clean_exit[1] must be an exit code (0-255) or a "
        "signal such as SIGTERM, got \"SIGFOO\"");
  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  clean_exit: [256]\n") ==
        "s.yaml:3:16: target.clean_exit[0] must be an exit code (0-255) or a "
        "signal such as SIGTERM, got 256");
  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  clean_exit: []\n") ==
        "s.yaml:3:15: target.clean_exit must list at least one status");
  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  instances: 0\n") ==
        "s.yaml:3:14: target.instances must be a positive integer, got 0");
}

TEST_CASE("target.container", "[scenario]") {
  Scenario s = Parse(
      "target:\n"
      "  command: [server]\n"
      "  container: true\n");
  CHECK(s.target.container);
}

}  // namespace
}  // namespace lastcall
