// End-to-end tests of the lastcall command: Faults and senders: triggers, signal presets, restarts,
// a taken port.
#include "e2e/cli_support.h"

using namespace lastcall;

TEST_CASE("an in_flight trigger fires, and its moments are in result.json") {
  TempDir dir;
  Output out = RunYaml(dir, "inflight",
                       ScenarioYaml(kServerTarget + "  env: {PAYMENT_LATENCY: 20ms}\n",
                                    "faults:\n  - when: {in_flight: 2}\n    signal: TERM\n"));
  INFO(out.text);
  CHECK(out.code == 0);  // `faults` would fail had it never fired
  nlohmann::json json = ReadJson(dir.path / "reports" / "inflight" / "result.json");
  CHECK(json["faults"][0]["fired"] == true);
  CHECK(json["faults"][0]["delivery_time"].get<double>() >=
        json["faults"][0]["trigger_time"].get<double>());
  CHECK(json["instances"][0]["exit"] == "0");
}

TEST_CASE("a count trigger the load never reaches: held to max_duration, then exit 3") {
  TempDir dir;
  std::string yaml = ScenarioYaml(kServerTarget,
                                  "faults:\n  - when: {completed: 1000000}\n"
                                  "    signal: TERM\n");
  yaml.replace(yaml.find("  duration: 300ms\n"), 18, "  duration: 300ms\n  max_duration: 900ms\n");
  Output out = RunYaml(dir, "unreached", yaml);
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(
      std::regex_search(out.text, std::regex("held until load.max_duration \\(900ms\\) and a "
                                             "fault never fired: fault 1 \\(when: \\{completed: "
                                             "1000000\\}\\) at [^ ]*unreached.yaml:[0-9]+:[0-9]+: "
                                             "the count reached [0-9]+")));
  nlohmann::json json =
      nlohmann::json::parse(ReadFileOrEmpty(dir.path / "reports/unreached/result.json"));
  CHECK(json["verdict"] == "infrastructure failure");
  // The load went on past its 300 ms, waiting for the count.
  CHECK(json["timings"]["load"].get<double>() >= 0.85);
}

TEST_CASE("in_flight counts requests the target has read, not what the clients wrote") {
  // A target that listens and never accepts: every request the clients
  // write waits in its accept queue, unread. in_flight: 1 must never hold.
  TempDir dir;
  std::string yaml = ScenarioYaml(
      "  command: [python3, -c, 'import os, socket, time; s = socket.socket(); "
      "s.bind((\"127.0.0.1\", int(os.environ[\"PORT\"]))); s.listen(64); time.sleep(60)']\n"
      "  ready: {tcp: true}\n",
      "faults:\n  - when: {in_flight: 1}\n    signal: TERM\n");
  yaml.replace(yaml.find("  duration: 300ms\n"), 18, "  duration: 300ms\n  max_duration: 600ms\n");
  Output out = RunYaml(dir, "unread", yaml);
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("the count reached 0 (requests the target had read)") != std::string::npos);
}

TEST_CASE("a target killed by SIGTERM with requests read fails drained, each dropped after read") {
  // The signal waits until the target has read 4 requests, so the default
  // action kills it with work in hand, whatever the machine's speed.
  TempDir dir;
  std::string yaml = ScenarioYaml("  command: [" + kServer +
                                      ", --port, \"${port}\", --bug, no-handler]\n"
                                      "  env: {PAYMENT_LATENCY: 50ms}\n",
                                  "faults:\n  - when: {in_flight: 4}\n    signal: TERM\n"
                                  "expect: {fail: [drained, exit]}\n");
  yaml.replace(yaml.find("clients: 2"), 10, "clients: 8");
  Output out = RunYaml(dir, "dies", yaml);
  INFO(out.text);
  CHECK(out.code == 0);
  nlohmann::json json =
      nlohmann::json::parse(ReadFileOrEmpty(dir.path / "reports/dies/result.json"));
  CHECK(json["kernel_view"]["available"] == true);
  // The 4 it had read when the signal went, and any that reached its
  // sockets unread before it died.
  CHECK(json["causes"]["dropped after read"].get<int>() >= 4);
  for (const nlohmann::json& check : json["checks"])
    if (check["name"] == "drained")
      for (const nlohmann::json& offending : check["offending"])
        CHECK(std::regex_search(offending.get<std::string>(),
                                std::regex("\\((dropped after read|reset unread)\\)$")));
}

