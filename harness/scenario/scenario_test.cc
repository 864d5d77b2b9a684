#include "scenario/scenario.h"

#include <stdlib.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "scenario/scenario_test_support.h"

namespace lastcall {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A folder of its own for a test's files, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/lastcall-scenario-test-XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    path_ = name;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes `text` to `relative` (creating its folders); returns the path.
  std::string Write(const std::string& relative, const std::string& text) {
    fs::path file = fs::path(path_) / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }

 private:
  std::string path_;
};

// LoadScenario() of a file without a matrix: its one scenario.
bool LoadOne(const std::string& path, Scenario* scenario, std::string* error) {
  std::vector<Scenario> scenarios;
  if (!LoadScenario(path, {}, &scenarios, error)) return false;
  REQUIRE(scenarios.size() == 1);
  *scenario = scenarios[0];
  return true;
}

// The format's full example, all of it supported by this version.
const char kSpecExample[] = R"(name: sigterm-during-payments          # defaults to the file name
description: SIGTERM while 16 clients are paying; nothing may be lost or doubled
seed: 42                               # every random choice derives from it

database:
  embedded: true                       # default; or  url: postgresql://user@host/db
  schema: ../targets/payment-server/schema.sql   # paths are relative to this file
  setup: |                             # SQL run once per run, before the target starts
    INSERT INTO accounts SELECT 'acct-' || g, 100000 FROM generate_series(1, 20) g;

target:
  command: [../build/targets/payment-server/payment-server, --port, "${port}"]
  env: {DRAIN_TIMEOUT: 10s}
  ready: {http: /healthz, timeout: 10s} # or {log: "listening on"} or {tcp: true}
  instances: 1                         # >1 only with a load balancer (later)
  clean_exit: [0]                      # exit statuses that count as clean; add SIGTERM for
                                       # frameworks that re-raise the signal after clean-up

load:
  clients: 16                          # concurrent connections, closed loop
  rate: 0                              # >0: open loop at this many requests/s (no coordinated omission)
  duration: 3s                         # or  requests: 5000
  keep_alive: true
  request:
    method: POST
    path: /payments
    headers: {Idempotency-Key: "${key}", Content-Type: application/json}
    body: '{"from":"acct-${from}","to":"acct-${to}","amount":${amount}}'
    timeout: 5s
  accounts: {count: 20, amount: [1, 500]}
  retry: {on: [reset, timeout, refused, 503], attempts: 5, backoff: 50ms}  # same key on every attempt

faults:                                # the nemesis; any number, in order
  - when: {in_flight: 8}               # trigger, see §3
    signal: TERM                       # any signal name: TERM INT KILL QUIT HUP USR1 USR2 ...
    to: process                        # default; or group (what Ctrl-C and systemd do)
    grace: 30s                         # default 30s; then SIGKILL, as kubelet/docker/systemd do
  - after_exit: {restart: true, delay: 200ms}   # deploy transition: a new instance, load continues

audit:
  applied: SELECT idempotency_key, count(*) FROM ledger GROUP BY 1   # key -> times applied
  invariants:
    - name: money is conserved
      sql: SELECT sum(balance) FROM accounts HAVING sum(balance) <> 2000000   # rows = violations
  checks: default                      # or a list; see §4

expect: pass                           # or  {fail: [duplicated]}  for bug-reproduction scenarios
)";

