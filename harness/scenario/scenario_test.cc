#include "scenario/scenario.h"

#include <stdlib.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>

#include <catch2/catch.hpp>

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

bool HasTopLevelKey(const std::string& yaml, const std::string& key) {
  return yaml.rfind(key + ":", 0) == 0 ||
         yaml.find("\n" + key + ":") != std::string::npos;
}

// `yaml` followed by whichever required section it lacks, so that a test
// shows only what it is about and its line numbers are those of `yaml`.
std::string Complete(std::string yaml) {
  if (!HasTopLevelKey(yaml, "target"))
    yaml += "target:\n  command: [server]\n";
  if (!HasTopLevelKey(yaml, "load"))
    yaml += "load:\n  duration: 1s\n";
  if (!HasTopLevelKey(yaml, "audit"))
    yaml += "audit:\n  applied: SELECT key, n FROM t\n";
  return yaml;
}

// LoadScenario() of a file without a matrix: its one scenario.
bool LoadOne(const std::string& path, Scenario* scenario, std::string* error) {
  std::vector<Scenario> scenarios;
  if (!LoadScenario(path, {}, &scenarios, error)) return false;
  REQUIRE(scenarios.size() == 1);
  *scenario = scenarios[0];
  return true;
}

// Parses Complete(yaml) as "s.yaml", which must succeed.
Scenario Parse(const std::string& yaml) {
  Scenario scenario;
  std::string error;
  INFO(Complete(yaml));
  CHECK(ParseScenarioText(Complete(yaml), "s.yaml", &scenario, &error));
  CHECK(error == "");
  return scenario;
}

// Parses Complete(yaml) as "s.yaml", which must fail; returns the error.
std::string Error(const std::string& yaml) {
  Scenario scenario;
  std::string error;
  INFO(Complete(yaml));
  CHECK_FALSE(ParseScenarioText(Complete(yaml), "s.yaml", &scenario, &error));
  return error;
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

TEST_CASE("The format's full example parses to the expected scenario",
          "[scenario]") {
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
  CHECK(s.description ==
        "SIGTERM while 16 clients are paying; nothing may be lost or doubled");
  CHECK(s.seed == 42);

  CHECK(s.database.embedded);
  CHECK(s.database.url == "");
  CHECK(s.database.schema_path ==
        root + "/targets/payment-server/schema.sql");
  CHECK(s.database.setup_sql ==
        "INSERT INTO accounts SELECT 'acct-' || g, 100000 FROM "
        "generate_series(1, 20) g;\n");

  CHECK(s.target.command ==
        std::vector<std::string>{
            root + "/build/targets/payment-server/payment-server", "--port",
            "${port}"});
  CHECK(s.target.env == std::map<std::string, std::string>{
                            {"DRAIN_TIMEOUT", "10s"}});
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
        std::vector<std::pair<std::string, std::string>>{
            {"Idempotency-Key", "${key}"},
            {"Content-Type", "application/json"}});
  CHECK(load.request.body ==
        R"({"from":"acct-${from}","to":"acct-${to}","amount":${amount}})");
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

  CHECK(s.audit.applied_sql ==
        "SELECT idempotency_key, count(*) FROM ledger GROUP BY 1");
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

TEST_CASE("The name defaults to the file name without .yaml or .yml",
          "[scenario]") {
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
  CHECK(s.target.command == std::vector<std::string>{
                                root + "/scenarios/bin/server",
                                "./config.yaml"});
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
    REQUIRE(ParseScenarioText(Complete("target: {command: [python3]}\n"),
                              file, &s, &error));
    CHECK(s.target.command[0] == "python3");
    REQUIRE(ParseScenarioText(
        Complete("target: {command: [\"${run_dir}/server\"]}\n"), file, &s,
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
  CHECK(error == file + ":2:11: database.schema: no such file " + dir.path() +
                     "/schema.sql");
}

TEST_CASE("Messages name the file as given", "[scenario]") {
  Scenario s;
  std::string error;
  CHECK_FALSE(ParseScenarioText(Complete("seed: x\n"), "../scenarios/a.yaml",
                                &s, &error));
  CHECK(error == "../scenarios/a.yaml:1:7: seed must be an unsigned 64-bit "
                 "integer, got \"x\"");
}

TEST_CASE("Malformed YAML is reported at yaml-cpp's position", "[scenario]") {
  Scenario s;
  std::string error;
  CHECK_FALSE(ParseScenarioText("target: [a, b\nload: 1\n", "s.yaml", &s,
                                &error));
  CHECK(error == "s.yaml:2:5: end of sequence flow not found");
  CHECK_FALSE(ParseScenarioText("load:\n  clients: *nope\n", "s.yaml", &s,
                                &error));
  CHECK(error == "s.yaml:2:12: the referenced anchor is not defined");
}

TEST_CASE("The document must be a map", "[scenario]") {
  Scenario s;
  std::string error;
  CHECK_FALSE(ParseScenarioText("- target\n- load\n", "s.yaml", &s, &error));
  CHECK(error == "s.yaml:1:1: the scenario must be a map, got a list");
  CHECK_FALSE(ParseScenarioText("# nothing\n", "s.yaml", &s, &error));
  CHECK(error == "s.yaml:1:1: the scenario must be a map, got nothing");
}

TEST_CASE("Required keys", "[scenario]") {
  Scenario s;
  std::string error;
  CHECK_FALSE(ParseScenarioText("load: {duration: 1s}\n"
                                "audit: {applied: SELECT 1}\n",
                                "s.yaml", &s, &error));
  CHECK(error == "s.yaml:1:1: target is required");
  CHECK_FALSE(ParseScenarioText("target: {command: [x]}\n"
                                "audit: {applied: SELECT 1}\n",
                                "s.yaml", &s, &error));
  CHECK(error == "s.yaml:1:1: load is required");
  CHECK_FALSE(ParseScenarioText("target: {command: [x]}\n"
                                "load: {duration: 1s}\n",
                                "s.yaml", &s, &error));
  CHECK(error == "s.yaml:1:1: audit is required");
  CHECK(Error("target:\n"
              "  env: {A: b}\n") == "s.yaml:1:1: target.command is required");
  CHECK(Error("audit:\n"
              "  checks: default\n") == "s.yaml:1:1: audit.applied is required");
}

TEST_CASE("Unknown keys, with a suggestion when one is close", "[scenario]") {
  CHECK(Error("nmae: x\n") ==
        "s.yaml:1:1: unknown key 'nmae' (did you mean 'name'?)");
  CHECK(Error("colour: blue\n") == "s.yaml:1:1: unknown key 'colour'");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  clinets: 4\n") ==
        "s.yaml:3:3: unknown key 'clinets' in load (did you mean 'clients'?)");
  CHECK(Error("database: {embeded: true}\n") ==
        "s.yaml:1:12: unknown key 'embeded' in database (did you mean "
        "'embedded'?)");
  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  ready: {htp: /healthz}\n") ==
        "s.yaml:3:11: unknown key 'htp' in target.ready (did you mean "
        "'http'?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  request: {metod: GET}\n") ==
        "s.yaml:3:13: unknown key 'metod' in load.request (did you mean "
        "'method'?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  accounts: {cuont: 3}\n") ==
        "s.yaml:3:14: unknown key 'cuont' in load.accounts (did you mean "
        "'count'?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  retry: {attempt: 3}\n") ==
        "s.yaml:3:11: unknown key 'attempt' in load.retry (did you mean "
        "'attempts'?)");
  CHECK(Error("faults:\n"
              "  - at: 1s\n"
              "    grase: 5s\n") ==
        "s.yaml:3:5: unknown key 'grase' in faults[0] (did you mean "
        "'grace'?)");
  CHECK(Error("faults:\n"
              "  - when: {inflight: 2}\n") ==
        "s.yaml:2:12: unknown key 'inflight' in faults[0].when (did you mean "
        "'in_flight'?)");
  CHECK(Error("faults:\n"
              "  - after_exit: {restrat: true}\n") ==
        "s.yaml:2:18: unknown key 'restrat' in faults[0].after_exit (did you "
        "mean 'restart'?)");
  CHECK(Error("audit:\n"
              "  applied: SELECT 1\n"
              "  invariant: []\n") ==
        "s.yaml:3:3: unknown key 'invariant' in audit (did you mean "
        "'invariants'?)");
  CHECK(Error("audit:\n"
              "  applied: SELECT 1\n"
              "  invariants:\n"
              "    - {name: x, query: SELECT 1}\n") ==
        "s.yaml:4:17: unknown key 'query' in audit.invariants[0]");
  CHECK(Error("expect: {fial: [lost]}\n") ==
        "s.yaml:1:10: unknown key 'fial' in expect (did you mean 'fail'?)");
}