TEST_CASE("a port taken before the target binds it: a new port, else exit 3") {
  TempDir dir;
  // Takes the run's port itself, then binds it again: a real EADDRINUSE.
  std::string bind_twice =
      dir.Write("bind_twice.py",
                "import os, socket\n"
                "port = int(os.environ['PORT'])\n"
                "first = socket.socket(); first.bind(('127.0.0.1', port)); first.listen()\n"
                "socket.socket().bind(('127.0.0.1', port))\n");
  // Loses the race the first time only.
  std::string once = dir.Write("taken_once.sh", "if [ -e \"$0.done\" ]; then exec " + kServer +
                                                    " --port \"$PORT\"; fi\n"
                                                    "touch \"$0.done\"; exec python3 " +
                                                    bind_twice + "\n");
  Output out = RunYaml(dir, "once", ScenarioYaml("  command: [/bin/sh, " + once + "]\n"));
  INFO(out.text);
  CHECK(out.code == 0);
  CHECK(fs::exists(once + ".done"));

  out = RunYaml(dir, "always", ScenarioYaml("  command: [python3, " + bind_twice + "]\n"));
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("could not bind its port, 3 times") != std::string::npos);
  CHECK(out.text.find("Address already in use") != std::string::npos);
}

// --- Sender presets and triggers -------------------------------------------

namespace {

const std::string kRecorder = SIGNAL_RECORDER_BINARY;

struct RecorderRun {
  Output out;
  std::string log;        // target.log
  nlohmann::json result;  // result.json
};

// Runs the signal recorder (main, child, session, daemon processes) under
// one fault, given as a YAML flow map; `args` are more recorder arguments.
RecorderRun RunRecorder(const TempDir& dir, const std::string& name, const std::string& fault,
                        const std::string& args = "") {
  std::string yaml = "target:\n  command: [" + kRecorder + ", --port, \"${port}\"" + args +
                     "]\n"
                     "  ready: {log: listening}\n"
                     "load:\n  clients: 2\n  duration: 600ms\n  request: {method: GET, path: /}\n"
                     "faults:\n  - " +
                     fault +
                     "\n"
                     "audit:\n  applied: SELECT NULL::text, 0 WHERE false\n"
                     "  checks: [exit, orphans, faults]\n";
  RecorderRun run;
  run.out = RunYaml(dir, name, yaml);
  fs::path reports = dir.path / "reports" / name;
  run.log = ReadFileOrEmpty(reports / "target.log");
  if (fs::exists(reports / "result.json")) run.result = ReadJson(reports / "result.json");
  return run;
}

// The roles of the recorder's processes that received `signal`.
std::set<std::string> Receivers(const std::string& log, const std::string& signal) {
  std::set<std::string> roles;
  std::istringstream lines(log);
  const std::string mark = "signal " + signal + " to ";
  for (std::string line; std::getline(lines, line);) {
    size_t at = line.find(mark);
    if (at == std::string::npos) continue;
    std::string rest = line.substr(at + mark.size());
    roles.insert(rest.substr(0, rest.find(' ')));
  }
  return roles;
}

}  // namespace