TEST_CASE("The format's full example parses to the expected scenario", "[scenario]") {
  TempDir dir;
  const std::string root = dir.path();
  dir.Write("targets/payment-server/schema.sql", "CREATE TABLE ledger ();\n");
  const std::string file = dir.Write("scenarios/sigterm.yaml", kSpecExample);

  Scenario s;
  std::string error;
  REQUIRE(LoadOne(file, &s, &error));
  CHECK(error == "");

  CHECK(s.file == file);
  CHECK(s.dir == root + "/scenarios");
  CHECK(s.name == "sigterm-during-payments");
  CHECK(s.description == "SIGTERM while 16 clients are paying; nothing may be lost or doubled");
  CHECK(s.seed == 42);

  CHECK(s.database.embedded);
  CHECK(s.database.url == "");
  CHECK(s.database.schema_path == root + "/targets/payment-server/schema.sql");
  CHECK(s.database.setup_sql ==
        "INSERT INTO accounts SELECT 'acct-' || g, 100000 FROM "
        "generate_series(1, 20) g;\n");

  CHECK(s.target.command ==
        std::vector<std::string>{root + "/build/targets/payment-server/payment-server", "--port",
                                 "${port}"});
  CHECK(s.target.env == std::map<std::string, std::string>{{"DRAIN_TIMEOUT", "10s"}});
  CHECK(s.target.cwd == root + "/scenarios");
  CHECK(s.target.ready.kind == ReadyProbe::Kind::kHttp);
  CHECK(s.target.ready.http_path == "/healthz");
  CHECK(s.target.ready.timeout == seconds(10));
  CHECK(s.target.clean_exit == std::vector<ExitStatus>{{false, 0}});
  CHECK(s.target.location.ToString() == file + ":11:1");

  const LoadSpec& load = s.load;
  CHECK(load.clients == 16);
  CHECK(load.duration == seconds(3));
  CHECK(load.requests == 0);
  CHECK(load.keep_alive);
  CHECK(load.request.method == "POST");
  CHECK(load.request.path == "/payments");
  CHECK(load.request.headers ==
        std::vector<std::pair<std::string, std::string>>{{"Idempotency-Key", "${key}"},
                                                         {"Content-Type", "application/json"}});
  CHECK(load.request.body == R"({"from":"acct-${from}","to":"acct-${to}","amount":${amount}})");
  CHECK(load.request.timeout == seconds(5));
  CHECK(load.account_count == 20);
  CHECK(load.amount_min == 1);
  CHECK(load.amount_max == 500);
  CHECK(load.retry.on_reset);
  CHECK(load.retry.on_timeout);
  CHECK(load.retry.on_refused);
  CHECK(load.retry.on_status == std::vector<int>{503});
  CHECK(load.retry.attempts == 5);
  CHECK(load.retry.backoff == milliseconds(50));

  REQUIRE(s.faults.size() == 2);
  const Fault& term = s.faults[0];
  CHECK(term.kind == Fault::Kind::kSignal);
  CHECK(term.trigger.kind == Trigger::Kind::kInFlight);
  CHECK(term.trigger.count == 8);
  CHECK(term.signal == SIGTERM);
  CHECK(term.to == Recipient::kProcess);
  CHECK(term.grace == seconds(30));
  CHECK(term.location.ToString() == file + ":34:5");
  const Fault& restart = s.faults[1];
  CHECK(restart.kind == Fault::Kind::kRestart);
  CHECK(restart.restart_delay == milliseconds(200));
  CHECK(restart.location.ToString() == file + ":38:5");

  CHECK(s.audit.applied_sql == "SELECT idempotency_key, count(*) FROM ledger GROUP BY 1");
  REQUIRE(s.audit.invariants.size() == 1);
  CHECK(s.audit.invariants[0].name == "money is conserved");
  CHECK(s.audit.invariants[0].sql ==
        "SELECT sum(balance) FROM accounts HAVING sum(balance) <> 2000000");
  CHECK(s.audit.checks.empty());

  CHECK(s.expect.pass);
  CHECK(s.expect.fail_checks.empty());
}

TEST_CASE("Omitted keys take the defaults of scenario.h", "[scenario]") {
  Scenario s = Parse("");
  CHECK(s.name == "s");
  CHECK(s.description == "");
  CHECK(s.seed == 0);
  CHECK(s.dir == fs::current_path().string());
  CHECK(s.file == s.dir + "/s.yaml");
  CHECK(s.database.embedded);
  CHECK(s.database.schema_path == "");
  CHECK(s.target.command == std::vector<std::string>{"server"});
  CHECK(s.target.env.empty());
  CHECK(s.target.cwd == s.dir);
  CHECK(s.target.ready.kind == ReadyProbe::Kind::kHttp);
  CHECK(s.target.ready.http_path == "/healthz");
  CHECK(s.target.ready.timeout == seconds(10));
  CHECK(s.target.clean_exit == std::vector<ExitStatus>{{false, 0}});
  CHECK(s.load.clients == 16);
  CHECK(s.load.keep_alive);
  CHECK(s.load.request.method == "POST");
  CHECK(s.load.request.path == "/payments");
  CHECK(s.load.request.timeout == seconds(5));
  CHECK(s.load.account_count == 20);
  CHECK(s.load.amount_min == 1);
  CHECK(s.load.amount_max == 500);
  CHECK(s.load.retry.attempts == 1);
  CHECK(s.load.retry.on_status.empty());
  CHECK_FALSE(s.load.retry.on_reset);
  CHECK(s.faults.empty());
  CHECK(s.audit.invariants.empty());
  CHECK(s.expect.pass);
}

TEST_CASE("The name defaults to the file name without .yaml or .yml", "[scenario]") {
  Scenario s;
  std::string error;
  REQUIRE(ParseScenarioText(Complete(""), "dir/drain.yml", &s, &error));
  CHECK(s.name == "drain");
  REQUIRE(ParseScenarioText(Complete(""), "dir/drain.scenario", &s, &error));
  CHECK(s.name == "drain.scenario");
}