TEST_CASE("Keys of the spec that are not supported yet", "[scenario]") {
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  rate: 100\n") ==
        "s.yaml:3:9: load.rate > 0 (open loop) is not supported yet");
  // Their default values are what this version does, so they are accepted.
  Scenario s = Parse("target:\n"
                     "  command: [x]\n"
                     "  instances: 1\n"
                     "load:\n"
                     "  duration: 1s\n"
                     "  rate: 0\n");
  CHECK(s.target.command == std::vector<std::string>{"x"});
}

TEST_CASE("Several instances put HAProxy in front with its defaults", "[scenario]") {
  Scenario s = Parse("target:\n"
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
  Scenario s = Parse("load_balancer:\n"
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
  CHECK(Error("audit: {applied: x, checks: [client_eror]}\n") ==
        "s.yaml:1:30: unknown check 'client_eror' in audit.checks (did you mean "
        "'client_errors'?)");
}

TEST_CASE("Background jobs and Redis", "[scenario]") {
  Scenario s = Parse("jobs: {enqueue: 2000, rate: 500, queue: q, processing: q:busy}\n"
                     "audit:\n"
                     "  applied: SELECT 1\n"
                     "  jobs: SELECT job_id, count(*) FROM job_effects GROUP BY 1\n");
  CHECK(s.jobs.enabled);
  CHECK(s.jobs.enqueue == 2000);
  CHECK(s.jobs.rate == 500);
  CHECK(s.jobs.queue == "q");
  CHECK(s.jobs.processing == "q:busy");
  CHECK(s.audit.jobs_sql == "SELECT job_id, count(*) FROM job_effects GROUP BY 1");
  CHECK(s.uses_redis);
  CHECK(s.redis_url.empty());  // the embedded one

  Scenario defaults = Parse("jobs: {enqueue: 10}\n"
                            "audit: {applied: SELECT 1, jobs: SELECT 2}\n");
  CHECK(defaults.jobs.rate == 1000);
  CHECK(defaults.jobs.queue == "jobs");
  CHECK(defaults.jobs.processing == "jobs:processing");

  Scenario none = Parse("name: x\n");
  CHECK_FALSE(none.jobs.enabled);
  CHECK_FALSE(none.uses_redis);

  // ${redis_url} in the target's environment or command starts Redis too.
  Scenario named = Parse("target:\n"
                         "  command: [server]\n"
                         "  env: {REDIS: \"${redis_url}\"}\n"
                         "redis: {url: \"redis://:secret@127.0.0.1:6390/2\"}\n");
  CHECK(named.uses_redis);
  CHECK_FALSE(named.jobs.enabled);
  CHECK(named.redis_url == "redis://:secret@127.0.0.1:6390/2");
}

TEST_CASE("Bad jobs and redis values are errors at their position", "[scenario]") {
  CHECK(Error("jobs: {enqueue: 0}\naudit: {applied: a, jobs: b}\n") ==
        "s.yaml:1:17: jobs.enqueue must be a positive integer, got 0");
  CHECK(Error("jobs: {rate: 5}\naudit: {applied: a, jobs: b}\n") ==
        "s.yaml:1:1: jobs.enqueue is required");
  CHECK(Error("jobs: {enqueue: 5, via: kafka}\naudit: {applied: a, jobs: b}\n") ==
        "s.yaml:1:25: jobs.via must be redis (the only queue lastcall drives), "
        "got \"kafka\"");
  CHECK(Error("jobs: {enqueue: 5, queue: q, processing: q}\n"
              "audit: {applied: a, jobs: b}\n") ==
        "s.yaml:1:42: jobs.queue and jobs.processing must be different lists");
  CHECK(Error("jobs: {enqueue: 5, rates: 4}\naudit: {applied: a, jobs: b}\n") ==
        "s.yaml:1:20: unknown key 'rates' in jobs (did you mean 'rate'?)");
  CHECK(Error("jobs: {enqueue: 5}\naudit: {applied: a}\n") ==
        "s.yaml:2:1: audit.jobs is required when the scenario has jobs: a query "
        "of (job id, times it took effect)");
  CHECK(Error("audit: {applied: a, jobs: b}\n") ==
        "s.yaml:1:21: audit.jobs needs a jobs section that enqueues them");
  CHECK(Error("redis: {url: \"http://x\"}\n") ==
        "s.yaml:1:14: redis.url must be redis://[[user]:password@]host[:port][/db] "
        "or unix:///path/to/socket[?db=N], got \"http://x\"");
  CHECK(Error("redis: {uri: x}\n") ==
        "s.yaml:1:9: unknown key 'uri' in redis (did you mean 'url'?)");
  CHECK(Error("redis: {}\n") == "s.yaml:1:1: redis.url is required");
}

TEST_CASE("Duplicate keys are errors", "[scenario]") {
  CHECK(Error("load:\n"
              "  clients: 4\n"
              "  duration: 1s\n"
              "  clients: 16\n") ==
        "s.yaml:4:3: duplicate key 'clients' in load");
  CHECK(Error("seed: 1\n"
              "seed: 2\n") == "s.yaml:2:1: duplicate key 'seed'");
}

TEST_CASE("Keys must be names", "[scenario]") {
  CHECK(Error("load: {[a]: 1}\n") ==
        "s.yaml:1:8: keys in load must be names, got a list");
}

TEST_CASE("Anchors, aliases and merge keys", "[scenario]") {
  Scenario s = Parse("load:\n"
                     "  duration: 1s\n"
                     "  request:\n"
                     "    headers: &headers {X-A: \"${key}\", X-B: b}\n"
                     "faults:\n"
                     "  - &term {at: 1s, signal: INT, grace: 2s}\n"
                     "  - <<: *term\n"
                     "    at: 3s\n"
                     "  - <<: [{grace: 9s}, *term]\n"
                     "    to: group\n");
  CHECK(s.load.request.headers ==
        std::vector<std::pair<std::string, std::string>>{{"X-A", "${key}"},
                                                         {"X-B", "b"}});
  REQUIRE(s.faults.size() == 3);
  CHECK(s.faults[0].trigger.at == seconds(1));
  CHECK(s.faults[1].trigger.at == seconds(3));  // explicit keys win
  CHECK(s.faults[1].signal == SIGINT);
  CHECK(s.faults[1].grace == seconds(2));
  CHECK(s.faults[2].grace == seconds(9));  // earlier merged maps win
  CHECK(s.faults[2].signal == SIGINT);
  CHECK(s.faults[2].to == Recipient::kGroup);

  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  <<: 3\n") ==
        "s.yaml:3:7: << in load must merge a map, got 3");
  CHECK(Error("load: &load\n"
              "  duration: 1s\n"
              "  <<: *load\n") ==
        "s.yaml:3:3: merge keys (<<) nested too deeply in load");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  <<: {clinets: 3}\n") ==
        "s.yaml:3:8: unknown key 'clinets' in load (did you mean 'clients'?)");
}