TEST_CASE("each sender preset signals whom its system signals") {
  using Roles = std::set<std::string>;
  const Roles all = {"main", "child", "session", "daemon"};
  struct {
    const char* sender;
    const char* signal;
    Roles roles;
  } cases[] = {
      {"kubernetes", "TERM", {"main"}},              // PID 1 only
      {"supervisord", "TERM", {"main"}},             // the child it spawned
      {"nomad", "INT", {"main"}},                    // SIGINT, the task
      {"ctrl-c", "INT", {"main", "child"}},          // the foreground group
      {"pm2", "INT", {"main", "child", "session"}},  // the process tree
      {"systemd", "TERM", all},                      // the control group
      {"heroku", "TERM", all},                       // every dyno process
  };
  TempDir dir;
  for (const auto& c : cases) {
    RecorderRun run =
        RunRecorder(dir, c.sender, std::string("{at: 200ms, sender: ") + c.sender + "}");
    INFO(c.sender << "\n" << run.out.text << run.log);
    CHECK(run.out.code == 0);
    CHECK(Receivers(run.log, c.signal) == c.roles);
    CHECK(Receivers(run.log, c.signal == std::string("TERM") ? "INT" : "TERM").empty());
    // systemd follows TERM with CONT, to the same processes; nobody else does.
    CHECK(Receivers(run.log, "CONT") == (c.sender == std::string("systemd") ? all : Roles{}));
    REQUIRE(run.result.is_object());
    CHECK(run.result["faults"][0]["delivery_time"].get<double>() >= 0);
    CHECK(CheckOf(run.result, "exit")["status"] == "pass");
  }
}

TEST_CASE("escalation: each preset's SIGKILL reaches whom its system kills") {
  TempDir dir;
  // supervisord kills only the child it spawned: the rest is orphaned.
  RecorderRun supervisord = RunRecorder(
      dir, "supervisord", "{at: 200ms, sender: supervisord, grace: 300ms}", ", --ignore, TERM");
  INFO(supervisord.out.text << supervisord.log);
  REQUIRE(supervisord.result.is_object());
  CHECK(supervisord.result["faults"][0]["escalated"] == true);
  CHECK(CheckOf(supervisord.result, "exit")["status"] == "fail");
  CHECK(CheckOf(supervisord.result, "orphans")["offending"].size() == 3);
  // Kubernetes kills everything left in the container.
  RecorderRun kubernetes = RunRecorder(
      dir, "kubernetes", "{at: 200ms, sender: kubernetes, grace: 300ms}", ", --ignore, TERM");
  INFO(kubernetes.out.text << kubernetes.log);
  REQUIRE(kubernetes.result.is_object());
  CHECK(kubernetes.result["faults"][0]["escalated"] == true);
  CHECK(CheckOf(kubernetes.result, "exit")["status"] == "fail");
  CHECK(CheckOf(kubernetes.result, "orphans")["status"] == "pass");
  // A terminal never escalates: lastcall waits out the grace, then says so.
  RecorderRun terminal =
      RunRecorder(dir, "terminal", "{at: 200ms, sender: ctrl-c, grace: 300ms}", ", --ignore, INT");
  INFO(terminal.out.text << terminal.log);
  REQUIRE(terminal.result.is_object());
  CHECK(terminal.result["faults"][0]["escalated"] == false);
  CHECK(CheckOf(terminal.result, "exit")["offending"][0] ==
        "instance 1: still running 0.3s after INT (the sender does not escalate)");
}

TEST_CASE("db_transactions_open fires while payments are inside their transaction") {
  TempDir dir;
  Output out = RunYaml(dir, "db",
                       TriggerScenario("  - when: {db_transactions_open: 3}\n"
                                       "    signal: TERM\n",
                                       "80ms"));
  INFO(out.text);
  CHECK(out.code == 0);
  nlohmann::json fault = ResultOf(dir, "db")["faults"][0];
  CHECK(fault["fired"] == true);
  // The watch counted the open transactions again just after kill(2): the
  // signal landed inside them (an 80 ms window each).
  CHECK(fault["transactions_open_after_signal"].get<int>() >= 1);
  CHECK(fault["poll_interval_us"].get<double>() > 0);
  CHECK(fault["delivery_time"].get<double>() >= fault["trigger_time"].get<double>());
}