TEST_CASE("Paths are relative to the scenario file's folder", "[scenario]") {
  TempDir dir;
  const std::string root = dir.path();
  dir.Write("db/schema.sql", "CREATE TABLE t ();\n");
  std::string file = dir.Write("scenarios/paths.yaml",
                               "database: {schema: ../db/schema.sql}\n"
                               "target:\n"
                               "  command: [bin/server, ./config.yaml]\n"
                               "  cwd: work/..//data\n"
                               "load: {duration: 1s}\n"
                               "audit: {applied: SELECT 1}\n");
  Scenario s;
  std::string error;
  REQUIRE(LoadOne(file, &s, &error));
  CHECK(s.database.schema_path == root + "/db/schema.sql");
  // argv[0] with a slash is resolved; other arguments are passed unchanged.
  CHECK(s.target.command ==
        std::vector<std::string>{root + "/scenarios/bin/server", "./config.yaml"});
  CHECK(s.target.cwd == root + "/scenarios/data");

  SECTION("absolute paths stay") {
    REQUIRE(ParseScenarioText(Complete("target:\n"
                                       "  command: [/usr/bin/server]\n"
                                       "  cwd: /srv\n"),
                              file, &s, &error));
    CHECK(s.target.command[0] == "/usr/bin/server");
    CHECK(s.target.cwd == "/srv");
  }
  SECTION("a bare program is left for PATH, one from a variable alone") {
    REQUIRE(ParseScenarioText(Complete("target: {command: [python3]}\n"), file, &s, &error));
    CHECK(s.target.command[0] == "python3");
    REQUIRE(ParseScenarioText(Complete("target: {command: [\"${run_dir}/server\"]}\n"), file, &s,
                              &error));
    CHECK(s.target.command[0] == "${run_dir}/server");
  }
}

TEST_CASE("LoadScenario reports files it cannot read", "[scenario]") {
  TempDir dir;
  Scenario s;
  std::string error;
  std::string missing = dir.path() + "/missing.yaml";
  CHECK_FALSE(LoadOne(missing, &s, &error));
  CHECK(error == missing + ": cannot read: No such file or directory");
  CHECK_FALSE(LoadOne(dir.path(), &s, &error));
  CHECK(error == dir.path() + ": cannot read: Is a directory");
}

TEST_CASE("A schema file that does not exist is an error", "[scenario]") {
  TempDir dir;
  std::string file = dir.Write("s.yaml", Complete("database:\n"
                                                  "  schema: schema.sql\n"));
  Scenario s;
  std::string error;
  CHECK_FALSE(LoadOne(file, &s, &error));
  CHECK(error == file + ":2:11: database.schema: no such file " + dir.path() + "/schema.sql");
}

TEST_CASE("Messages name the file as given", "[scenario]") {
  Scenario s;
  std::string error;
  CHECK_FALSE(ParseScenarioText(Complete("seed: x\n"), "../scenarios/a.yaml", &s, &error));
  CHECK(error ==
        "../scenarios/a.yaml:1:7: seed must be an unsigned 64-bit "
        "integer, got \"x\"");
}

TEST_CASE("Required keys", "[scenario]") {
  Scenario s;
  std::string error;
  CHECK_FALSE(
      ParseScenarioText("load: {duration: 1s}\n"
                        "audit: {applied: SELECT 1}\n",
                        "s.yaml", &s, &error));
  CHECK(error == "s.yaml:1:1: target is required");
  CHECK_FALSE(
      ParseScenarioText("target: {command: [x]}\n"
                        "audit: {applied: SELECT 1}\n",
                        "s.yaml", &s, &error));
  CHECK(error == "s.yaml:1:1: load is required");
  CHECK_FALSE(
      ParseScenarioText("target: {command: [x]}\n"
                        "load: {duration: 1s}\n",
                        "s.yaml", &s, &error));
  CHECK(error == "s.yaml:1:1: audit is required");
  CHECK(Error("target:\n"
              "  env: {A: b}\n") == "s.yaml:1:1: target.command is required");
  CHECK(Error("audit:\n"
              "  checks: default\n") == "s.yaml:1:1: audit.applied is required");
}

TEST_CASE("name, description and seed", "[scenario]") {
  Scenario s = Parse(
      "name: x\n"
      "description: y\n"
      "seed: 18446744073709551615\n");
  CHECK(s.name == "x");
  CHECK(s.description == "y");
  CHECK(s.seed == UINT64_MAX);
  CHECK(Error("name: [a]\n") == "s.yaml:1:7: name must be a string, got a list");
  CHECK(Error("description: {a: b}\n") == "s.yaml:1:14: description must be a string, got a map");
  CHECK(Error("seed: -1\n") == "s.yaml:1:7: seed must be an unsigned 64-bit integer, got -1");
  CHECK(Error("seed: 18446744073709551616\n") ==
        "s.yaml:1:7: seed must be an unsigned 64-bit integer, got "
        "18446744073709551616");
}