TEST_CASE("name, description and seed", "[scenario]") {
  Scenario s = Parse("name: x\n"
                     "description: y\n"
                     "seed: 18446744073709551615\n");
  CHECK(s.name == "x");
  CHECK(s.description == "y");
  CHECK(s.seed == UINT64_MAX);
  CHECK(Error("name: [a]\n") == "s.yaml:1:7: name must be a string, got a list");
  CHECK(Error("description: {a: b}\n") ==
        "s.yaml:1:14: description must be a string, got a map");
  CHECK(Error("seed: -1\n") ==
        "s.yaml:1:7: seed must be an unsigned 64-bit integer, got -1");
  CHECK(Error("seed: 18446744073709551616\n") ==
        "s.yaml:1:7: seed must be an unsigned 64-bit integer, got "
        "18446744073709551616");
}

TEST_CASE("A name that would leave the reports folder is an error at its position",
          "[scenario]") {
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
  CHECK(Error("name: " + std::string(256, 'a') + "\n").find(
            "a part between slashes is longer than 255 bytes") != std::string::npos);
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

TEST_CASE("A matrix value cannot lead a combination's folder out of its scenario's",
          "[scenario]") {
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

TEST_CASE("database", "[scenario]") {
  Scenario s = Parse("database:\n"
                     "  url: postgresql://lastcall@127.0.0.1:${port}/db\n"
                     "  setup: INSERT INTO t VALUES (1)\n");
  CHECK_FALSE(s.database.embedded);
  CHECK(s.database.url == "postgresql://lastcall@127.0.0.1:${port}/db");
  CHECK(s.database.setup_sql == "INSERT INTO t VALUES (1)");
  CHECK_FALSE(Parse("database: {embedded: false, url: x}\n").database.embedded);

  CHECK(Error("database: postgres\n") ==
        "s.yaml:1:11: database must be a map, got \"postgres\"");
  CHECK(Error("database:\n"
              "  embedded: maybe\n") ==
        "s.yaml:2:13: database.embedded must be true or false, got \"maybe\"");
  CHECK(Error("database:\n"
              "  embedded: true\n"
              "  url: postgresql://db\n") ==
        "s.yaml:3:3: database.url cannot be used with embedded: true");
  CHECK(Error("database:\n"
              "  embedded: false\n") ==
        "s.yaml:2:13: database.embedded: false needs database.url");
  CHECK(Error("database:\n"
              "  url: postgresql://db:${prot}/x\n") ==
        "s.yaml:2:8: database.url: unknown variable ${prot} (did you mean "
        "${port}?)");
}

TEST_CASE("target.command", "[scenario]") {
  CHECK(Error("target:\n"
              "  command: server --port 8080\n") ==
        "s.yaml:2:12: target.command must be a list, got \"server --port "
        "8080\"");
  CHECK(Error("target:\n"
              "  command: []\n") ==
        "s.yaml:2:12: target.command must not be empty");
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
  Scenario s = Parse("target:\n"
                     "  command: [x]\n"
                     "  env:\n"
                     "    PORT: ${port}\n"
                     "    HOME: ${env.LASTCALL_SCENARIO_TEST_HOME}\n"
                     "    PRICE: $${not_a_variable}\n"
                     "    WORKERS: 4\n");
  // Raw strings are kept: substitution happens at run time.
  CHECK(s.target.env == std::map<std::string, std::string>{
                            {"PORT", "${port}"},
                            {"HOME", "${env.LASTCALL_SCENARIO_TEST_HOME}"},
                            {"PRICE", "$${not_a_variable}"},
                            {"WORKERS", "4"}});
  unsetenv("LASTCALL_SCENARIO_TEST_HOME");

  CHECK(Error("target:\n"
              "  command: [x]\n"
              "  env: [A=b]\n") ==
        "s.yaml:3:8: target.env must be a map, got a list");
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
  Scenario s = Parse("target:\n"
                     "  command: [x]\n"
                     "  ready: {log: \"listening on [0-9]+\", timeout: 1.5s}\n");
  CHECK(s.target.ready.kind == ReadyProbe::Kind::kLog);
  CHECK(s.target.ready.log_regex == "listening on [0-9]+");
  CHECK(s.target.ready.timeout == milliseconds(1500));
  s = Parse("target:\n"
            "  command: [x]\n"
            "  ready: {tcp: true}\n");
  CHECK(s.target.ready.kind == ReadyProbe::Kind::kTcp);
  s = Parse("target:\n"
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
  std::string error = Error("target:\n"
                            "  command: [x]\n"
                            "  ready: {log: \"listening (on\"}\n");
  CHECK_THAT(error, Catch::StartsWith("s.yaml:3:16: target.ready.log is not "
                                      "a valid regular expression: "));
}

TEST_CASE("target.clean_exit", "[scenario]") {
  Scenario s = Parse("target:\n"
                     "  command: [x]\n"
                     "  clean_exit: [0, 143, SIGTERM, int]\n");
  CHECK(s.target.clean_exit == std::vector<ExitStatus>{{false, 0},
                                                       {false, 143},
                                                       {true, SIGTERM},
                                                       {true, SIGINT}});
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

TEST_CASE("load: clients, duration, requests, keep_alive", "[scenario]") {
  Scenario s = Parse("load:\n"
                     "  clients: 1\n"
                     "  requests: 5000\n"
                     "  keep_alive: false\n");
  CHECK(s.load.clients == 1);
  CHECK(s.load.requests == 5000);
  CHECK(s.load.duration == Duration(0));
  CHECK_FALSE(s.load.keep_alive);
  // A load bound by requests may be held up to a minute by default...
  CHECK(MaxDuration(s.load) == std::chrono::seconds(60));
  // ...one bound by time, ten times its duration, unless max_duration says.
  CHECK(MaxDuration(Parse("load: {duration: 2s}\n").load) == std::chrono::seconds(20));
  CHECK(MaxDuration(Parse("load: {duration: 2s, max_duration: 5s}\n").load) ==
        std::chrono::seconds(5));

  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  clients: many\n") ==
        "s.yaml:3:12: load.clients must be a positive integer, got \"many\"");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  clients: 0\n") ==
        "s.yaml:3:12: load.clients must be a positive integer, got 0");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  clients: 2.5\n") ==
        "s.yaml:3:12: load.clients must be a positive integer, got 2.5");
  // An empty value is reported at its key.
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  clients:\n") ==
        "s.yaml:3:3: load.clients must be a positive integer, got nothing");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  clients: 3000000000\n") ==
        "s.yaml:3:12: load.clients must be at most 2147483647, got "
        "3000000000");
  CHECK(Error("load:\n"
              "  clients: 4\n") ==
        "s.yaml:1:1: load needs duration or requests");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  requests: 100\n") ==
        "s.yaml:3:3: load takes duration or requests, not both");
  CHECK(Error("load:\n"
              "  duration: 2s\n"
              "  max_duration: 1s\n") ==
        "s.yaml:3:17: load.max_duration must be at least load.duration (2s), got 1s");
  CHECK(Error("load:\n"
              "  duration: 3\n") ==
        "s.yaml:2:13: load.duration must be a duration such as 250ms, 1.5s "
        "or 1m, got 3");
  CHECK(Error("load:\n"
              "  duration: 0s\n") ==
        "s.yaml:2:13: load.duration must be greater than 0, got \"0s\"");
  CHECK(Error("load:\n"
              "  requests: 0\n") ==
        "s.yaml:2:13: load.requests must be a positive integer, got 0");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  keep_alive: sometimes\n") ==
        "s.yaml:3:15: load.keep_alive must be true or false, got "
        "\"sometimes\"");
  CHECK(Error("load: 5\n") == "s.yaml:1:7: load must be a map, got 5");
}

