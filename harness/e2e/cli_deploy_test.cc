// End-to-end tests of the lastcall command: Deploys: --set and the timeout comparison, and the
// control run.
#include "e2e/cli_support.h"

using namespace lastcall;

// --- matrix and --set ----------------------------------------------------

namespace {

// Seconds from the first fault's delivery to its instance's exit.
double DrainSeconds(const nlohmann::json& result) {
  return result["instances"][0]["exit_time"].get<double>() -
         result["faults"][0]["delivery_time"].get<double>();
}

std::string StatusOf(const nlohmann::json& result, const std::string& name) {
  for (const auto& check : result["checks"])
    if (check["name"] == name) return check["status"];
  return "absent";
}

}  // namespace

TEST_CASE("run with --set overrides a scenario value, check with a bad path is exit 2") {
  TempDir dir;
  std::string file =
      dir.Write("set.yaml", ScenarioYaml(kServerTarget, "faults:\n  - {at: 100ms, grace: 30s}\n"));
  // Each --set takes one value: the path after it stays a path.
  Output out = Lastcall({"run", "--reports", (dir.path / "reports").string(), "--set",
                         "faults.0.grace=7s", "--set", "target.env.PAYMENT_LATENCY=5ms", file});
  INFO(out.text);
  CHECK(out.code == 0);
  nlohmann::json resolved =
      ReadJson(dir.path / "reports" / "set" / "result.json")["resolved_scenario"];
  CHECK(resolved["faults"][0]["grace"] == 7.0);
  CHECK(resolved["target"]["env"]["PAYMENT_LATENCY"] == "5ms");

  out = Lastcall({"check", "--set", "faults[3].grace=1s", file});
  INFO(out.text);
  CHECK(out.code == 2);
  CHECK(
      out.text.find(file + ": --set faults[3].grace=1s: faults is a list of 1 item, no index 3") !=
      std::string::npos);
}

TEST_CASE("compare-timeouts: a short grace cuts payments, a long one slows the deploy") {
  TempDir dir;
  Output out = Lastcall({"run", "--reports", (dir.path / "reports").string(), "--only",
                         "compare-timeouts", "scenarios/compare-timeouts.yaml"});
  INFO(out.text);
  CHECK(out.code == 0);
  CHECK(out.text.find("matrix compare-timeouts:\n  grace  drain  verdict") != std::string::npos);
  const fs::path reports = dir.path / "reports" / "compare-timeouts";
  for (const char* drain : {"500ms", "10s"}) {
    nlohmann::json short_grace =
        ReadJson(reports / ("grace=300ms,drain=" + std::string(drain)) / "result.json");
    INFO("grace 300ms, drain " << drain);
    CHECK(short_grace["faults"][0]["escalated"] == true);
    CHECK(StatusOf(short_grace, "drained") == "fail");  // payments cut
    CHECK(StatusOf(short_grace, "exit") == "fail");
  }
  // The server's own drain timeout, shorter than the grace: it gives up by
  // itself, cutting payments, and exits 1 without being killed.
  nlohmann::json server_gives_up = ReadJson(reports / "grace=3s,drain=500ms" / "result.json");
  CHECK(server_gives_up["faults"][0]["escalated"] == false);
  CHECK(StatusOf(server_gives_up, "drained") == "fail");
  CHECK(server_gives_up["instances"][0]["exit"] == "1");

  nlohmann::json cut = ReadJson(reports / "grace=300ms,drain=10s" / "result.json");
  nlohmann::json patient = ReadJson(reports / "grace=3s,drain=10s" / "result.json");
  CHECK(patient["faults"][0]["escalated"] == false);
  CHECK(StatusOf(patient, "drained") == "pass");
  CHECK(StatusOf(patient, "exit") == "pass");
  CHECK(patient["instances"][0]["exit"] == "0");
  // Answering every payment costs deploy time: the 1 s payments in flight.
  CHECK(DrainSeconds(patient) > DrainSeconds(cut) + 0.3);
  CHECK(ReadJson(dir.path / "reports" / "compare-timeouts" / "grace=3s,drain=10s" /
                 "result.json")["resolved_scenario"]["matrix"] ==
        nlohmann::json::array({{"grace", "3s"}, {"drain", "10s"}}));
  std::string text = ReadFileOrEmpty(dir.path / "reports" / "summary.md");
  CHECK(text.find("### Matrix `compare-timeouts`") != std::string::npos);
}

namespace {

// A payment service that acknowledges every fifth payment without applying
// it, signal or no signal: a plain bug, not a shutdown bug.
const char* const kAcksWithoutApplying = R"(import os, signal, sys, threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
import psycopg2

db = psycopg2.connect(os.environ["DATABASE_URL"])
db.autocommit = True
lock = threading.Lock()
count = 0

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            count += 1
            if count % 5:
                db.cursor().execute("INSERT INTO payments VALUES (%s) ON CONFLICT DO NOTHING",
                                    (self.headers["Idempotency-Key"],))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass

class Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True

server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
print("listening", flush=True)
server.serve_forever()
)";

}  // namespace