TEST_CASE("A name that would leave the reports folder is an error at its position", "[scenario]") {
  const std::string rule =
      " must be folder names joined by '/', none empty or starting with '.', "
      "without '\\' or control characters: ";
  CHECK(Error("name: \"../../escape\"\n") ==
        "s.yaml:1:7: name" + rule + "'..' starts with '.', got \"../../escape\"");
  CHECK(Error("name: ..\n") == "s.yaml:1:7: name" + rule + "'..' starts with '.', got \"..\"");
  CHECK(Error("name: .\n") == "s.yaml:1:7: name" + rule + "'.' starts with '.', got \".\"");
  CHECK(Error("name: a/../../b\n") ==
        "s.yaml:1:7: name" + rule + "'..' starts with '.', got \"a/../../b\"");
  CHECK(Error("name: /etc/cron.d\n") ==
        "s.yaml:1:7: name" + rule + "it starts or ends with '/', or has '//', got \"/etc/cron.d\"");
  CHECK(Error("name: \"a//b\"\n") ==
        "s.yaml:1:7: name" + rule + "it starts or ends with '/', or has '//', got \"a//b\"");
  CHECK(Error("name: \"\"\n") == "s.yaml:1:7: name" + rule + "it is empty, got \"\"");
  CHECK(Error("name: \"..\\\\x\"\n") ==
        "s.yaml:1:7: name" + rule + "it has a backslash, got \"..\\x\"");
  // Control characters are shown escaped in the message itself.
  CHECK(Error("name: \"a\\nb\"\n") ==
        "s.yaml:1:7: name" + rule + "it has a control character, got \"a\\nb\"");
  CHECK(Error("name: \"a\\0b\"\n") ==
        "s.yaml:1:7: name" + rule + "it has a control character, got \"a\\x00b\"");
  CHECK(Error("name: \"\\e]0;x\\a\"\n") ==
        "s.yaml:1:7: name" + rule + "it has a control character, got \"\\x1b]0;x\\x07\"");
  CHECK(Error("name: junit.xml/x\n") ==
        "s.yaml:1:7: name" + rule +
            "lastcall writes junit.xml in the reports folder itself, got \"junit.xml/x\"");
  CHECK(Error("name: " + std::string(256, 'a') + "\n")
            .find("a part between slashes is longer than 255 bytes") != std::string::npos);
  // Folders below the reports folder, as the bundled conformance scenarios
  // use them, stay allowed.
  CHECK(Parse("name: conformance/go-sigterm\n").name == "conformance/go-sigterm");
  CHECK(Parse("name: \"café `x` | y\"\n").name == "café `x` | y");
  // A name taken from the file name is held to the same rule.
  Scenario s;
  std::string error;
  CHECK_FALSE(ParseScenarioText(Complete(""), "dir/..yaml", &s, &error));
  CHECK(error == "dir/..yaml:1:1: the scenario's name, from its file name (\".\")," + rule +
                     "'.' starts with '.'; give it a name:");
}

TEST_CASE("A matrix value cannot lead a combination's folder out of its scenario's", "[scenario]") {
  std::vector<Scenario> scenarios;
  std::string error;
  REQUIRE(ParseScenarioText(Complete("name: m\n"
                                     "matrix: {where: [\"../../x\", \"..\", /etc]}\n"
                                     "target:\n  command: [server, \"${matrix.where}\"]\n"),
                            "s.yaml", {}, &scenarios, &error));
  REQUIRE(scenarios.size() == 3);
  CHECK(scenarios[0].name == "m/where=..%2F..%2Fx");
  CHECK(scenarios[1].name == "m/where=..");
  CHECK(scenarios[2].name == "m/where=%2Fetc");
  for (const Scenario& scenario : scenarios) {
    const fs::path folder = (fs::path("reports") / scenario.name).lexically_normal();
    CHECK(folder.parent_path() == "reports/m");
  }
}

TEST_CASE("control: a control run asked for by the file, false by default", "[scenario]") {
  CHECK_FALSE(Parse("").control);
  CHECK(Parse("control: true\n").control);
  CHECK_FALSE(Parse("control: false\n").control);
  CHECK(Error("control: sometimes\n") ==
        "s.yaml:1:10: control must be true or false, got \"sometimes\"");
  CHECK(Error("controll: true\n") ==
        "s.yaml:1:1: unknown key 'controll' (did you mean 'control'?)");
}

}  // namespace
}  // namespace lastcall