TEST_CASE("load.request", "[scenario]") {
  Scenario s = Parse("load:\n"
                     "  duration: 1s\n"
                     "  request:\n"
                     "    method: PUT\n"
                     "    path: /payments/${key}?seq=${seq}\n"
                     "    body: \"${from} ${to} ${amount} ${port}\"\n"
                     "    timeout: 250ms\n");
  CHECK(s.load.request.method == "PUT");
  CHECK(s.load.request.path == "/payments/${key}?seq=${seq}");
  CHECK(s.load.request.body == "${from} ${to} ${amount} ${port}");
  CHECK(s.load.request.timeout == milliseconds(250));

  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  request: {method: post}\n") ==
        "s.yaml:3:21: load.request.method must be an HTTP method such as GET "
        "or POST, got \"post\"");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  request: {path: \"/p/${kye}\"}\n") ==
        "s.yaml:3:19: load.request.path: unknown variable ${kye} (did you "
        "mean ${key}?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  request:\n"
              "    body: '{\"amount\":${amout}}'\n") ==
        "s.yaml:4:11: load.request.body: unknown variable ${amout} (did you "
        "mean ${amount}?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  request:\n"
              "    headers:\n"
              "      Idempotency-Key: ${key\n") ==
        "s.yaml:5:24: load.request.headers.Idempotency-Key: unterminated ${");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  request: {timeout: 0ms}\n") ==
        "s.yaml:3:22: load.request.timeout must be greater than 0, got "
        "\"0ms\"");
}

