#include "explore/variation_file.h"

#include <csignal>
#include <filesystem>

#include <catch2/catch.hpp>

#include "base/temp_dir.h"

using namespace lastcall;
namespace fs = std::filesystem;

namespace {

using std::chrono::milliseconds;

// A base scenario with paths relative to its folder, a sender and a
// multi-line setup script.
const char* kBase =
    "# a comment\n"
    "seed: 3\n"
    "sender: pm2\n"
    "database:\n"
    "  schema: schema.sql\n"
    "  setup: |\n"
    "    INSERT INTO a VALUES (1);\n"
    "    INSERT INTO a VALUES (2);\n"
    "target:\n"
    "  command: [bin/server, --port, \"${port}\"]\n"
    "  env: {DRAIN_TIMEOUT: 5s}\n"
    "load: {clients: 4, duration: 1s, request: {body: '{\"k\":\"${key}\"}'}}\n"
    "faults:\n"
    "  - {at: 200ms}\n"
    "audit: {applied: SELECT 1}\n"
    "explore: {signals: [INT, KILL]}\n";

Variation Sample() {
  Variation v;
  v.seed = 18446744073709551615ULL;
  v.clients = 2;
  v.duration = milliseconds(700);
  v.faults = {
      {SIGINT, Trigger::Kind::kDbTransactionsOpen, 2, milliseconds(1500), true},
      {SIGKILL, Trigger::Kind::kAt, Duration(milliseconds(450)).count(), milliseconds(100), false}};
  return v;
}

}  // namespace

TEST_CASE("a variation file parses back to the variation, from another folder", "[explore]") {
  TempDir base_dir, elsewhere;
  base_dir.Write("schema.sql", "CREATE TABLE a (x int);\n");
  Scenario base;
  std::string error, yaml;
  const std::string base_file = base_dir.Write("base.yaml", kBase);
  REQUIRE(ParseScenarioText(kBase, base_file, &base, &error));
  VariationFile file{"base-repro-lost", {"lost", "drained"}, "found by a test\nsecond line"};
  REQUIRE(VariationYaml(kBase, base, Sample(), file, &yaml, &error));
  INFO(yaml);
  CHECK(yaml.rfind("# found by a test\n# second line\n", 0) == 0);
  CHECK(yaml.find("explore") == std::string::npos);

  Scenario s;
  REQUIRE(ParseScenarioText(yaml, elsewhere.Write("repro.yaml", yaml), &s, &error));
  CHECK(s.name == "base-repro-lost");
  CHECK(s.seed == 18446744073709551615ULL);
  CHECK(s.load.clients == 2);
  CHECK(s.load.duration == milliseconds(700));
  CHECK(s.database.schema_path == (base_dir.path / "schema.sql").string());
  CHECK(s.database.setup_sql == base.database.setup_sql);
  CHECK(s.target.command[0] == (base_dir.path / "bin/server").string());
  CHECK(s.target.cwd == base_dir.path.string());
  CHECK(s.target.env == base.target.env);
  CHECK(s.load.request.body == base.load.request.body);
  CHECK_FALSE(s.expect.pass);
  CHECK(s.expect.fail_checks == std::vector<std::string>{"lost", "drained"});
  // Signal, restart, signal; the pm2 preset's tree recipient and escalation
  // are written out on each.
  REQUIRE(s.faults.size() == 3);
  CHECK(s.faults[0].signal == SIGINT);
  CHECK(s.faults[0].trigger.kind == Trigger::Kind::kDbTransactionsOpen);
  CHECK(s.faults[0].trigger.count == 2);
  CHECK(s.faults[0].grace == milliseconds(1500));
  CHECK(s.faults[0].to == Recipient::kTree);
  CHECK(s.faults[0].escalate_to == base.faults[0].escalate_to);
  CHECK(s.faults[1].kind == Fault::Kind::kRestart);
  CHECK(s.faults[2].signal == SIGKILL);
  CHECK(s.faults[2].trigger.at == milliseconds(450));
}

TEST_CASE("a variation of a request-counted load keeps its base's expectation", "[explore]") {
  TempDir dir;
  const std::string text =
      "target: {command: [server]}\n"
      "load: {requests: 500}\n"
      "audit: {applied: SELECT 1}\n"
      "expect: {pass: [lost]}\n";
  Scenario base, s;
  std::string error, yaml;
  REQUIRE(ParseScenarioText(text, dir.Write("b.yaml", text), &base, &error));
  Variation v = Sample();
  v.requests = 120;
  REQUIRE(VariationYaml(text, base, v, VariationFile{"b/run-1", {}, ""}, &yaml, &error));
  REQUIRE(ParseScenarioText(yaml, dir.Write("v.yaml", yaml), &s, &error));
  CHECK(s.load.requests == 120);
  CHECK(s.load.duration.count() == 0);
  CHECK(s.expect.pass);
  CHECK(s.expect.pass_checks == std::vector<std::string>{"lost"});
  CHECK(s.target.command[0] == "server");  // from PATH, as in the base
}

TEST_CASE("explore's --set overrides are in the text every variation is written from",
          "[explore]") {
  TempDir dir;
  dir.Write("schema.sql", "CREATE TABLE a (x int);\n");
  std::string text, error, yaml;
  REQUIRE(OverriddenScenarioText(kBase, "b.yaml", {}, &text, &error));
  CHECK(text == kBase);  // nothing to apply: the file as written, comments and all
  REQUIRE(OverriddenScenarioText(
      kBase, "b.yaml", {"target.env.PAYMENT_LATENCY=0", "load.clients=9"}, &text, &error));
  Scenario base, s;
  REQUIRE(ParseScenarioText(text, dir.Write("b.yaml", text), &base, &error));
  CHECK(base.target.env.at("PAYMENT_LATENCY") == "0");
  CHECK(base.target.env.at("DRAIN_TIMEOUT") == "5s");
  CHECK(base.load.clients == 9);
  // A variation written from it keeps the override; its own clients win.
  REQUIRE(VariationYaml(text, base, Sample(), VariationFile{"b/run-1", {}, ""}, &yaml, &error));
  REQUIRE(ParseScenarioText(yaml, dir.Write("v.yaml", yaml), &s, &error));
  CHECK(s.target.env.at("PAYMENT_LATENCY") == "0");
  CHECK(s.load.clients == 2);

  CHECK_FALSE(OverriddenScenarioText(kBase, "b.yaml", {"faults.3.grace=1s"}, &text, &error));
  CHECK(error.rfind("b.yaml: --set faults.3.grace=1s: ", 0) == 0);
}