TEST_CASE("a log trigger fires on the target's own line: a second TERM during the drain") {
  TempDir dir;
  Output out = RunYaml(dir, "log",
                       TriggerScenario("  - {at: 300ms, signal: TERM}\n"
                                       "  - when: {log: 'draining [0-9]+'}\n"
                                       "    signal: TERM\n"));
  INFO(out.text);
  CHECK(out.code == 0);  // the reference target finishes its drain anyway
  std::vector<nlohmann::json> signals = EventsOf(dir, "log", "signal");
  REQUIRE(signals.size() == 2);
  std::string log = ReadFileOrEmpty(dir.path / "reports" / "log" / "target.log");
  size_t draining = log.find("draining ");
  REQUIRE(draining != std::string::npos);
  // target.log stamps each line with its time: the second signal follows it.
  double line_time = std::stod(log.substr(log.rfind('[', log.rfind('[', draining) - 1) + 1));
  CHECK(signals[1]["time"].get<double>() / 1e9 >= line_time);
  CHECK(ResultOf(dir, "log")["instances"][0]["exit"] == "0");
}

TEST_CASE("an sql trigger fires once the query returns true") {
  TempDir dir;
  Output out = RunYaml(dir, "sql",
                       TriggerScenario("  - when: {sql: 'SELECT count(*) >= 40 FROM ledger'}\n"
                                       "    signal: TERM\n"));
  INFO(out.text);
  CHECK(out.code == 0);
  nlohmann::json result = ResultOf(dir, "sql");
  CHECK(result["faults"][0]["fired"] == true);
  // At least 40 payments were committed before the signal: count the
  // acknowledgements that came before it, plus those in flight then.
  double signal = result["faults"][0]["delivery_time"].get<double>();
  std::ifstream in(dir.path / "reports" / "sql" / "history.jsonl");
  int before = 0, started = 0;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json op = nlohmann::json::parse(line);
    if (op["process"] == "nemesis" || op["time"].get<double>() / 1e9 > signal) continue;
    if (op["type"] == "invoke") ++started;
    if (op["type"] == "ok") ++before;
  }
  CHECK(started >= 40);
  CHECK(before <= started);

  Output bad = RunYaml(dir, "badsql",
                       TriggerScenario("  - when: {sql: 'SELECT nonsense'}\n"
                                       "    signal: TERM\n"));
  CHECK(bad.code == 2);
  // At the fault whose query failed.
  CHECK(std::regex_search(bad.text, std::regex("badsql\\.yaml:[0-9]+:[0-9]+: the database "
                                               "trigger failed: ERROR:  column \"nonsense\"")));
}

TEST_CASE("a random trigger: the same seed gives the same moment and another seed another") {
  TempDir dir;
  std::string faults = "  - random: {between: [100ms, 900ms]}\n    signal: TERM\n";
  std::string file = dir.Write("random.yaml", TriggerScenario(faults));
  auto moment = [&](const std::string& seed) {
    Output out =
        Lastcall({"run", "--reports", (dir.path / "reports").string(), "--seed", seed, file});
    INFO(out.text);
    CHECK(out.code == 0);
    return ResultOf(dir, "random")["resolved_scenario"]["faults"][0]["trigger"]["at"].get<double>();
  };
  double first = moment("5"), again = moment("5"), other = moment("6");
  CHECK(first == again);
  CHECK(first != other);
  CHECK(first >= 0.1);
  CHECK(first <= 0.9);
}

TEST_CASE("a restart's history spans two processes and container mode runs PID 1") {
  TempDir dir;
  std::string yaml = TriggerScenario(
      "  - {at: 300ms, signal: KILL}\n"
      "  - after_exit: {restart: true}\n");
  yaml.replace(yaml.find("  env:"), 0, "  container: true\n");
  Output out = RunYaml(dir, "restart", yaml);
  INFO(out.text);
  nlohmann::json instances = ResultOf(dir, "restart")["instances"];
  REQUIRE(instances.size() == 2);
  CHECK(instances[0]["pid"] != instances[1]["pid"]);
  CHECK(instances[0]["exit"] == "KILL");
  // The pid recorded is the namespace's PID 1 (the target), not its parent.
  std::string log = ReadFileOrEmpty(dir.path / "reports" / "restart" / "target.log");
  CHECK(log.find("listening") != std::string::npos);
  for (const nlohmann::json& instance : instances) CHECK(instance["pid"].get<int>() > 0);
}