TEST_CASE("load.accounts", "[scenario]") {
  Scenario s = Parse("load:\n"
                     "  duration: 1s\n"
                     "  accounts: {count: 2, amount: [0, 0]}\n");
  CHECK(s.load.account_count == 2);
  CHECK(s.load.amount_min == 0);
  CHECK(s.load.amount_max == 0);

  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  accounts: {count: 1}\n") ==
        "s.yaml:3:21: load.accounts.count must be an integer >= 2, got 1");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  accounts: {amount: [1, 2, 3]}\n") ==
        "s.yaml:3:22: load.accounts.amount must be [min, max], got a list "
        "of 3");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  accounts: {amount: [-1, 5]}\n") ==
        "s.yaml:3:23: load.accounts.amount[0] must be a non-negative "
        "integer, got -1");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  accounts: {amount: [500, 1]}\n") ==
        "s.yaml:3:22: load.accounts.amount: min 500 is greater than max 1");
}

TEST_CASE("load.retry", "[scenario]") {
  Scenario s = Parse("load:\n"
                     "  duration: 1s\n"
                     "  retry: {on: [refused, 503, 5xx, 429], backoff: 0ms}\n");
  const RetryPolicy& retry = s.load.retry;
  CHECK(retry.on_refused);
  CHECK_FALSE(retry.on_reset);
  CHECK_FALSE(retry.on_timeout);
  REQUIRE(retry.on_status.size() == 101);  // 429 and 500..599, once each
  CHECK(retry.on_status.front() == 429);
  CHECK(retry.on_status[1] == 500);
  CHECK(retry.on_status.back() == 599);
  CHECK(retry.backoff == Duration(0));

  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  retry: {on: [reset, rest]}\n") ==
        "s.yaml:3:23: load.retry.on[1] must be reset, timeout, refused, 5xx "
        "or an HTTP status, got \"rest\" (did you mean 'reset'?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  retry: {on: [600]}\n") ==
        "s.yaml:3:16: load.retry.on[0] must be reset, timeout, refused, 5xx "
        "or an HTTP status, got 600");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  retry: {on: reset}\n") ==
        "s.yaml:3:15: load.retry.on must be a list, got \"reset\"");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  retry: {attempts: 0}\n") ==
        "s.yaml:3:21: load.retry.attempts must be a positive integer, got 0");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  retry: {backoff: fast}\n") ==
        "s.yaml:3:20: load.retry.backoff must be a duration such as 250ms, "
        "1.5s or 1m, got \"fast\"");
}