TEST_CASE("run --control: a correct target passes its control, then its real run, exit 0") {
  TempDir dir;
  std::string file = dir.Write("term.yaml", TriggerScenario("  - {at: 300ms, signal: TERM}\n"));
  const std::string reports = (dir.path / "reports").string();
  Output out = Lastcall({"run", "--control", "--reports", reports, file});
  INFO(out.text);
  CHECK(out.code == 0);
  CHECK(out.text.find("PASS  term ") != std::string::npos);
  CHECK(out.text.find("\n      control run (no fault) passed: lost, duplicated, phantom (") !=
        std::string::npos);
  nlohmann::json result = ResultOf(dir, "term");
  CHECK(result["verdict"] == "met");
  CHECK(result["control"]["passed"] == true);
  CHECK(result["control"]["report_dir"] == reports + "/term/control");
  CHECK(result["faults"][0]["fired"] == true);
  CHECK(EventsOf(dir, "term", "signal").size() == 1);
  CHECK(ReadFileOrEmpty(dir.path / "reports" / "term" / "junit.xml").find("name=\"control\"") !=
        std::string::npos);
  // The control's own reports, beside the real run's: the same load, no signal.
  nlohmann::json control = ResultOf(dir, "term/control");
  CHECK(control["scenario"] == "term (control)");
  CHECK(control["verdict"] == "met");
  CHECK(control["resolved_scenario"]["faults"].empty());
  CHECK(control["counts"]["ok"].get<int64_t>() > 0);
  CHECK(EventsOf(dir, "term/control", "signal").empty());
  for (const char* report :
       {"history.jsonl", "target.log", "junit.xml", "summary.md", "index.html"})
    CHECK(fs::exists(dir.path / "reports" / "term" / "control" / report));
}

TEST_CASE(
    "control: a target that loses payments without a signal is invalid, exit 4 over a not met") {
  TempDir dir;
  const std::string server = dir.Write("acks.py", kAcksWithoutApplying);
  fs::create_directories(dir.path / "suite");
  // Both files ask for their control run themselves: no --control.
  dir.Write("suite/acks.yaml",
            "control: true\n"
            "database: {setup: 'CREATE TABLE payments (key text PRIMARY KEY)'}\n"
            "target:\n  command: [/usr/bin/python3, " +
                server +
                ", \"${port}\"]\n"
                "  ready: {log: listening}\n"
                "load:\n  clients: 2\n  duration: 300ms\n"
                "  request: {headers: {Idempotency-Key: \"${key}\"}}\n"
                "faults:\n  - {at: 150ms, signal: TERM}\n"
                "audit:\n  applied: SELECT key, 1 FROM payments\n");
  // A correct target that a bug-reproduction scenario expects to lose
  // payments: its control passes, its real run's verdict (not met) stands.
  dir.Write("suite/expects-lost.yaml", "control: true\nexpect: {fail: [lost]}\n" +
                                           TriggerScenario("  - {at: 300ms, signal: TERM}\n"));
  const std::string reports = (dir.path / "reports").string();
  Output out = Lastcall({"run", "--reports", reports, (dir.path / "suite").string()});
  INFO(out.text);
  CHECK(out.code == 4);
  CHECK(out.text.find("INVALID  acks ") != std::string::npos);
  CHECK(out.text.find("\n      control run (no fault) failed: lost; its reports: " + reports +
                      "/acks/control\n      lost failed: ") != std::string::npos);
  CHECK(out.text.find("FAIL  expects-lost ") != std::string::npos);
  CHECK(out.text.find("1 not met, 0 bad input, 0 infrastructure failures, "
                      "1 invalid (fail without a fault)") != std::string::npos);

  nlohmann::json invalid = ResultOf(dir, "acks");
  CHECK(invalid["verdict"] == "invalid");
  CHECK(invalid["checks"].empty());
  CHECK(invalid["control"]["failed_checks"] == nlohmann::json::array({"lost"}));
  // The real run was not run: the target was started once, by the control.
  CHECK(ReadFileOrEmpty(dir.path / "reports" / "acks" / "history.jsonl").empty());
  CHECK_FALSE(fs::exists(dir.path / "reports" / "acks" / "target.log"));
  nlohmann::json control = ResultOf(dir, "acks/control");
  CHECK(control["verdict"] == "not met");
  CHECK(control["checks"][0]["name"] == "lost");
  CHECK(control["checks"][0]["status"] == "fail");
  CHECK(fs::exists(dir.path / "reports" / "acks" / "control" / "target.log"));

  nlohmann::json bug = ResultOf(dir, "expects-lost");
  CHECK(bug["verdict"] == "not met");
  CHECK(bug["control"]["passed"] == true);
  const std::string junit = ReadFileOrEmpty(dir.path / "reports" / "junit.xml");
  CHECK(junit.find("<error type=\"invalid\" message=\"fails without a fault") != std::string::npos);
  CHECK(junit.find("<failure type=\"lost\" message=\"expected lost to fail") != std::string::npos);
  CHECK(ReadFileOrEmpty(dir.path / "reports" / "summary.md").find("| ⚠️ `acks` | invalid |") !=
        std::string::npos);
}

TEST_CASE(
    "control: a shutdown bug's reproduction passes its control, waited for at rest, and keeps its "
    "verdict") {
  // respond-before-commit answers before it commits: a teardown right after
  // the load would cut those commits short, and the control would blame the
  // service for what a shutdown did.
  TempDir dir;
  Output out = Lastcall({"run", "--control", "--reports", (dir.path / "reports").string(),
                         "scenarios/bugs/respond-before-commit.yaml"});
  INFO(out.text);
  CHECK(out.code == 0);
  CHECK(out.text.find("control run (no fault) passed: lost, duplicated, phantom, invariants") !=
        std::string::npos);
  nlohmann::json result = ResultOf(dir, "respond-before-commit");
  CHECK(result["verdict"] == "met");
  CHECK(result["checks"][0]["status"] == "fail");  // lost, with the SIGKILL
  std::vector<nlohmann::json> rest = EventsOf(dir, "respond-before-commit/control", "rest");
  REQUIRE(rest.size() == 1);
  CHECK(rest[0]["value"].get<std::string>().find("at rest after") == 0);
  CHECK(EventsOf(dir, "respond-before-commit", "rest").empty());
}
