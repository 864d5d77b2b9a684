#include "scenario/matrix.h"

#include <catch2/catch.hpp>

#include "scenario/scenario.h"

namespace lastcall {
namespace {

// A scenario with every required key, its fault's grace and the server's
// drain timeout taken from a matrix; the lines of interest are numbered.
const char kMatrixScenario[] =
    "matrix:\n"                                      // 1
    "  grace: [1s, 5s, 30s]\n"                       // 2
    "  drain: [500ms, 10s]\n"                        // 3
    "target:\n"                                      // 4
    "  command: [server]\n"                          // 5
    "  env: {DRAIN_TIMEOUT: \"${matrix.drain}\"}\n"  // 6
    "load: {duration: 1s}\n"                         // 7
    "faults:\n"                                      // 8
    "  - {at: 1s, grace: \"${matrix.grace}\"}\n"     // 9
    "audit: {applied: SELECT 1}\n";                  // 10

// The keys every scenario needs, for tests about others.
const std::string kRequired =
    "target: {command: [server]}\nload: {duration: 1s}\naudit: {applied: SELECT 1}\n";

std::vector<Scenario> ParseAll(const std::string& yaml,
                               const std::vector<std::string>& overrides = {}) {
  std::vector<Scenario> scenarios;
  std::string error;
  INFO(yaml);
  CHECK(ParseScenarioText(yaml, "m.yaml", overrides, &scenarios, &error));
  CHECK(error == "");
  return scenarios;
}

std::string ErrorOf(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  std::vector<Scenario> scenarios;
  std::string error;
  INFO(yaml);
  CHECK_FALSE(ParseScenarioText(yaml, "m.yaml", overrides, &scenarios, &error));
  return error;
}

TEST_CASE("A matrix gives one scenario per combination, the first name slowest", "[matrix]") {
  std::vector<Scenario> all = ParseAll(kMatrixScenario);
  REQUIRE(all.size() == 6);
  CHECK(all[0].name == "m/grace=1s,drain=500ms");
  CHECK(all[1].name == "m/grace=1s,drain=10s");
  CHECK(all[5].name == "m/grace=30s,drain=10s");
  CHECK(all[1].matrix == Combination{{"grace", "1s"}, {"drain", "10s"}});
  CHECK(all[1].faults[0].grace == std::chrono::seconds(1));
  CHECK(all[1].target.env.at("DRAIN_TIMEOUT") == "10s");
  CHECK(all[4].faults[0].grace == std::chrono::seconds(30));
  CHECK(all[4].target.env.at("DRAIN_TIMEOUT") == "500ms");
}

TEST_CASE("Without a matrix a file is one scenario, its name unchanged", "[matrix]") {
  std::vector<Scenario> all = ParseAll(kRequired);
  REQUIRE(all.size() == 1);
  CHECK(all[0].name == "m");
  CHECK(all[0].matrix.empty());
}

TEST_CASE("${matrix.NAME} inside a longer value, $${ left alone, keys too", "[matrix]") {
  std::vector<Scenario> all = ParseAll(
      "matrix: {latency: [20ms]}\n"
      "target:\n"
      "  command: [server, \"--latency=${matrix.latency}\", \"$${matrix.latency}\"]\n"
      "  env: {\"L_${matrix.latency}\": x}\n"
      "load: {duration: 1s}\naudit: {applied: SELECT 1}\n");
  REQUIRE(all.size() == 1);
  CHECK(all[0].target.command ==
        std::vector<std::string>{"server", "--latency=20ms", "$${matrix.latency}"});
  CHECK(all[0].target.env.count("L_20ms") == 1);
}

TEST_CASE("An aliased value is substituted once, for every place it stands", "[matrix]") {
  std::vector<Scenario> all = ParseAll(
      "matrix: {grace: [1s, 2s]}\n"
      "faults:\n"
      "  - &term {at: 1s, grace: \"${matrix.grace}\"}\n"
      "  - *term\n" +
      kRequired);
  REQUIRE(all.size() == 2);
  REQUIRE(all[1].faults.size() == 2);
  CHECK(all[1].faults[0].grace == std::chrono::seconds(2));
  CHECK(all[1].faults[1].grace == std::chrono::seconds(2));
  // A map that contains itself is walked once, and left to the parser.
  CHECK(ErrorOf("matrix: {grace: [1s]}\n"
                "load: &load {duration: \"${matrix.grace}\", <<: *load}\n"
                "target: {command: [server]}\naudit: {applied: SELECT 1}\n") ==
        "m.yaml:2:43: merge keys (<<) nested too deeply in load (in the combination "
        "grace=1s)");
}

TEST_CASE("A bad value from the matrix is reported where ${matrix.NAME} stands", "[matrix]") {
  std::string yaml = kMatrixScenario;
  yaml.replace(yaml.find("30s"), 3, "soon");
  // yaml-cpp keeps the position of a scalar that is reassigned.
  CHECK(ErrorOf(yaml) ==
        "m.yaml:9:21: faults[0].grace must be a duration such as 250ms, 1.5s or "
        "1m, got \"soon\" (in the combination grace=soon,drain=500ms)");
}

TEST_CASE("Matrix errors: file:line:column, with a did-you-mean", "[matrix]") {
  const std::string& tail = kRequired;
  CHECK(ErrorOf("matrix: {grace: [1s]}\n"
                "faults: [{at: 1s, grace: \"${matrix.grase}\"}]\n" +
                tail) ==
        "m.yaml:2:26: unknown variable ${matrix.grase} (did you mean ${matrix.grace}?)");
  CHECK(ErrorOf("faults: [{at: 1s, grace: \"${matrix.grace}\"}]\n" + tail) ==
        "m.yaml:1:26: unknown variable ${matrix.grace}: the scenario has no matrix");
  CHECK(ErrorOf("matrix: {grace: []}\n" + tail) ==
        "m.yaml:1:17: matrix.grace must list at least one value");
  CHECK(ErrorOf("matrix: {grace: 1s}\n" + tail) ==
        "m.yaml:1:17: matrix.grace must be a list of values");
  CHECK(ErrorOf("matrix: {grace: [1s, {a: b}]}\n" + tail) ==
        "m.yaml:1:22: matrix.grace[1] must be a single value, got a map");
  CHECK(ErrorOf("matrix: {grace: [1s, 1s]}\n" + tail) ==
        "m.yaml:1:22: duplicate value '1s' in matrix.grace");
  CHECK(ErrorOf("matrix: [1s]\n" + tail) ==
        "m.yaml:1:9: matrix must map names to lists of values, such as grace: [1s, 30s]");
  CHECK(ErrorOf("matrix: {\"a b\": [1s]}\n" + tail) ==
        "m.yaml:1:10: matrix names are letters, digits, _ and -");
  CHECK(ErrorOf("matrix: {grace: [1s], drain: [1s]}\n"
                "faults: [{at: 1s, grace: \"${matrix.grace}\"}]\n" +
                tail) ==
        "m.yaml:1:23: matrix.drain is used nowhere: write ${matrix.drain} where its "
        "values go");
}

TEST_CASE("More than 1000 combinations is an error", "[matrix]") {
  std::string values = "[";
  for (int i = 0; i < 32; ++i) values += (i ? ", " : "") + std::to_string(i);
  values += "]";
  std::string tail =
      "target: {command: [\"${matrix.a}${matrix.b}\"]}\nload: {duration: 1s}\n"
      "audit: {applied: SELECT 1}\n";
  // 32 x 31 = 992 combinations are allowed; 32 x 32 = 1024 are not.
  std::string fewer = values.substr(0, values.rfind(',')) + "]";
  CHECK(ParseAll("matrix: {a: " + values + ", b: " + fewer + "}\n" + tail).size() == 992);
  CHECK(ErrorOf("matrix: {a: " + values + ", b: " + values + "}\n" + tail) ==
        "m.yaml:1:9: the matrix has more than 1000 combinations");
}

TEST_CASE("One-scenario parsing refuses a matrix of several combinations", "[matrix]") {
  Scenario s;
  std::string error;
  CHECK_FALSE(ParseScenarioText(kMatrixScenario, "m.yaml", &s, &error));
  CHECK(error == "m.yaml: a matrix of 6 combinations where one scenario was expected");
}

TEST_CASE("A --set override changes a value before parsing", "[matrix]") {
  const std::string yaml =
      "target: {command: [server], env: {DRAIN_TIMEOUT: 5s}}\n"
      "load: {duration: 1s}\n"
      "faults: [{at: 1s, grace: 30s}]\n"
      "audit: {applied: SELECT 1}\n";
  std::vector<Scenario> all =
      ParseAll(yaml, {"faults.0.grace=5s", "target.env.DRAIN_TIMEOUT=1s", "load.clients=4"});
  REQUIRE(all.size() == 1);
  CHECK(all[0].faults[0].grace == std::chrono::seconds(5));
  CHECK(all[0].target.env.at("DRAIN_TIMEOUT") == "1s");
  CHECK(all[0].load.clients == 4);

  SECTION("brackets, later overrides win, missing maps are created") {
    all = ParseAll(yaml,
                   {"faults[0].grace=2s", "faults[0].grace=3s", "load.request.headers.X-Test=yes"});
    CHECK(all[0].faults[0].grace == std::chrono::seconds(3));
    CHECK(all[0].load.request.headers ==
          std::vector<std::pair<std::string, std::string>>{{"X-Test", "yes"}});
  }
  SECTION("the value of a matrix, before it is expanded") {
    all = ParseAll(kMatrixScenario, {"matrix.grace.2=60s"});
    REQUIRE(all.size() == 6);
    CHECK(all[5].faults[0].grace == std::chrono::seconds(60));
  }
  SECTION("a bad value is reported at the place it replaced") {
    CHECK(ErrorOf(yaml, {"faults.0.grace=later"}) ==
          "m.yaml:3:26: faults[0].grace must be a duration such as 250ms, 1.5s or "
          "1m, got \"later\"");
  }
  SECTION("bad paths") {
    CHECK(ErrorOf(yaml, {"faults.3.grace=5s"}) ==
          "m.yaml: --set faults.3.grace=5s: faults is a list of 1 item, no index 3");
    CHECK(ErrorOf(yaml, {"faults.grace=5s"}) ==
          "m.yaml: --set faults.grace=5s: faults is a list of 1 item, no index grace");
    CHECK(ErrorOf(yaml, {"load.duration.unit=s"}) ==
          "m.yaml: --set load.duration.unit=s: load.duration is a value (\"1s\"), "
          "not a map or a list");
    CHECK(ErrorOf(yaml, {"load.clients"}) ==
          "m.yaml: --set load.clients: expected KEY=VALUE, KEY a dotted path such "
          "as faults.0.grace");
    CHECK(ErrorOf(yaml, {"load..clients=3"}) ==
          "m.yaml: --set load..clients=3: expected KEY=VALUE, KEY a dotted path "
          "such as faults.0.grace");
  }
}

TEST_CASE("CombinationLabel escapes what could break a name or a folder", "[matrix]") {
  CHECK(CombinationLabel({{"grace", "1s"}, {"drain", "500ms"}}) == "grace=1s,drain=500ms");
  CHECK(CombinationLabel({{"cmd", "../x y,z=1%"}}) == "cmd=..%2Fx%20y%2Cz%3D1%25");
  CHECK(CombinationLabel({}) == "");
}

TEST_CASE("Only NAME selects a scenario, or every combination of a matrix", "[matrix]") {
  CHECK(SelectedByOnly("compare-timeouts", "compare-timeouts"));
  CHECK(SelectedByOnly("compare-timeouts/grace=1s", "compare-timeouts"));
  CHECK(SelectedByOnly("compare-timeouts/grace=1s", "compare-timeouts/grace=1s"));
  CHECK_FALSE(SelectedByOnly("compare-timeouts-2/grace=1s", "compare-timeouts"));
  CHECK_FALSE(SelectedByOnly("compare", "compare-timeouts"));
}

}  // namespace
}  // namespace lastcall