TEST_CASE("load.websockets", "[scenario]") {
  CHECK(Parse("load: {duration: 1s}\n").load.websockets.clients == 0);
  Scenario s = Parse("load:\n"
                     "  duration: 1s\n"
                     "  websockets: {clients: 4}\n");
  CHECK(s.load.websockets.clients == 4);
  CHECK(s.load.websockets.path == "/ws");
  CHECK(s.load.websockets.port == "${port}");
  s = Parse("load:\n"
            "  duration: 1s\n"
            "  websockets: {clients: 2, path: \"/feed/${seed}\", port: \"${ws_port}\"}\n");
  CHECK(s.load.websockets.path == "/feed/${seed}");
  CHECK(s.load.websockets.port == "${ws_port}");
  CHECK(s.load.websockets.port_location.ToString() == "s.yaml:3:57");
  CHECK(Parse("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 1, port: 8081}\n")
            .load.websockets.port == "8081");

  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {path: /ws}\n") ==
        "s.yaml:3:3: load.websockets.clients is required");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 0}\n") ==
        "s.yaml:3:25: load.websockets.clients must be a positive integer, got 0");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 1001}\n") ==
        "s.yaml:3:25: load.websockets.clients must be at most 1000, got 1001");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 1, path: ws}\n") ==
        "s.yaml:3:34: load.websockets.path must be a path starting with /, got \"ws\"");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 1, port: 70000}\n") ==
        "s.yaml:3:34: load.websockets.port must be a port number (1-65535) or a "
        "template such as ${ws_port}, got 70000");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 1, port: \"${wsport}\"}\n") ==
        "s.yaml:3:34: load.websockets.port: unknown variable ${wsport} (did you mean "
        "${ws_port}?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 1, paht: /ws}\n") ==
        "s.yaml:3:28: unknown key 'paht' in load.websockets (did you mean 'path'?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: 4\n") ==
        "s.yaml:3:15: load.websockets must be a map, got 4");
}

TEST_CASE("Signal faults", "[scenario]") {
  Scenario s = Parse("faults:\n"
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

  CHECK(Error("faults: {at: 1s}\n") ==
        "s.yaml:1:9: faults must be a list, got a map");
  CHECK(Error("faults: [TERM]\n") ==
        "s.yaml:1:10: faults[0] must be a map, got \"TERM\"");
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
  Scenario s = Parse("load: {clients: 4, duration: 1s}\n"
                     "faults: [{when: {in_flight: 4}}]\n");
  CHECK(s.faults[0].trigger.kind == Trigger::Kind::kInFlight);
  CHECK(s.faults[0].trigger.count == 4);
}

TEST_CASE("after_exit faults", "[scenario]") {
  Scenario s = Parse("faults:\n"
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
              "    at: 1s\n") ==
        "s.yaml:3:5: faults[0].at does not apply to an after_exit fault");
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

TEST_CASE("audit", "[scenario]") {
  Scenario s = Parse("audit:\n"
                     "  applied: SELECT k, n FROM ledger\n"
                     "  invariants:\n"
                     "    - {name: a, sql: SELECT 1 WHERE false}\n"
                     "    - {name: b, sql: SELECT 2 WHERE false}\n"
                     "  checks: [lost, duplicated, faults]\n");
  REQUIRE(s.audit.invariants.size() == 2);
  CHECK(s.audit.invariants[1].name == "b");
  CHECK(s.audit.invariants[1].sql == "SELECT 2 WHERE false");
  CHECK(s.audit.checks ==
        std::vector<std::string>{"lost", "duplicated", "faults"});

  CHECK(Error("audit:\n"
              "  applied: [SELECT 1]\n") ==
        "s.yaml:2:12: audit.applied must be a string, got a list");
  CHECK(Error("audit:\n"
              "  applied: SELECT 1\n"
              "  invariants:\n"
              "    - name: money\n") ==
        "s.yaml:4:7: audit.invariants[0].sql is required");
  CHECK(Error("audit:\n"
              "  applied: SELECT 1\n"
              "  checks: all\n") ==
        "s.yaml:3:11: audit.checks must be default or a list of checks, got "
        "\"all\"");
  CHECK(Error("audit:\n"
              "  applied: SELECT 1\n"
              "  checks: [lost, lots]\n") ==
        "s.yaml:3:18: unknown check 'lots' in audit.checks (did you mean "
        "'lost'?)");
  CHECK(Error("audit:\n"
              "  applied: SELECT 1\n"
              "  checks: []\n") ==
        "s.yaml:3:11: audit.checks must name at least one check");
}

TEST_CASE("expect", "[scenario]") {
  Scenario s = Parse("expect: {fail: [duplicated, exit]}\n");
  CHECK_FALSE(s.expect.pass);
  CHECK(s.expect.fail_checks ==
        std::vector<std::string>{"duplicated", "exit"});
  CHECK(Parse("expect: pass\n").expect.pass);

  CHECK(Error("expect: fail\n") ==
        "s.yaml:1:9: expect must be pass, {fail: [checks]} or {pass: [checks]}, "
        "got \"fail\"");
  CHECK(Error("expect: {}\n") == "s.yaml:1:9: expect takes one of fail and pass");
  CHECK(Error("expect: {fail: [exit], pass: [lost]}\n") ==
        "s.yaml:1:9: expect takes one of fail and pass");
  CHECK(Error("expect: {fail: lost}\n") ==
        "s.yaml:1:16: expect.fail must be a list, got \"lost\"");
  CHECK(Error("expect:\n"
              "  fail: [duplicate]\n") ==
        "s.yaml:2:10: unknown check 'duplicate' in expect.fail (did you mean "
        "'duplicated'?)");
  CHECK(Error("audit: {applied: SELECT 1, checks: [lost]}\n"
              "expect: {fail: [duplicated]}\n") ==
        "s.yaml:2:9: expect.fail names 'duplicated', which audit.checks does not run");
  CHECK(Error("expect: {fail: [unknown_check]}\n") ==
        "s.yaml:1:17: unknown check 'unknown_check' in expect.fail; the checks "
        "are lost, duplicated, phantom, invariants, drained, "
        "unannounced_close, refused_while_draining, exit, connections_leaked, unclean_disconnects, "
        "transactions_abandoned, orphans, temp_files, jobs, websocket_close, "
        "client_errors, faults");
}

TEST_CASE("expect: {pass: [checks]} judges those checks and measures the others",
          "[scenario]") {
  Scenario s = Parse("expect: {pass: [lost, duplicated]}\n");
  CHECK(s.expect.pass);
  CHECK(s.expect.pass_checks == std::vector<std::string>{"lost", "duplicated"});
  CHECK(s.expect.MustPass("lost"));
  CHECK_FALSE(s.expect.MustPass("exit"));
  // Plain `pass` judges every check, a fail list none of them.
  CHECK(Parse("expect: pass\n").expect.MustPass("exit"));
  CHECK_FALSE(Parse("expect: {fail: [exit]}\n").expect.MustPass("lost"));

  CHECK(Error("expect: {pass: [lots]}\n") ==
        "s.yaml:1:17: unknown check 'lots' in expect.pass (did you mean 'lost'?)");
  CHECK(Error("audit: {applied: SELECT 1, checks: [lost]}\n"
              "expect: {pass: [exit]}\n") ==
        "s.yaml:2:9: expect.pass names 'exit', which audit.checks does not run");
}

TEST_CASE("ParseDuration", "[scenario]") {
  CHECK(ParseDuration("250ms") == Duration(milliseconds(250)));
  CHECK(ParseDuration("2s") == Duration(seconds(2)));
  CHECK(ParseDuration("1.5s") == Duration(milliseconds(1500)));
  CHECK(ParseDuration("0.1s") == Duration(milliseconds(100)));
  CHECK(ParseDuration("1m") == Duration(seconds(60)));
  CHECK(ParseDuration("0ms") == Duration(0));
  CHECK(ParseDuration("0.5ms") == Duration(500000));
  for (const char* bad : {"", "s", "5", "-1s", "+1s", "1.s", ".5s", "1 s",
                          "1h", "1sec", "1e3ms", "1.5.5s", "s1",
                          "99999999999999m"}) {
    INFO(bad);
    CHECK_FALSE(ParseDuration(bad).has_value());
  }
  CHECK(ParseDuration("4611686018s") == Duration(seconds(4611686018)));
  CHECK_FALSE(ParseDuration("4611686019s").has_value());
}

TEST_CASE("A duration past the maximum says so, with the maximum", "[scenario]") {
  CHECK(Error("load:\n  duration: 99999999999s\n") ==
        "s.yaml:2:13: load.duration must be at most 4611686018s (about 146 years), "
        "got \"99999999999s\"");
  CHECK(Error("target:\n  command: [server]\n  ready: {timeout: 76861434m}\n") ==
        "s.yaml:3:20: target.ready.timeout must be at most 4611686018s (about 146 years), "
        "got \"76861434m\"");
  CHECK(Parse("load:\n  duration: 4611686018s\n").load.duration == seconds(4611686018));
}

TEST_CASE("YAML nested too deeply is an error at its position that says so", "[scenario]") {
  for (const std::string& open : {std::string("["), std::string("{a: ")}) {
    std::string yaml = "name: x\nload: ";
    for (int i = 0; i < 10000; ++i) yaml += open;
    Scenario s;
    std::string error;
    CHECK_FALSE(ParseScenarioText(yaml, "s.yaml", &s, &error));
    INFO(error);
    CHECK(std::regex_match(error, std::regex(R"(s\.yaml:2:\d+: lists and maps nested deeper than \d+ levels)")));
  }
}

TEST_CASE("ParseSignal and SignalName", "[scenario]") {
  const std::vector<std::pair<const char*, int>> signals = {
      {"TERM", SIGTERM}, {"INT", SIGINT},   {"KILL", SIGKILL},
      {"QUIT", SIGQUIT}, {"HUP", SIGHUP},   {"USR1", SIGUSR1},
      {"USR2", SIGUSR2}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
      {"ALRM", SIGALRM}, {"PIPE", SIGPIPE}, {"WINCH", SIGWINCH}};
  for (const auto& [name, number] : signals) {
    CHECK(ParseSignal(name) == number);
    CHECK(ParseSignal(std::string("SIG") + name) == number);
    CHECK(SignalName(number) == name);
  }
  CHECK(ParseSignal("term") == SIGTERM);
  CHECK(ParseSignal("SigInt") == SIGINT);
  CHECK(ParseSignal("9") == SIGKILL);
  CHECK(ParseSignal("15") == SIGTERM);
  for (const char* bad : {"", "SIG", "TREM", "0", "-9", "1000", "SEGV"}) {
    INFO(bad);
    CHECK_FALSE(ParseSignal(bad).has_value());
  }
  CHECK(SignalName(SIGSEGV) == std::to_string(SIGSEGV));
}

TEST_CASE("KnownChecks, in report order", "[scenario]") {
  CHECK(KnownChecks() ==
        std::vector<std::string>{
            "lost", "duplicated", "phantom", "invariants", "drained",
            "unannounced_close", "refused_while_draining", "exit", "connections_leaked",
            "unclean_disconnects", "transactions_abandoned", "orphans",
            "temp_files", "jobs", "websocket_close", "client_errors", "faults"});
}

TEST_CASE("SourceLocation::ToString", "[scenario]") {
  CHECK(SourceLocation{"a.yaml", 3, 7}.ToString() == "a.yaml:3:7");
  CHECK(SourceLocation{"a.yaml", 0, 0}.ToString() == "a.yaml");
}

TEST_CASE("Triggers db_transactions_open log sql and random", "[scenario]") {
  Scenario s = Parse("faults:\n"
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
              "  - when: {sql: ''}\n") ==
        "s.yaml:2:17: faults[0].when.sql must not be empty");
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
  Scenario s = Parse("faults:\n"
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
  Scenario top = Parse("sender: nomad\n"
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
  Scenario plain = Parse("faults:\n"
                         "  - {at: 1s, to: tree}\n");
  CHECK(plain.faults[0].escalate_to == Recipient::kTree);
}

TEST_CASE("deploys N expands to N signal-exit-restart steps", "[scenario]") {
  Scenario s = Parse("faults:\n"
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

TEST_CASE("target.container", "[scenario]") {
  Scenario s = Parse("target:\n"
                     "  command: [server]\n"
                     "  container: true\n");
  CHECK(s.target.container);
}

TEST_CASE("explore: defaults come from the load and the first fault", "[scenario]") {
  Scenario s = Parse("load:\n  clients: 6\n  duration: 2s\n"
                     "faults:\n  - {at: 1s, signal: TERM, grace: 4s}\n");
  const ExploreSpec& e = s.explore;
  CHECK(e.signals == std::vector<int>{SIGTERM, SIGINT, SIGKILL});
  CHECK(e.clients.min == 6);
  CHECK(e.clients.max == 6);
  CHECK(e.grace.min == Duration(seconds(4)).count());
  CHECK(e.faults.max == 1);
  CHECK(e.restart == std::vector<bool>{false});
  REQUIRE(e.triggers.size() == 1);
  CHECK(e.triggers[0].kind == Trigger::Kind::kAt);
  CHECK(e.triggers[0].range.min == Duration(milliseconds(200)).count());
  CHECK(e.triggers[0].range.max == Duration(milliseconds(1600)).count());
  // The longest load and the most requests a file may write.
  CHECK(Parse("load:\n  duration: 4611686018s\n").explore.triggers[0].range.max ==
        3689348814400000000);
  CHECK(Parse("load:\n  requests: 9223372036854775807\n").explore.triggers[0].range.max ==
        7378697629483820645);
}

TEST_CASE("explore: every bound written", "[scenario]") {
  Scenario s = Parse("explore:\n"
                     "  signals: [TERM, KILL]\n"
                     "  triggers:\n"
                     "    at: [100ms, 900ms]\n"
                     "    in_flight: [1, 4]\n"
                     "    completed: 50\n"
                     "    db_transactions_open: [1, 2]\n"
                     "  grace: [0s, 2s]\n"
                     "  faults: [1, 2]\n"
                     "  restart: [false, true]\n"
                     "  clients: [2, 8]\n");
  const ExploreSpec& e = s.explore;
  CHECK(e.signals == std::vector<int>{SIGTERM, SIGKILL});
  REQUIRE(e.triggers.size() == 4);
  CHECK(e.triggers[1].kind == Trigger::Kind::kInFlight);
  CHECK(e.triggers[2].range.min == 50);
  CHECK(e.triggers[2].range.max == 50);
  CHECK(e.triggers[3].kind == Trigger::Kind::kDbTransactionsOpen);
  CHECK(e.grace.max == Duration(seconds(2)).count());
  CHECK(e.faults.max == 2);
  CHECK(e.restart == std::vector<bool>{false, true});
  CHECK(e.clients.min == 2);
  CHECK(Parse("explore: {restart: true}\n").explore.restart == std::vector<bool>{true});
}

TEST_CASE("explore: bad bounds are file:line:column errors", "[scenario]") {
  CHECK(Error("explore: {signal: [TERM]}\n") ==
        "s.yaml:1:11: unknown key 'signal' in explore (did you mean 'signals'?)");
  CHECK(Error("explore: {signals: [TREM]}\n") ==
        "s.yaml:1:21: explore.signals[0] must be a signal such as TERM, INT or KILL, "
        "got \"TREM\" (did you mean 'TERM'?)");
  CHECK(Error("explore: {signals: []}\n") ==
        "s.yaml:1:20: explore.signals must name at least one signal");
  CHECK(Error("explore: {grace: [2s, 1s]}\n") ==
        "s.yaml:1:18: explore.grace: min is greater than max");
  CHECK(Error("explore: {clients: [0, 4]}\n") ==
        "s.yaml:1:21: explore.clients[0] must be a positive integer, got 0");
  CHECK(Error("explore: {faults: [1, 2, 3]}\n") ==
        "s.yaml:1:19: explore.faults must be [min, max] or one value");
  CHECK(Error("explore: {faults: 11}\n") ==
        "s.yaml:1:19: explore.faults must be at most 10 signals per run");
  CHECK(Error("explore: {restart: [maybe]}\n") ==
        "s.yaml:1:21: explore.restart[0] must be true or false, got \"maybe\"");
  CHECK(Error("explore: {triggers: {}}\n") ==
        "s.yaml:1:21: explore.triggers must name at least one of at, in_flight, "
        "completed and db_transactions_open");
  CHECK(Error("explore: {triggers: {completd: 5}}\n") ==
        "s.yaml:1:22: unknown key 'completd' in explore.triggers (did you mean 'completed'?)");
  CHECK(Error("explore: {triggers: {at: [0s, 1s]}}\n") ==
        "s.yaml:1:26: explore.triggers.at must end before the load does "
        "(load.duration): a fault drawn later would never fire");
  CHECK(Error("explore: {clients: 4, triggers: {in_flight: [5, 6]}}\n") ==
        "s.yaml:1:45: explore.triggers.in_flight can never fire: at most 4 "
        "requests are in flight (explore.clients)");
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
