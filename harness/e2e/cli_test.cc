// End-to-end tests of the lastcall command itself: real processes, the real
// embedded PostgreSQL, scenario files written to a temporary folder.
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <pqxx/pqxx>

#include "check/catalogue.h"
#include "process/database.h"
#include "scenario/scenario.h"
#include "scenario/sender.h"
#include "process/subprocess.h"
#include "base/wait_until.h"

using namespace lastcall;
namespace fs = std::filesystem;

namespace {

struct Output {
  int code = -1;
  std::string text;  // stdout and stderr
};

// A temporary folder, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "lastcall-test-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

// A signal for lastcall, sent as soon as `when()` holds (after the ones
// before it).
struct Poke {
  int signal;
  std::function<bool()> when;
};

// Runs lastcall with `args` and TMPDIR=`tmpdir` (if given), poking it as
// `pokes` say, through the command `wrapper` if given (it gets lastcall's
// argv as its last arguments). Waits at most 120 s.
Output Lastcall(std::vector<std::string> args, const std::vector<Poke>& pokes,
                const std::string& tmpdir = "",
                const std::vector<std::string>& wrapper = {}) {
  args.insert(args.begin(), LASTCALL_BINARY);
  args.insert(args.begin(), wrapper.begin(), wrapper.end());
  SpawnOptions options;
  options.argv = args;
  for (char** e = environ; *e; ++e)
    if (tmpdir.empty() || std::string(*e).rfind("TMPDIR=", 0) != 0)
      options.env.push_back(*e);
  if (!tmpdir.empty()) options.env.push_back("TMPDIR=" + tmpdir);
  options.cwd = LASTCALL_SOURCE_DIR;
  std::string error;
  std::unique_ptr<Subprocess> p = Subprocess::Start(options, &error);
  REQUIRE(p);
  Output out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  size_t poked = 0;
  char buffer[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fd{p->output_fd(), POLLIN, 0};
    poll(&fd, 1, 100);
    ssize_t n = read(p->output_fd(), buffer, sizeof buffer);
    if (n > 0) out.text.append(buffer, static_cast<size_t>(n));
    if (poked < pokes.size() && pokes[poked].when()) p->Signal(pokes[poked++].signal, false);
    if (n == 0) break;
  }
  REQUIRE(p->Wait(std::chrono::seconds(30)));
  const ExitStatus& status = *p->exit_status();
  out.code = status.by_signal ? 128 + status.value : status.value;
  return out;
}

// Lastcall() with at most one signal.
Output Lastcall(std::vector<std::string> args, int signal = 0,
                const std::function<bool()>& when = nullptr,
                const std::string& tmpdir = "") {
  std::vector<Poke> pokes;
  if (signal) pokes.push_back({signal, when});
  return Lastcall(std::move(args), pokes, tmpdir);
}

std::string FileText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// True when a live process carries LASTCALL_RUN_ID=`run_id`.
bool RunProcessesAlive(const std::string& run_id) {
  const std::string needle = "LASTCALL_RUN_ID=" + run_id;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::ifstream environ_file(entry.path() / "environ", std::ios::binary);
    std::string env((std::istreambuf_iterator<char>(environ_file)), {});
    if (env.find(needle) != std::string::npos) return true;
  }
  return false;
}

const std::string kSchema =
    std::string(LASTCALL_SOURCE_DIR) + "/targets/payment-server/schema.sql";
const std::string kServer = PAYMENT_SERVER_BINARY;
// The target section that runs the reference target on the run's port.
const std::string kServerTarget = "  command: [" + kServer + ", --port, \"${port}\"]\n";

// The YAML of a scenario around `target` (YAML of the target section's body).
std::string ScenarioYaml(const std::string& target, const std::string& extra = "") {
  return "database:\n  schema: " + kSchema + "\n"
         "target:\n" + target +
         "load:\n  clients: 2\n  duration: 300ms\n"
         "  request: {body: '{\"from\":\"acct-${from}\",\"to\":\"acct-${to}\",\"amount\":${amount}}',"
         " headers: {Idempotency-Key: \"${key}\"}}\n"
         "audit:\n  applied: SELECT idempotency_key, count(*) FROM ledger GROUP BY 1\n" + extra;
}

// Writes `yaml` as `name`.yaml in `dir` and runs it, reports in dir/reports.
Output RunYaml(const TempDir& dir, const std::string& name,
               const std::string& yaml) {
  std::string file = dir.Write(name + ".yaml", yaml);
  return Lastcall({"run", "--reports", (dir.path / "reports").string(), file});
}

// `name`.yaml in `dir` (default long.yaml): the reference target under a
// 60 s load, so that a signal to lastcall surely lands during it.
std::string LongScenario(const TempDir& dir, const std::string& name = "long") {
  std::string text = ScenarioYaml(kServerTarget);
  text.replace(text.find("300ms"), 5, "60s");
  return dir.Write(name + ".yaml", text);
}

// True once the target of `name`.yaml logs that it is serving.
bool LongTargetServing(const std::string& reports, const std::string& name = "long") {
  std::ifstream log(reports + "/" + name + "/target.log.partial");
  std::stringstream content;
  content << log.rdbuf();
  return content.str().find("listening") != std::string::npos;
}

}  // namespace

TEST_CASE("check accepts every bundled scenario") {
  Output out = Lastcall({"check", "scenarios"});
  INFO(out.text);
  CHECK(out.code == 0);
}

TEST_CASE("a bad scenario file: file:line:column, exit 2, nothing started") {
  TempDir dir;
  std::string file = dir.Write("bad.yaml", ScenarioYaml("  command: [/bin/true]\n", "expect: pas\nloud: 1\n"));
  Output out = Lastcall({"run", "--reports", (dir.path / "reports").string(), file});
  INFO(out.text);
  CHECK(out.code == 2);
  CHECK(out.text.find(file + ":") != std::string::npos);
  CHECK(out.text.find("loud") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path / "reports"));
}

TEST_CASE("a target command that does not exist: exit 2 with the reason") {
  TempDir dir;
  Output out = RunYaml(dir, "missing", ScenarioYaml("  command: [/nonexistent/server]\n"));
  INFO(out.text);
  CHECK(out.code == 2);
  CHECK(out.text.find("/nonexistent/server") != std::string::npos);
  CHECK(out.text.find("No such file or directory") != std::string::npos);
}

TEST_CASE("a target that never becomes ready: exit 3 with its log tail") {
  TempDir dir;
  Output out = RunYaml(
      dir, "slow",
      ScenarioYaml("  command: [/bin/sh, -c, 'echo warming up; exec sleep 30']\n"
                   "  ready: {http: /healthz, timeout: 300ms}\n"));
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("not ready within 300ms; its last output") != std::string::npos);
  CHECK(out.text.find("warming up") != std::string::npos);
}

TEST_CASE("a target that exits before it is ready: exit 3 with its output") {
  TempDir dir;
  Output out = RunYaml(
      dir, "crash",
      ScenarioYaml("  command: [/bin/sh, -c, 'echo cannot bind >&2; exit 4']\n"));
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("exit 4") != std::string::npos);
  CHECK(out.text.find("cannot bind") != std::string::npos);
}

TEST_CASE("lastcall interrupted by SIGINT: stops everything, exits 130, report marked") {
  TempDir dir;
  std::string file = LongScenario(dir);
  std::string reports = (dir.path / "reports").string();
  fs::create_directory(dir.path / "tmp");
  auto start = std::chrono::steady_clock::now();
  Output out = Lastcall({"run", "--reports", reports, file}, SIGINT,
                        [&] { return LongTargetServing(reports); }, (dir.path / "tmp").string());
  INFO(out.text);
  CHECK(out.code == 130);
  std::ifstream result(reports + "/long/result.json");
  REQUIRE(result);
  nlohmann::json json = nlohmann::json::parse(result);
  CHECK(json["interrupted"] == true);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
  // Nothing left behind: no process of the run, and lastcall's work folder
  // (the database's data among it) is gone.
  CHECK_FALSE(RunProcessesAlive(json["run_id"]));
  CHECK(fs::is_empty(dir.path / "tmp"));
}

TEST_CASE("a second Ctrl-C skips the polite stop of a target that ignores SIGTERM") {
  TempDir dir;
  // lastcall's polite stop would wait 10 s for this target before SIGKILL.
  std::string text = ScenarioYaml("  command: [" + kServer +
                                  ", --port, \"${port}\", --bug, ignore-signal]\n");
  text.replace(text.find("300ms"), 5, "60s");
  std::string file = dir.Write("long.yaml", text);
  std::string reports = (dir.path / "reports").string();
  fs::create_directory(dir.path / "tmp");
  std::chrono::steady_clock::time_point second;
  auto told_to_stop = [&] {
    // The target reports the polite SIGTERM lastcall sent it after Ctrl-C.
    bool told = FileText(reports + "/long/target.log.partial").find("received shutdown signal") !=
                std::string::npos;
    if (told) second = std::chrono::steady_clock::now();
    return told;
  };
  Output out = Lastcall({"run", "--reports", reports, file},
                        {{SIGINT, [&] { return LongTargetServing(reports); }},
                         {SIGINT, told_to_stop}},
                        (dir.path / "tmp").string());
  INFO(out.text);
  CHECK(out.code == 130);
  // Well before the 10 s the polite stop gives (not a timing claim: the
  // point is that the second Ctrl-C did not wait for it).
  CHECK(std::chrono::steady_clock::now() - second < std::chrono::seconds(5));
  std::ifstream result(reports + "/long/result.json");
  REQUIRE(result);
  nlohmann::json json = nlohmann::json::parse(result);
  CHECK(json["interrupted"] == true);
  CHECK_FALSE(RunProcessesAlive(json["run_id"]));
  CHECK(fs::is_empty(dir.path / "tmp"));
}

namespace {

// A PostgreSQL server of the test's own, in `dir`/server, for --db.
std::unique_ptr<EmbeddedPostgres> ExternalServer(const TempDir& dir) {
  std::string error;
  fs::create_directory(dir.path / "server");
  std::unique_ptr<EmbeddedPostgres> server =
      EmbeddedPostgres::Start((dir.path / "server").string(), &error);
  INFO(error);
  REQUIRE(server);
  return server;
}

}  // namespace

TEST_CASE("run with --db uses an existing server and drops the run database") {
  TempDir dir;
  std::unique_ptr<EmbeddedPostgres> server = ExternalServer(dir);
  // A crash and a restart: lost, duplicated and connections_leaked, all
  // judged on the external server.
  Output out = Lastcall({"run", "--db", server->UrlFor("postgres"), "--reports",
                         (dir.path / "reports").string(),
                         "scenarios/sigkill-then-restart.yaml"});
  INFO(out.text);
  CHECK(out.code == 0);
  pqxx::connection c(server->UrlFor("postgres"));
  pqxx::nontransaction tx(c);
  CHECK(tx.exec("SELECT 1 FROM pg_database WHERE datname LIKE 'lastcall_run_%'").empty());
  // Nor the roles of its two instances; the template's owner stays with it.
  CHECK(tx.exec("SELECT 1 FROM pg_roles WHERE rolname LIKE 'lastcall%' AND rolname NOT IN "
                "(SELECT datname FROM pg_database WHERE datname LIKE 'lastcall_tpl_%')")
            .empty());
}

TEST_CASE("run with --db and an unreachable server: exit 3, nothing started") {
  TempDir dir;
  Output out = Lastcall({"run", "--db", "postgresql://nobody@127.0.0.1:1/none",
                         "--reports", (dir.path / "reports").string(),
                         "scenarios/sigterm-under-load.yaml"});
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("cannot reach the database server") != std::string::npos);
}

TEST_CASE("junit.xml parses as XML and summary.md reaches the GitHub step summary") {
  TempDir dir;
  std::string reports = (dir.path / "reports").string();
  std::string step_summary = (dir.path / "step-summary.md").string();
  setenv("GITHUB_STEP_SUMMARY", step_summary.c_str(), 1);
  Output out = Lastcall({"run", "--reports", reports, "scenarios/bugs/no-drain.yaml"});
  unsetenv("GITHUB_STEP_SUMMARY");
  INFO(out.text);
  CHECK(out.code == 0);
  // A real XML parser, as CI systems use: python3's xml.etree.
  SpawnOptions parse;
  parse.argv = {"python3", "-c",
                "import sys, xml.etree.ElementTree as ET\n"
                "for f in sys.argv[1:]:\n"
                "    root = ET.parse(f).getroot()\n"
                "    assert root.tag == 'testsuites', root.tag\n"
                "    suite = root.find('testsuite')\n"
                "    assert suite.get('name') == 'no-drain'\n"
                "    assert int(suite.get('failures')) == 0\n"
                "    assert len(suite.findall('testcase')) == int(suite.get('tests'))\n",
                reports + "/junit.xml", reports + "/no-drain/junit.xml"};
  parse.env = {"PATH=/usr/bin:/bin"};
  std::string error;
  std::unique_ptr<Subprocess> python = Subprocess::Start(parse, &error);
  REQUIRE(python);
  REQUIRE(python->Wait(std::chrono::seconds(30)));
  CHECK(python->exit_status()->ToString() == "exit 0");
  std::ifstream summary(step_summary);
  std::string text((std::istreambuf_iterator<char>(summary)), {});
  CHECK(text.find("1 of 1 scenario runs met their expectation") != std::string::npos);
  CHECK(text.find("**drained** failed") != std::string::npos);
}

TEST_CASE("a schema with an SQL error: exit 2 with PostgreSQL's message and line") {
  TempDir dir;
  std::string schema = dir.Write("schema.sql",
                                 "CREATE TABLE ledger (idempotency_key text);\n"
                                 "CREATE TABLE accounts (id text,, balance bigint);\n");
  std::string yaml = ScenarioYaml(kServerTarget);
  yaml.replace(yaml.find(kSchema), kSchema.size(), schema);
  Output out = RunYaml(dir, "badschema", yaml);
  INFO(out.text);
  CHECK(out.code == 2);
  CHECK(out.text.find("syntax error") != std::string::npos);
  CHECK(out.text.find("line 2") != std::string::npos);
}

TEST_CASE("an audit query that fails or returns the wrong columns: exit 2") {
  TempDir dir;
  const std::string good = "SELECT idempotency_key, count(*) FROM ledger GROUP BY 1";
  std::string yaml = ScenarioYaml(kServerTarget);
  std::string failing = yaml, wrong = yaml;
  failing.replace(failing.find(good), good.size(), "SELECT nonsense FROM ledger");
  wrong.replace(wrong.find(good), good.size(), "SELECT idempotency_key FROM ledger");
  Output out = RunYaml(dir, "failing", failing);
  INFO(out.text);
  CHECK(out.code == 2);
  // Where the query is written, then the server's message.
  CHECK(out.text.find("failing.yaml:10:12: audit.applied failed") != std::string::npos);
  CHECK(out.text.find("nonsense") != std::string::npos);
  out = RunYaml(dir, "wrong", wrong);
  INFO(out.text);
  CHECK(out.code == 2);
  CHECK(out.text.find("must return 2 columns") != std::string::npos);
}

TEST_CASE("a reports folder that cannot be made: exit 2, nothing started") {
  TempDir dir;
  std::string blocker = dir.Write("a-file", "not a folder\n");
  std::string file = dir.Write("ok.yaml", ScenarioYaml("  command: [/bin/true]\n"));
  Output out = Lastcall({"run", "--reports", blocker + "/reports", file});
  INFO(out.text);
  CHECK(out.code == 2);
  CHECK(out.text.find("cannot write reports to " + blocker + "/reports") != std::string::npos);
}

// Every file and folder under `root`, relative to it, links not followed.
std::set<std::string> Tree(const fs::path& root) {
  std::set<std::string> entries;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it)
    entries.insert(fs::relative(it->path(), root).string());
  return entries;
}

TEST_CASE("a name that leads out of --reports: exit 2 at its position, nothing written outside") {
  TempDir dir;
  const fs::path reports = dir.path / "a" / "b" / "reports";
  for (const std::string name : {"../../escape", "..", ".", "/tmp/x", ""}) {
    INFO(name);
    std::string file = dir.Write("hostile.yaml", "name: \"" + name + "\"\n" +
                                                     ScenarioYaml(kServerTarget));
    Output check = Lastcall({"check", file});
    INFO(check.text);
    CHECK(check.code == 2);
    CHECK(check.text.find(file + ":1:7: name must be folder names joined by '/'") !=
          std::string::npos);
    Output run = Lastcall({"run", "--reports", reports.string(), file});
    INFO(run.text);
    CHECK(run.code == 2);
    CHECK(Tree(dir.path) == std::set<std::string>{"hostile.yaml"});
  }
}

TEST_CASE("a symbolic link at a run's folder is not written through: exit 3") {
  TempDir dir;
  const fs::path reports = dir.path / "reports", elsewhere = dir.path / "elsewhere";
  fs::create_directories(reports);
  fs::create_directories(elsewhere);
  fs::create_symlink(elsewhere, reports / "linked");
  fs::create_symlink(elsewhere, reports / "conformance");
  for (const std::string name : {"linked", "conformance/go"}) {
    INFO(name);
    std::string file = dir.Write("s.yaml", "name: " + name + "\n" + ScenarioYaml(kServerTarget));
    Output out = Lastcall({"run", "--reports", reports.string(), file});
    INFO(out.text);
    CHECK(out.code == 3);
    const std::string link = (reports / fs::path(name).begin()->string()).string();
    CHECK(out.text.find("will not write reports through " + link + ": it is a symbolic link") !=
          std::string::npos);
    CHECK(fs::is_empty(elsewhere));
    CHECK(fs::is_symlink(link));
  }
}

TEST_CASE("a target's file name with ESC, newline and backticks: escaped in every report") {
  TempDir dir;
  const fs::path reports = dir.path / "reports";
  // The target leaves a file named ESC ]0;owned BEL (a terminal's title),
  // ESC [2J (clear the screen), a newline and ``x`` in its TMPDIR.
  const std::string leaked = "\x1b]0;owned\x07\x1b[2J\nnext ``x``";
  const std::string shown = "instance 1: \\x1b]0;owned\\x07\\x1b[2J\\nnext ``x``";
  Output out = RunYaml(
      dir, "hostile",
      ScenarioYaml("  command: [/bin/sh, -c, 'touch \"$TMPDIR/$(printf \"\\033]0;owned\\007"
                   "\\033[2J\\nnext \\140\\140x\\140\\140\")\"; exec " + kServer +
                   " --port \"$PORT\"']\n"));
  INFO(out.text);
  CHECK(out.code == 1);
  auto has_controls = [](const std::string& text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
      return (static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f;
    });
  };
  CHECK_FALSE(has_controls(out.text));
  CHECK(out.text.find("\n        " + shown + "\n") != std::string::npos);
  for (const fs::path& folder : {reports, reports / "hostile"}) {
    INFO(folder);
    const std::string summary = FileText(folder / "summary.md");
    CHECK_FALSE(has_controls(summary));
    CHECK(summary.find("  - ``` " + shown + " ```\n") != std::string::npos);
    const std::string junit = FileText(folder / "junit.xml");
    CHECK_FALSE(has_controls(junit));
    CHECK(junit.find(shown + "\n") != std::string::npos);
  }
  for (const fs::path& page : {reports / "index.html", reports / "hostile" / "index.html"})
    CHECK_FALSE(has_controls(FileText(page)));
  CHECK(FileText(reports / "hostile" / "index.html").find(shown + "<br>") != std::string::npos);
  // result.json keeps the exact name.
  nlohmann::json result = nlohmann::json::parse(FileText(reports / "hostile" / "result.json"));
  bool found = false;
  for (const nlohmann::json& check : result["checks"])
    if (check["name"] == "temp_files")
      found = check["offending"] == nlohmann::json::array({"instance 1: " + leaked});
  CHECK(found);
}

TEST_CASE("run removes the work folder of a lastcall that died, not of a live one") {
  TempDir dir;
  fs::create_directory(dir.path / "tmp");
  // A pid that surely is gone: a child we started and reaped.
  SpawnOptions done;
  done.argv = {"/bin/true"};
  std::string error;
  std::unique_ptr<Subprocess> child = Subprocess::Start(done, &error);
  REQUIRE(child);
  REQUIRE(child->Wait(std::chrono::seconds(10)));
  const fs::path stale = dir.path / "tmp" / "lastcall-stale1";
  const fs::path live = dir.path / "tmp" / "lastcall-live01";
  fs::create_directories(stale / "postgres" / "pgdata");
  fs::create_directories(live);
  std::ofstream(stale / "lastcall.pid") << child->pid() << "\n";
  std::ofstream(live / "lastcall.pid") << getpid() << "\n";
  Output out = Lastcall({"run", "--db", "postgresql://nobody@127.0.0.1:1/none", "--reports",
                         (dir.path / "reports").string(), "scenarios/sigterm-under-load.yaml"},
                        0, nullptr, (dir.path / "tmp").string());
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live));
}

TEST_CASE("an in_flight trigger fires, and its moments are in result.json") {
  TempDir dir;
  Output out = RunYaml(dir, "inflight",
                       ScenarioYaml(kServerTarget + "  env: {PAYMENT_LATENCY: 20ms}\n",
                                    "faults:\n  - when: {in_flight: 2}\n    signal: TERM\n"));
  INFO(out.text);
  CHECK(out.code == 0);  // `faults` would fail had it never fired
  std::ifstream result((dir.path / "reports" / "inflight" / "result.json").string());
  REQUIRE(result);
  nlohmann::json json = nlohmann::json::parse(result);
  CHECK(json["faults"][0]["fired"] == true);
  CHECK(json["faults"][0]["delivery_time"].get<double>() >=
        json["faults"][0]["trigger_time"].get<double>());
  CHECK(json["instances"][0]["exit"] == "0");
}

TEST_CASE("a count trigger the load never reaches: held to max_duration, then exit 3") {
  TempDir dir;
  std::string yaml = ScenarioYaml(kServerTarget, "faults:\n  - when: {completed: 1000000}\n"
                                                 "    signal: TERM\n");
  yaml.replace(yaml.find("  duration: 300ms\n"), 18, "  duration: 300ms\n  max_duration: 900ms\n");
  Output out = RunYaml(dir, "unreached", yaml);
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(std::regex_search(out.text, std::regex("held until load.max_duration \\(900ms\\) and a "
                                               "fault never fired: fault 1 \\(when: \\{completed: "
                                               "1000000\\}\\) at [^ ]*unreached.yaml:[0-9]+:[0-9]+: "
                                               "the count reached [0-9]+")));
  nlohmann::json json = nlohmann::json::parse(FileText(dir.path / "reports/unreached/result.json"));
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
  std::string yaml = ScenarioYaml("  command: [" + kServer + ", --port, \"${port}\", --bug, no-handler]\n"
                                  "  env: {PAYMENT_LATENCY: 50ms}\n",
                                  "faults:\n  - when: {in_flight: 4}\n    signal: TERM\n"
                                  "expect: {fail: [drained, exit]}\n");
  yaml.replace(yaml.find("clients: 2"), 10, "clients: 8");
  Output out = RunYaml(dir, "dies", yaml);
  INFO(out.text);
  CHECK(out.code == 0);
  nlohmann::json json = nlohmann::json::parse(FileText(dir.path / "reports/dies/result.json"));
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

namespace {

// A tmpfs of `kib` KiB mounted on a fresh folder (root only), unmounted at
// the end. mounted() is false where mount(2) is not allowed.
struct TinyDisk {
  TempDir dir;
  bool mounted_ = false;
  explicit TinyDisk(int kib) {
    std::string command = "mount -t tmpfs -o size=" + std::to_string(kib) + "k tmpfs " +
                          dir.path.string() + " 2>/dev/null";
    mounted_ = geteuid() == 0 && std::system(command.c_str()) == 0;
  }
  ~TinyDisk() {
    if (mounted_) std::system(("umount " + dir.path.string()).c_str());
  }
  bool mounted() const { return mounted_; }
  // Takes every free byte with one file.
  void Fill() const {
    std::ofstream filler(dir.path / "filler", std::ios::binary);
    std::string block(4096, 'x');
    while (filler.write(block.data(), block.size())) filler.flush();
  }
};

}  // namespace

TEST_CASE("a full disk while writing reports: exit 3, the previous reports intact") {
  TinyDisk disk(4096);
  if (!disk.mounted()) {
    WARN("not root or mount(2) not allowed: no tmpfs, test not run");
    return;
  }
  TempDir dir;
  std::string file = dir.Write("full.yaml", ScenarioYaml(kServerTarget));
  const std::string reports = (disk.dir.path / "reports").string();
  Output out = Lastcall({"run", "--reports", reports, file});
  INFO(out.text);
  REQUIRE(out.code == 0);
  const fs::path report = disk.dir.path / "reports" / "full";
  std::map<std::string, std::string> previous;
  for (const auto& entry : fs::directory_iterator(report))
    previous[entry.path().filename().string()] = FileText(entry.path());
  CHECK(previous.count("result.json") == 1);
  CHECK(previous.count("target.log") == 1);

  disk.Fill();
  out = Lastcall({"run", "--reports", reports, file});
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("No space left on device") != std::string::npos);
  // Each report file is the previous one, byte for byte: no truncated
  // target.log, no half-written result.json, no temporary files left.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(report))
    names.push_back(entry.path().filename().string());
  CHECK(names.size() == previous.size());
  for (const std::string& name : names) {
    INFO(name << " is not the previous one");
    CHECK(FileText(report / name) == previous[name]);
  }
}

TEST_CASE("a port taken before the target binds it: a new port, else exit 3") {
  TempDir dir;
  // Takes the run's port itself, then binds it again: a real EADDRINUSE.
  std::string bind_twice = dir.Write(
      "bind_twice.py",
      "import os, socket\n"
      "port = int(os.environ['PORT'])\n"
      "first = socket.socket(); first.bind(('127.0.0.1', port)); first.listen()\n"
      "socket.socket().bind(('127.0.0.1', port))\n");
  // Loses the race the first time only.
  std::string once = dir.Write(
      "taken_once.sh",
      "if [ -e \"$0.done\" ]; then exec " + kServer + " --port \"$PORT\"; fi\n"
      "touch \"$0.done\"; exec python3 " + bind_twice + "\n");
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

// --- matrix and --set ----------------------------------------------------

namespace {

nlohmann::json ReadJson(const fs::path& path) {
  std::ifstream in(path.string());
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

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
  std::string file = dir.Write(
      "set.yaml", ScenarioYaml(kServerTarget,
                               "faults:\n  - {at: 100ms, grace: 30s}\n"));
  // Each --set takes one value: the path after it stays a path.
  Output out = Lastcall({"run", "--reports", (dir.path / "reports").string(), "--set",
                         "faults.0.grace=7s", "--set", "target.env.PAYMENT_LATENCY=5ms", file});
  INFO(out.text);
  CHECK(out.code == 0);
  nlohmann::json resolved = ReadJson(dir.path / "reports" / "set" / "result.json")["resolved_scenario"];
  CHECK(resolved["faults"][0]["grace"] == 7.0);
  CHECK(resolved["target"]["env"]["PAYMENT_LATENCY"] == "5ms");

  out = Lastcall({"check", "--set", "faults[3].grace=1s", file});
  INFO(out.text);
  CHECK(out.code == 2);
  CHECK(out.text.find(file + ": --set faults[3].grace=1s: faults is a list of 1 item, no index 3") !=
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
    nlohmann::json short_grace = ReadJson(reports / ("grace=300ms,drain=" + std::string(drain)) / "result.json");
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
  std::ifstream summary((dir.path / "reports" / "summary.md").string());
  std::string text((std::istreambuf_iterator<char>(summary)), {});
  CHECK(text.find("### Matrix `compare-timeouts`") != std::string::npos);
}

namespace {

// The postmaster pid and the System V segment id in `data_dir`'s
// postmaster.pid (lines 1 and 7).
std::pair<pid_t, int> PostmasterOf(const fs::path& data_dir) {
  std::ifstream in(data_dir / "postmaster.pid");
  std::string line;
  pid_t pid = 0;
  long key = 0;
  int shmid = -1;
  for (int i = 1; std::getline(in, line) && i <= 7; ++i) {
    if (i == 1) pid = std::atoi(line.c_str());
    if (i == 7) std::istringstream(line) >> key >> shmid;
  }
  return {pid, shmid};
}

}  // namespace

TEST_CASE("after lastcall is SIGKILLed, the next run removes its cluster and shared memory") {
  TempDir dir;
  const fs::path tmp = dir.path / "tmp";
  fs::create_directory(tmp);
  std::string file = LongScenario(dir);
  std::string reports = (dir.path / "reports").string();
  Output out = Lastcall({"run", "--reports", reports, file}, SIGKILL,
                        [&] { return LongTargetServing(reports); }, tmp.string());
  INFO(out.text);
  CHECK(out.code == 128 + SIGKILL);
  // What it left: its work folder with the cluster in it, and the server's
  // System V segment, with the server dead (parent-death signal).
  REQUIRE(std::distance(fs::directory_iterator(tmp), fs::directory_iterator()) == 1);
  const fs::path stale = fs::directory_iterator(tmp)->path();
  // The cluster: in /tmp, since the server's user cannot enter this test's
  // folder (0700), found through a link in the work folder.
  const fs::path cluster = fs::canonical(stale / "postgres" / "pgdata");
  auto [postmaster, shmid] = PostmasterOf(cluster);
  REQUIRE(postmaster > 0);
  REQUIRE(shmid >= 0);
  CHECK(WaitUntil([&] { return kill(postmaster, 0) != 0; }));
  struct shmid_ds info;
  CHECK(shmctl(shmid, IPC_STAT, &info) == 0);
  // Dynamic shared memory lives in the data folder, not in /dev/shm.
  CHECK_FALSE(fs::is_empty(cluster / "pg_dynshmem"));

  std::string short_file = dir.Write("short.yaml", ScenarioYaml(kServerTarget));
  out = Lastcall({"run", "--reports", reports, short_file}, 0, nullptr, tmp.string());
  INFO(out.text);
  CHECK(out.code == 0);
  CHECK_FALSE(fs::exists(stale));
  CHECK_FALSE(fs::exists(cluster));
  CHECK(shmctl(shmid, IPC_STAT, &info) != 0);
  CHECK(fs::is_empty(tmp));
}

TEST_CASE("a dead lastcall's folder stays while its server still holds its shared memory") {
  TempDir dir;
  const fs::path tmp = dir.path / "tmp";
  fs::create_directory(tmp);
  // The postmaster that has not finished dying: a child of this test that
  // made a segment and exited, a zombie until it is reaped.
  int ids[2];
  REQUIRE(pipe(ids) == 0);
  pid_t postmaster = fork();
  REQUIRE(postmaster >= 0);
  if (postmaster == 0) {
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    _exit(write(ids[1], &id, sizeof id) == sizeof id ? 0 : 1);
  }
  close(ids[1]);
  int shmid = -1;
  REQUIRE(read(ids[0], &shmid, sizeof shmid) == sizeof shmid);
  close(ids[0]);
  REQUIRE(shmid >= 0);
  struct Reaper {  // whatever happens below, no zombie and no segment stay
    pid_t pid;
    int shmid;
    ~Reaper() {
      if (pid > 0) waitpid(pid, nullptr, 0);
      shmctl(shmid, IPC_RMID, nullptr);
    }
  } reaper{postmaster, shmid};
  // The folder a SIGKILLed lastcall left: its own pid gone, its cluster's
  // postmaster.pid naming that postmaster and its segment (lines 1 and 7).
  SpawnOptions done;
  done.argv = {"/bin/true"};
  std::string error;
  std::unique_ptr<Subprocess> dead = Subprocess::Start(done, &error);
  REQUIRE(dead);
  REQUIRE(dead->Wait(std::chrono::seconds(10)));
  const fs::path stale = tmp / "lastcall-stale2";
  fs::create_directories(stale / "postgres" / "pgdata");
  std::ofstream(stale / "lastcall.pid") << dead->pid() << "\n";
  std::ofstream(stale / "postgres" / "pgdata" / "postmaster.pid")
      << postmaster << "\n/data\n1\n5432\n/sock\n127.0.0.1\n  5432001  " << shmid
      << "\nready\n";
  const std::vector<std::string> args = {"run", "--db", "postgresql://nobody@127.0.0.1:1/none",
                                         "--reports", (dir.path / "reports").string(),
                                         "scenarios/sigterm-under-load.yaml"};
  Output out = Lastcall(args, 0, nullptr, tmp.string());
  INFO(out.text);
  CHECK(out.code == 3);
  // In use: the folder that names the segment stays, and so does it.
  struct shmid_ds info;
  CHECK(fs::exists(stale));
  CHECK(shmctl(shmid, IPC_STAT, &info) == 0);

  // Once the postmaster is gone, the next run releases both.
  REQUIRE(waitpid(postmaster, nullptr, 0) == postmaster);
  reaper.pid = 0;
  out = Lastcall(args, 0, nullptr, tmp.string());
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK_FALSE(fs::exists(stale));
  CHECK(shmctl(shmid, IPC_STAT, &info) != 0);
}

// --- Ctrl-C, deadlines and resources in every phase --------------------------

namespace {

// True while a session of `server` sleeps in pg_sleep(). (Its query text
// may not say so: the audit reads its queries' rows through a cursor.)
bool Sleeping(EmbeddedPostgres& server) {
  pqxx::connection c(server.UrlFor("postgres"));
  pqxx::nontransaction tx(c);
  return !tx.exec("SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND "
                  "pid <> pg_backend_pid()")
              .empty();
}

// Runs `file` on `server`, with a SIGINT as soon as a statement sleeps
// there. Returns lastcall's output and sets *after to the time from the
// SIGINT to lastcall's exit.
Output InterruptWhileSleeping(const TempDir& dir, EmbeddedPostgres& server,
                              const std::string& file, std::chrono::duration<double>* after) {
  std::chrono::steady_clock::time_point poked;
  Output out = Lastcall({"run", "--db", server.UrlFor("postgres"), "--reports",
                         (dir.path / "reports").string(), file},
                        SIGINT,
                        [&] {
                          poked = std::chrono::steady_clock::now();
                          return Sleeping(server);
                        },
                        (dir.path / "tmp").string());
  *after = std::chrono::steady_clock::now() - poked;
  return out;
}

// Nothing of an interrupted run is left: its processes, its work folder,
// its statements on `server`.
void CheckNothingLeft(const TempDir& dir, EmbeddedPostgres& server,
                      const nlohmann::json& result) {
  CHECK_FALSE(RunProcessesAlive(result["run_id"]));
  CHECK(fs::is_empty(dir.path / "tmp"));
  CHECK(WaitUntil([&] { return !Sleeping(server); }));
  pqxx::connection c(server.UrlFor("postgres"));
  pqxx::nontransaction tx(c);
  CHECK(tx.exec("SELECT 1 FROM pg_database WHERE datname LIKE 'lastcall_run_%'").empty());
}

nlohmann::json ReadResult(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("SIGINT during a long schema: exit 130 at once, the schema named, nothing left") {
  TempDir dir;
  fs::create_directory(dir.path / "tmp");
  std::unique_ptr<EmbeddedPostgres> server = ExternalServer(dir);
  std::string schema = dir.Write("schema.sql", FileText(kSchema) + "SELECT pg_sleep(600);\n");
  std::string yaml = ScenarioYaml(kServerTarget);
  yaml.replace(yaml.find(kSchema), kSchema.size(), schema);
  std::chrono::duration<double> after{};
  Output out = InterruptWhileSleeping(dir, *server, dir.Write("schema.yaml", yaml), &after);
  INFO(out.text);
  CHECK(out.code == 130);
  // Not a speed claim: without the cancel it would wait for the 600 s.
  CHECK(after < std::chrono::seconds(10));
  WARN("exit " << after.count() << " s after SIGINT during the schema");
  nlohmann::json result = ReadResult(dir.path / "reports" / "schema" / "result.json");
  CHECK(result["interrupted"] == true);
  CHECK(result["message"].get<std::string>().find("during the schema") != std::string::npos);
  CheckNothingLeft(dir, *server, result);
  // Neither is the half-made template.
  pqxx::connection c(server->UrlFor("postgres"));
  pqxx::nontransaction tx(c);
  CHECK(tx.exec("SELECT 1 FROM pg_database WHERE datname LIKE 'lastcall_tpl_%' AND "
                "NOT datistemplate").empty());
}

TEST_CASE("a schema longer than database.timeout: exit 3 naming the schema and the limit") {
  TempDir dir;
  std::string schema = dir.Write("schema.sql", FileText(kSchema) + "SELECT pg_sleep(600);\n");
  std::string yaml = ScenarioYaml(kServerTarget);
  yaml.replace(yaml.find(kSchema), kSchema.size(), schema + "\n  timeout: 500ms");
  Output out = RunYaml(dir, "slow-schema", yaml);
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("the schema did not finish in the time allowed (database.timeout: 500ms)") !=
        std::string::npos);
  CHECK(out.text.find("while the target was starting") == std::string::npos);
}

TEST_CASE("SIGINT during a long audit query: exit 130 at once, not a verdict, nothing left") {
  TempDir dir;
  fs::create_directory(dir.path / "tmp");
  std::unique_ptr<EmbeddedPostgres> server = ExternalServer(dir);
  const std::string good = "SELECT idempotency_key, count(*) FROM ledger GROUP BY 1";
  std::string yaml = ScenarioYaml(kServerTarget);
  yaml.replace(yaml.find(good), good.size(),
               "SELECT idempotency_key, count(*) FROM ledger, pg_sleep(600) GROUP BY 1");
  std::chrono::duration<double> after{};
  Output out = InterruptWhileSleeping(dir, *server, dir.Write("audit.yaml", yaml), &after);
  INFO(out.text);
  CHECK(out.code == 130);
  CHECK(after < std::chrono::seconds(10));
  WARN("exit " << after.count() << " s after SIGINT during the audit");
  nlohmann::json result = ReadResult(dir.path / "reports" / "audit" / "result.json");
  CHECK(result["interrupted"] == true);
  CHECK(result["message"].get<std::string>().find("during the audit") != std::string::npos);
  CheckNothingLeft(dir, *server, result);
}

TEST_CASE("a target printing 100 MB on one line is not ready within its timeout: exit 3 in time") {
  TempDir dir;
  auto start = std::chrono::steady_clock::now();
  Output out = RunYaml(
      dir, "one-line",
      ScenarioYaml("  command: [/bin/sh, -c, \"head -c 100000000 /dev/zero | tr '\\\\0' x; "
                   "exec sleep 30\"]\n"
                   "  ready: {http: /healthz, timeout: 1s}\n"));
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("not ready within") != std::string::npos);
  // Not a speed claim: reading the line used to take tens of seconds, past
  // the timeout.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  // The line is kept cut, saying so.
  std::string log = FileText(dir.path / "reports" / "one-line" / "target.log");
  CHECK(log.size() < 1000000);
  CHECK(log.find("[line truncated: ") != std::string::npos);
}

TEST_CASE("SIGINT while the target floods one endless line: exit 130 at once, nothing left") {
  TempDir dir;
  fs::create_directory(dir.path / "tmp");
  // The SIGINT comes once 100 MB of the line are out, the flood goes on.
  const fs::path flooded = dir.path / "flooded";
  std::string file = dir.Write(
      "flood.yaml",
      ScenarioYaml("  command: [/bin/sh, -c, \"head -c 100000000 /dev/zero | tr '\\\\0' x; "
                   "touch " + flooded.string() + "; yes | tr -d '\\\\n'\"]\n"
                   "  ready: {http: /healthz, timeout: 60s}\n"));
  std::string reports = (dir.path / "reports").string();
  std::chrono::steady_clock::time_point poked;
  Output out = Lastcall({"run", "--reports", reports, file}, SIGINT,
                        [&] {
                          poked = std::chrono::steady_clock::now();
                          return fs::exists(flooded);
                        },
                        (dir.path / "tmp").string());
  std::chrono::duration<double> after = std::chrono::steady_clock::now() - poked;
  INFO(out.text);
  CHECK(out.code == 130);
  CHECK(after < std::chrono::seconds(10));
  WARN("exit " << after.count() << " s after SIGINT during a one-line flood");
  nlohmann::json result = ReadResult(dir.path / "reports" / "flood" / "result.json");
  CHECK(result["interrupted"] == true);
  CHECK_FALSE(RunProcessesAlive(result["run_id"]));
  CHECK(fs::is_empty(dir.path / "tmp"));
}

TEST_CASE("more clients than open files allow: exit 3 saying so, with a report") {
  TempDir dir;
  std::string yaml = ScenarioYaml(kServerTarget);
  yaml.replace(yaml.find("clients: 2"), 10, "clients: 400");
  std::string file = dir.Write("files.yaml", yaml);
  Output out = Lastcall({"run", "--reports", (dir.path / "reports").string(), file}, {}, "",
                        {"prlimit", "--nofile=256", "--"});
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("Too many open files") != std::string::npos);
  nlohmann::json result = ReadResult(dir.path / "reports" / "files" / "result.json");
  CHECK(result["verdict"] == "infrastructure failure");
  CHECK(result["message"].get<std::string>().find("ulimit -n") != std::string::npos);
}

TEST_CASE("more clients than threads allow: exit 3 saying so, with a report, no abort") {
  // A cgroup of its own caps lastcall's tasks (RLIMIT_NPROC does not bind
  // root); it needs the cgroup v1 pids controller, writable.
  const fs::path cgroup =
      fs::path("/sys/fs/cgroup/pids") / ("lastcall-test-" + std::to_string(getpid()));
  std::error_code ec;
  if (!fs::create_directory(cgroup, ec)) {
    WARN("skipped: cannot make a pids cgroup (" << ec.message() << ")");
    return;
  }
  struct Remove {
    fs::path path;
    ~Remove() { rmdir(path.c_str()); }
  } remove{cgroup};
  std::ofstream(cgroup / "pids.max") << 300 << "\n";
  TempDir dir;
  fs::create_directory(dir.path / "tmp");
  std::string yaml = ScenarioYaml(kServerTarget);
  yaml.replace(yaml.find("clients: 2"), 10, "clients: 1000");
  std::string file = dir.Write("threads.yaml", yaml);
  Output out = Lastcall({"run", "--reports", (dir.path / "reports").string(), file}, {},
                        (dir.path / "tmp").string(),
                        {"/bin/sh", "-c",
                         "echo $$ > " + (cgroup / "cgroup.procs").string() + " && exec \"$@\"",
                         "sh"});
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("cannot start the thread of client") != std::string::npos);
  nlohmann::json result = ReadResult(dir.path / "reports" / "threads" / "result.json");
  CHECK(result["verdict"] == "infrastructure failure");
  CHECK_FALSE(RunProcessesAlive(result["run_id"]));
  CHECK(fs::is_empty(dir.path / "tmp"));
}

// --- Sender presets and triggers (issue #5) ---------------------------------

namespace {

const std::string kRecorder = SIGNAL_RECORDER_BINARY;

struct RecorderRun {
  Output out;
  std::string log;       // target.log
  nlohmann::json result;  // result.json
};

// Runs the signal recorder (main, child, session, daemon processes) under
// one fault, given as a YAML flow map; `args` are more recorder arguments.
RecorderRun RunRecorder(const TempDir& dir, const std::string& name,
                        const std::string& fault, const std::string& args = "") {
  std::string yaml =
      "target:\n  command: [" + kRecorder + ", --port, \"${port}\"" + args + "]\n"
      "  ready: {log: listening}\n"
      "load:\n  clients: 2\n  duration: 600ms\n  request: {method: GET, path: /}\n"
      "faults:\n  - " + fault + "\n"
      "audit:\n  applied: SELECT NULL::text, 0 WHERE false\n"
      "  checks: [exit, orphans, faults]\n";
  RecorderRun run;
  run.out = RunYaml(dir, name, yaml);
  fs::path reports = dir.path / "reports" / name;
  run.log = FileText(reports / "target.log");
  std::ifstream result(reports / "result.json");
  if (result) run.result = nlohmann::json::parse(result);
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

const nlohmann::json& CheckNamed(const nlohmann::json& result, const std::string& name) {
  for (const nlohmann::json& check : result["checks"])
    if (check["name"] == name) return check;
  FAIL("no check " << name);
  throw std::logic_error("unreachable");
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
      {"kubernetes", "TERM", {"main"}},                   // PID 1 only
      {"supervisord", "TERM", {"main"}},                  // the child it spawned
      {"nomad", "INT", {"main"}},                         // SIGINT, the task
      {"ctrl-c", "INT", {"main", "child"}},               // the foreground group
      {"pm2", "INT", {"main", "child", "session"}},       // the process tree
      {"systemd", "TERM", all},                           // the control group
      {"heroku", "TERM", all},                            // every dyno process
  };
  TempDir dir;
  for (const auto& c : cases) {
    RecorderRun run = RunRecorder(dir, c.sender, std::string("{at: 200ms, sender: ") +
                                                     c.sender + "}");
    INFO(c.sender << "\n" << run.out.text << run.log);
    CHECK(run.out.code == 0);
    CHECK(Receivers(run.log, c.signal) == c.roles);
    CHECK(Receivers(run.log, c.signal == std::string("TERM") ? "INT" : "TERM").empty());
    // systemd follows TERM with CONT, to the same processes; nobody else does.
    CHECK(Receivers(run.log, "CONT") ==
          (c.sender == std::string("systemd") ? all : Roles{}));
    REQUIRE(run.result.is_object());
    CHECK(run.result["faults"][0]["delivery_time"].get<double>() >= 0);
    CHECK(CheckNamed(run.result, "exit")["status"] == "pass");
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
  CHECK(CheckNamed(supervisord.result, "exit")["status"] == "fail");
  CHECK(CheckNamed(supervisord.result, "orphans")["offending"].size() == 3);
  // Kubernetes kills everything left in the container.
  RecorderRun kubernetes = RunRecorder(
      dir, "kubernetes", "{at: 200ms, sender: kubernetes, grace: 300ms}", ", --ignore, TERM");
  INFO(kubernetes.out.text << kubernetes.log);
  REQUIRE(kubernetes.result.is_object());
  CHECK(kubernetes.result["faults"][0]["escalated"] == true);
  CHECK(CheckNamed(kubernetes.result, "exit")["status"] == "fail");
  CHECK(CheckNamed(kubernetes.result, "orphans")["status"] == "pass");
  // A terminal never escalates: lastcall waits out the grace, then says so.
  RecorderRun terminal = RunRecorder(
      dir, "terminal", "{at: 200ms, sender: ctrl-c, grace: 300ms}", ", --ignore, INT");
  INFO(terminal.out.text << terminal.log);
  REQUIRE(terminal.result.is_object());
  CHECK(terminal.result["faults"][0]["escalated"] == false);
  CHECK(CheckNamed(terminal.result, "exit")["offending"][0] ==
        "instance 1: still running 0.3s after INT (the sender does not escalate)");
}

namespace {

// The load window of a run's result.json, in seconds since 1970.
std::pair<double, double> LoadWindow(const fs::path& result_json) {
  std::ifstream in(result_json);
  nlohmann::json json = nlohmann::json::parse(in);
  double start = json["timings"]["load_started_at"].get<double>();
  return {start, start + json["timings"]["load"].get<double>()};
}

// Runs two 2 s scenarios with `jobs` and tells whether their load windows
// overlapped; both must meet their expectations.
bool LoadsOverlapped(int jobs) {
  TempDir dir;
  fs::create_directory(dir.path / "suite");
  std::string yaml = ScenarioYaml(kServerTarget);
  yaml.replace(yaml.find("300ms"), 5, "2s");
  for (const char* name : {"first", "second"})
    dir.Write(std::string("suite/") + name + ".yaml", yaml);
  const fs::path reports = dir.path / "reports";
  Output out = Lastcall({"run", "--jobs", std::to_string(jobs), "--reports", reports.string(),
                         (dir.path / "suite").string()});
  INFO(out.text);
  REQUIRE(out.code == 0);
  auto [first_start, first_end] = LoadWindow(reports / "first" / "result.json");
  auto [second_start, second_end] = LoadWindow(reports / "second" / "result.json");
  return first_start < second_end && second_start < first_end;
}

}  // namespace

TEST_CASE("run --jobs 2 runs two scenarios side by side, both meeting their expectations") {
  CHECK(LoadsOverlapped(2));
  CHECK_FALSE(LoadsOverlapped(1));  // the same check on serial runs
}

TEST_CASE("a second lastcall on the same reports folder is refused while the first runs") {
  TempDir dir;
  std::string file = LongScenario(dir);
  std::string reports = (dir.path / "reports").string();
  Output second;
  // Once the first one's target is serving, the second one tries; then the
  // first is interrupted.
  Output first = Lastcall({"run", "--reports", reports, file}, SIGINT, [&] {
    if (!LongTargetServing(reports)) return false;
    second = Lastcall({"run", "--reports", reports, file});
    return true;
  });
  INFO(first.text);
  INFO(second.text);
  CHECK(second.code == 3);
  CHECK(second.text.find("the reports folder " + reports + " is in use by another lastcall") !=
        std::string::npos);
  CHECK(first.code == 130);
  // The lock went with the first one: the folder is free again.
  std::string short_file = dir.Write("short.yaml", ScenarioYaml(kServerTarget));
  CHECK(Lastcall({"run", "--reports", reports, short_file}).code == 0);
}

namespace {

// A scenario on the reference target whose payments hold their transaction
// open for `latency` (the card processor call), under `faults` (YAML).
std::string TriggerScenario(const std::string& faults, const std::string& latency = "30ms") {
  std::string text = ScenarioYaml("  command: [" + kServer + ", --port, \"${port}\"]\n"
                                  "  env: {PAYMENT_LATENCY: " + latency + "}\n",
                                  "faults:\n" + faults);
  text.replace(text.find("target:"), 0,
               "  setup: INSERT INTO accounts SELECT 'acct-' || g, 100000 "
               "FROM generate_series(1, 20) g\n");
  text.replace(text.find("clients: 2"), 10, "clients: 6");
  text.replace(text.find("300ms"), 5, "1s");
  return text;
}

nlohmann::json ResultOf(const TempDir& dir, const std::string& name) {
  std::ifstream in(dir.path / "reports" / name / "result.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

// The history's nemesis events of kind `f`, in time order.
std::vector<nlohmann::json> EventsOf(const TempDir& dir, const std::string& name,
                                     const std::string& f) {
  std::ifstream in(dir.path / "reports" / name / "history.jsonl");
  std::vector<nlohmann::json> events;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json event = nlohmann::json::parse(line);
    if (event["process"] == "nemesis" && event["f"] == f) events.push_back(event);
  }
  return events;
}

}  // namespace

TEST_CASE("db_transactions_open fires while payments are inside their transaction") {
  TempDir dir;
  Output out = RunYaml(dir, "db", TriggerScenario("  - when: {db_transactions_open: 3}\n"
                                                  "    signal: TERM\n", "80ms"));
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
  Output out = RunYaml(dir, "log", TriggerScenario("  - {at: 300ms, signal: TERM}\n"
                                                   "  - when: {log: 'draining [0-9]+'}\n"
                                                   "    signal: TERM\n"));
  INFO(out.text);
  CHECK(out.code == 0);  // the reference target finishes its drain anyway
  std::vector<nlohmann::json> signals = EventsOf(dir, "log", "signal");
  REQUIRE(signals.size() == 2);
  std::string log = FileText(dir.path / "reports" / "log" / "target.log");
  size_t draining = log.find("draining ");
  REQUIRE(draining != std::string::npos);
  // target.log stamps each line with its time: the second signal follows it.
  double line_time = std::stod(log.substr(log.rfind('[', log.rfind('[', draining) - 1) + 1));
  CHECK(signals[1]["time"].get<double>() / 1e9 >= line_time);
  CHECK(ResultOf(dir, "log")["instances"][0]["exit"] == "0");
}

TEST_CASE("an sql trigger fires once the query returns true") {
  TempDir dir;
  Output out = RunYaml(dir, "sql", TriggerScenario(
                                       "  - when: {sql: 'SELECT count(*) >= 40 FROM ledger'}\n"
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

  Output bad = RunYaml(dir, "badsql", TriggerScenario("  - when: {sql: 'SELECT nonsense'}\n"
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
    Output out = Lastcall({"run", "--reports", (dir.path / "reports").string(), "--seed", seed,
                           file});
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
  std::string yaml = TriggerScenario("  - {at: 300ms, signal: KILL}\n"
                                     "  - after_exit: {restart: true}\n");
  yaml.replace(yaml.find("  env:"), 0, "  container: true\n");
  Output out = RunYaml(dir, "restart", yaml);
  INFO(out.text);
  nlohmann::json instances = ResultOf(dir, "restart")["instances"];
  REQUIRE(instances.size() == 2);
  CHECK(instances[0]["pid"] != instances[1]["pid"]);
  CHECK(instances[0]["exit"] == "KILL");
  // The pid recorded is the namespace's PID 1 (the target), not its parent.
  std::string log = FileText(dir.path / "reports" / "restart" / "target.log");
  CHECK(log.find("listening") != std::string::npos);
  for (const nlohmann::json& instance : instances) CHECK(instance["pid"].get<int>() > 0);
}

TEST_CASE("run --jobs 2 interrupted by SIGINT: both runs stop, exit 130, nothing left") {
  TempDir dir;
  fs::create_directory(dir.path / "tmp");
  TempDir suite_dir;  // the scenario files, apart from the reports
  for (const char* name : {"first", "second"}) LongScenario(suite_dir, name);
  std::string reports = (dir.path / "reports").string();
  auto start = std::chrono::steady_clock::now();
  Output out = Lastcall({"run", "--jobs", "2", "--reports", reports, suite_dir.path.string()},
                        SIGINT,
                        [&] {
                          return LongTargetServing(reports, "first") &&
                                 LongTargetServing(reports, "second");
                        },
                        (dir.path / "tmp").string());
  INFO(out.text);
  CHECK(out.code == 130);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
  for (const char* name : {"first", "second"}) {
    std::ifstream result(reports + "/" + name + "/result.json");
    REQUIRE(result);
    nlohmann::json json = nlohmann::json::parse(result);
    CHECK(json["interrupted"] == true);
    CHECK_FALSE(RunProcessesAlive(json["run_id"]));
  }
  CHECK(fs::is_empty(dir.path / "tmp"));
}

namespace {

// (scenario run, verdict) of each testsuite of a junit.xml, in order.
std::vector<std::pair<std::string, std::string>> JunitVerdicts(const fs::path& junit) {
  const std::string xml = FileText(junit);
  static const std::regex kSuite(
      "<testsuite name=\"([^\"]*)\"[\\s\\S]*?name=\"verdict\" value=\"([^\"]*)\"");
  std::vector<std::pair<std::string, std::string>> verdicts;
  for (std::sregex_iterator it(xml.begin(), xml.end(), kSuite), end; it != end; ++it)
    verdicts.emplace_back((*it)[1], (*it)[2]);
  return verdicts;
}

}  // namespace

TEST_CASE("run --shard K/N and report --merge give the verdicts of the unsharded run") {
  TempDir dir, suite;
  const std::string fault = "faults:\n  - {at: 100ms, signal: TERM, grace: 400ms}\n";
  suite.Write("a.yaml", ScenarioYaml(kServerTarget, fault));
  // Ignores SIGTERM: `exit` fails, so this run misses its expectation.
  suite.Write("b.yaml", ScenarioYaml("  command: [" + kServer +
                                         ", --port, \"${port}\", --bug, ignore-signal]\n",
                                     fault));
  suite.Write("c.yaml", ScenarioYaml(kServerTarget));
  auto reports = [&](const std::string& name) { return (dir.path / name).string(); };
  Output whole = Lastcall({"run", "--reports", reports("whole"), suite.path.string()});
  INFO(whole.text);
  REQUIRE(whole.code == 1);
  for (const char* shard : {"1/2", "2/2"}) {
    Output out = Lastcall({"run", "--shard", shard, "--reports",
                           reports(std::string("shard") + shard[0]), suite.path.string()});
    INFO(out.text);
    CHECK(out.code == (shard[0] == '1' ? 0 : 1));  // a and c; b
  }
  const nlohmann::json manifest =
      nlohmann::json::parse(FileText(dir.path / "shard1" / "shard.json"));
  CHECK(manifest["runs"] == 3);
  CHECK(manifest["mine"].size() == 2);
  CHECK(fs::exists(dir.path / "shard1" / "c" / "result.json"));
  CHECK_FALSE(fs::exists(dir.path / "shard1" / "b"));

  Output merged = Lastcall(
      {"report", "--merge", reports("shard2"), reports("shard1"), "--reports", reports("merged")});
  INFO(merged.text);
  CHECK(merged.code == 1);
  const auto verdicts = JunitVerdicts(dir.path / "whole" / "junit.xml");
  REQUIRE(verdicts.size() == 3);
  CHECK(verdicts[1] == std::make_pair(std::string("b"), std::string("not met")));
  CHECK(JunitVerdicts(dir.path / "merged" / "junit.xml") == verdicts);
  CHECK(FileText(dir.path / "merged" / "index.html").find("../shard2/b/index.html") !=
        std::string::npos);

  // With --repeat, each scenario's tally is out of its runs in the shard:
  // of a/1 b/1 c/1 a/2 b/2 c/2, shard 1/2 runs a/1, c/1 and b/2.
  Output repeated = Lastcall({"run", "--shard", "1/2", "--repeat", "2", "--reports",
                              reports("repeated"), suite.path.string()});
  INFO(repeated.text);
  CHECK(repeated.text.find("over 2 repetitions (the runs of this shard):\n"
                           "    1/1  a\n    0/1  b\n    1/1  c\n") != std::string::npos);

  Output missing = Lastcall({"report", "--merge", reports("shard1"), "--reports", reports("m2")});
  CHECK(missing.code == 2);
  CHECK(missing.text.find("shard 2/2") != std::string::npos);
  for (const char* bad : {"0/0", "3/2", "x"}) {
    Output out = Lastcall({"run", "--shard", bad, "--reports", reports("bad"), suite.path.string()});
    CHECK(out.code == 2);
    CHECK(out.text.find("--shard must be K/N") != std::string::npos);
  }
}

TEST_CASE("lastcall init writes a starter scenario that check accepts and never overwrites it") {
  TempDir dir;
  const std::string file = (dir.path / "my-service.yaml").string();
  const std::string schema =
      std::string(LASTCALL_SOURCE_DIR) + "/targets/examples/python-payments/schema.sql";
  const std::vector<std::string> init = {"init", "--command", "python3 app.py --port ${port}",
                                         "--health-path", "/health", "--endpoint",
                                         "PUT /v1/transfers", "--schema", schema, "-o", file};
  Output out = Lastcall(init);
  INFO(out.text);
  REQUIRE(out.code == 0);
  const std::string text = FileText(file);
  CHECK(text.find("applied: SELECT request_token, count(*) FROM transfers") != std::string::npos);
  CHECK(text.find("TODO") != std::string::npos);
  Output check = Lastcall({"check", file});
  INFO(check.text);
  CHECK(check.code == 0);
  Output again = Lastcall(init);
  CHECK(again.code == 2);
  CHECK(again.text.find("never overwrites") != std::string::npos);
  CHECK(FileText(file) == text);
  // stdin is not a terminal here: nothing is asked, a missing command is an error.
  Output no_command = Lastcall({"init", "-o", (dir.path / "other.yaml").string()});
  CHECK(no_command.code == 2);
  CHECK(no_command.text.find("--command is required") != std::string::npos);
}

TEST_CASE("lastcall checks and senders list every check and preset and help shows examples") {
  Output checks = Lastcall({"checks"});
  CHECK(checks.code == 0);
  for (const std::string& name : KnownChecks()) CHECK(checks.text.find(name + " ") != std::string::npos);
  Output senders = Lastcall({"senders"});
  CHECK(senders.code == 0);
  for (const SenderPreset& preset : SenderPresets()) {
    INFO(preset.name);
    CHECK(senders.text.find(std::string("\n") + preset.name + " ") != std::string::npos);
  }
  CHECK(Lastcall({"--help"}).text.find("lastcall init --command") != std::string::npos);
  CHECK(Lastcall({"run", "--help"}).text.find("--shard 2/3") != std::string::npos);
  CHECK(Lastcall({"report", "--help"}).text.find("--merge shard-1") != std::string::npos);
}

TEST_CASE("WebSocket clients hear of every payment and each gets 1001 after SIGTERM") {
  TempDir dir;
  std::string yaml = TriggerScenario("  - {when: {completed: 30}, signal: TERM}\n");
  yaml.replace(yaml.find("\"${port}\"]"), 10, "\"${port}\", --ws-port, \"${ws_port}\"]");
  yaml.replace(yaml.find("  request:"), 0,
               "  websockets: {clients: 3, port: \"${ws_port}\"}\n");
  Output out = RunYaml(dir, "ws", yaml);
  INFO(out.text);
  CHECK(out.code == 0);
  nlohmann::json result = ResultOf(dir, "ws");
  int64_t signal = -1;
  std::vector<nlohmann::json> sockets;
  std::ifstream history(dir.path / "reports" / "ws" / "history.jsonl");
  for (std::string line; std::getline(history, line);) {
    nlohmann::json op = nlohmann::json::parse(line);
    if (op["f"] == "signal") signal = op["time"].get<int64_t>();
    if (op["f"] == "websocket" && op["type"] != "invoke") sockets.push_back(op);
  }
  REQUIRE(sockets.size() == 3);
  for (const nlohmann::json& socket : sockets) {
    INFO(socket.dump());
    // A message per payment applied: every acknowledged one (no retries,
    // so no replays), pushed before the close frame.
    CHECK(socket["value"]["messages"] == result["counts"]["ok"]);
    CHECK(socket["value"]["close_code"] == 1001);
    CHECK(socket["value"]["closed_by_lastcall"] == false);
    CHECK(socket["value"]["close_time"].get<int64_t>() > signal);
  }
}

namespace {

// The check `name` of a result.json.
nlohmann::json CheckOf(const nlohmann::json& result, const std::string& name) {
  for (const nlohmann::json& check : result["checks"])
    if (check["name"] == name) return check;
  FAIL("no check " << name << " in " << result.dump());
  return {};
}

// scenarios/bugs/`bug`.yaml written to `dir` as `name`.yaml, its target
// started through `launcher` (YAML list items, each followed by ", "); with
// `fixed`, without the bug and expecting every check to pass.
std::string BugScenario(const TempDir& dir, const std::string& name, const std::string& bug,
                        const std::string& launcher, bool fixed = false) {
  std::string text =
      FileText(std::string(LASTCALL_SOURCE_DIR) + "/scenarios/bugs/" + bug + ".yaml");
  const std::string schema = "../../targets/payment-server/schema.sql";
  const std::string command = "[../../build/targets/payment-server/payment-server, ";
  text.replace(text.find(schema), schema.size(), kSchema);
  text.replace(text.find(command), command.size(), "[" + launcher + kServer + ", ");
  if (fixed) {
    const std::string option = ", --bug, " + bug;
    text.erase(text.find(option), option.size());
    text.erase(text.find("expect:"));
  }
  return dir.Write(name + ".yaml", text);
}

// Checks that `check` failed in run `name` and that its first offending item
// (a log line, a session) holds `word`.
void CheckFailedOn(const TempDir& dir, const std::string& name, const std::string& check,
                   const std::string& word) {
  nlohmann::json result = CheckOf(ResultOf(dir, name), check);
  INFO(name << ": " << result.dump());
  CHECK(result["status"] == "fail");
  REQUIRE_FALSE(result["offending"].empty());
  CHECK(result["offending"][0].get<std::string>().find(word) != std::string::npos);
}

// What a driver that does not read PGAPPNAME (asyncpg, JDBC) amounts to.
const std::string kWithoutAppName = "env, -u, PGAPPNAME, ";

}  // namespace

TEST_CASE("sessions of a driver that ignores PGAPPNAME are still the target's") {
  TempDir dir;
  Output out = Lastcall({"run", "--reports", (dir.path / "reports").string(),
                         BugScenario(dir, "no-db-close", "no-db-close", kWithoutAppName),
                         BugScenario(dir, "orphan-worker", "orphan-worker", kWithoutAppName),
                         BugScenario(dir, "correct", "no-db-close", kWithoutAppName, true)});
  INFO(out.text);
  CHECK(out.code == 0);  // each met its expectation
  // Each line names the instance's role; the application name is unset.
  CheckFailedOn(dir, "no-db-close", "unclean_disconnects", "_1 [unknown] DEBUG:  unexpected EOF");
  const std::string line =
      CheckOf(ResultOf(dir, "no-db-close"), "unclean_disconnects")["offending"][0];
  CHECK(std::regex_search(line, std::regex(" lastcall_run_[0-9a-f]{8} lastcall_[0-9a-f]{8}_1 ")));
  CheckFailedOn(dir, "orphan-worker", "connections_leaked", "_1 idle");
  nlohmann::json correct = ResultOf(dir, "correct");
  for (const char* check : {"unclean_disconnects", "connections_leaked", "transactions_abandoned"})
    CHECK(CheckOf(correct, check)["status"] == "pass");
}

TEST_CASE("db_transactions_open counts the transactions of a driver that ignores PGAPPNAME") {
  TempDir dir;
  std::string yaml = TriggerScenario("  - when: {db_transactions_open: 3}\n"
                                     "    signal: TERM\n", "80ms");
  yaml.replace(yaml.find("[" + kServer), kServer.size() + 1, "[" + kWithoutAppName + kServer);
  Output out = RunYaml(dir, "db", yaml);
  INFO(out.text);
  CHECK(out.code == 0);
  nlohmann::json fault = ResultOf(dir, "db")["faults"][0];
  CHECK(fault["fired"] == true);
  CHECK(fault["transactions_open_after_signal"].get<int>() >= 1);
}

TEST_CASE("sessions under a role other than the instance's are still the target's") {
  TempDir dir;
  // An instance's role may not make roles: the server is the test's own,
  // which has one more for the target.
  std::unique_ptr<EmbeddedPostgres> server = ExternalServer(dir);
  {
    pqxx::connection c(server->UrlFor("postgres"));
    pqxx::nontransaction(c).exec("CREATE ROLE intruder LOGIN SUPERUSER PASSWORD 'intruder'");
  }
  // The target logs in as that one, not as the role $DATABASE_URL names.
  const std::string script = dir.Write(
      "intruder.sh",
      "DATABASE_URL=$(printf '%s' \"$DATABASE_URL\" | sed 's|//[^@]*@|//intruder:intruder@|')\n"
      "export DATABASE_URL\n"
      "unset PGAPPNAME PGUSER PGPASSWORD\n"
      "exec \"$@\"\n");
  Output out = Lastcall({"run", "--db", server->UrlFor("postgres"), "--reports",
                         (dir.path / "reports").string(),
                         BugScenario(dir, "orphan-worker", "orphan-worker", "sh, " + script + ", ")});
  INFO(out.text);
  CHECK(out.code == 0);
  // One instance: every session is its own, whatever the role. (The server
  // log that unclean_disconnects reads is the embedded server's alone.)
  CheckFailedOn(dir, "orphan-worker", "connections_leaked", " intruder ");
}

TEST_CASE("with --db as a user that may not make roles the target's sessions are still found") {
  TempDir dir;
  std::unique_ptr<EmbeddedPostgres> server = ExternalServer(dir);
  {
    pqxx::connection c(server->UrlFor("postgres"));
    pqxx::nontransaction(c).exec("CREATE ROLE runner LOGIN CREATEDB PASSWORD 'runner'");
  }
  // The target then logs in as lastcall does; its sessions are told from
  // lastcall's by their backends.
  Output out = Lastcall({"run", "--db", UrlWithLogin(server->UrlFor("postgres"), "runner", "runner"),
                         "--reports", (dir.path / "reports").string(),
                         BugScenario(dir, "orphan-worker", "orphan-worker", kWithoutAppName),
                         BugScenario(dir, "correct", "no-db-close", kWithoutAppName, true)});
  INFO(out.text);
  CHECK(out.code == 0);
  CheckFailedOn(dir, "orphan-worker", "connections_leaked", " runner ");
  CHECK(CheckOf(ResultOf(dir, "correct"), "connections_leaked")["status"] == "pass");
  pqxx::connection c(server->UrlFor("postgres"));
  pqxx::nontransaction tx(c);
  CHECK(tx.exec("SELECT 1 FROM pg_roles WHERE rolname LIKE 'lastcall%'").empty());
  CHECK(tx.exec("SELECT 1 FROM pg_database WHERE datname LIKE 'lastcall_run_%'").empty());
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
  CHECK(FileText(dir.path / "reports" / "term" / "junit.xml").find("name=\"control\"") !=
        std::string::npos);
  // The control's own reports, beside the real run's: the same load, no signal.
  nlohmann::json control = ResultOf(dir, "term/control");
  CHECK(control["scenario"] == "term (control)");
  CHECK(control["verdict"] == "met");
  CHECK(control["resolved_scenario"]["faults"].empty());
  CHECK(control["counts"]["ok"].get<int64_t>() > 0);
  CHECK(EventsOf(dir, "term/control", "signal").empty());
  for (const char* report : {"history.jsonl", "target.log", "junit.xml", "summary.md", "index.html"})
    CHECK(fs::exists(dir.path / "reports" / "term" / "control" / report));
}

TEST_CASE("control: a target that loses payments without a signal is invalid, exit 4 over a not met") {
  TempDir dir;
  const std::string server = dir.Write("acks.py", kAcksWithoutApplying);
  fs::create_directories(dir.path / "suite");
  // Both files ask for their control run themselves: no --control.
  dir.Write("suite/acks.yaml",
            "control: true\n"
            "database: {setup: 'CREATE TABLE payments (key text PRIMARY KEY)'}\n"
            "target:\n  command: [/usr/bin/python3, " + server + ", \"${port}\"]\n"
            "  ready: {log: listening}\n"
            "load:\n  clients: 2\n  duration: 300ms\n"
            "  request: {headers: {Idempotency-Key: \"${key}\"}}\n"
            "faults:\n  - {at: 150ms, signal: TERM}\n"
            "audit:\n  applied: SELECT key, 1 FROM payments\n");
  // A correct target that a bug-reproduction scenario expects to lose
  // payments: its control passes, its real run's verdict (not met) stands.
  dir.Write("suite/expects-lost.yaml",
            "control: true\nexpect: {fail: [lost]}\n" +
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
  CHECK(FileText(dir.path / "reports" / "acks" / "history.jsonl").empty());
  CHECK_FALSE(fs::exists(dir.path / "reports" / "acks" / "target.log"));
  nlohmann::json control = ResultOf(dir, "acks/control");
  CHECK(control["verdict"] == "not met");
  CHECK(control["checks"][0]["name"] == "lost");
  CHECK(control["checks"][0]["status"] == "fail");
  CHECK(fs::exists(dir.path / "reports" / "acks" / "control" / "target.log"));

  nlohmann::json bug = ResultOf(dir, "expects-lost");
  CHECK(bug["verdict"] == "not met");
  CHECK(bug["control"]["passed"] == true);
  const std::string junit = FileText(dir.path / "reports" / "junit.xml");
  CHECK(junit.find("<error type=\"invalid\" message=\"fails without a fault") != std::string::npos);
  CHECK(junit.find("<failure type=\"lost\" message=\"expected lost to fail") != std::string::npos);
  CHECK(FileText(dir.path / "reports" / "summary.md").find("| ⚠️ `acks` | invalid |") !=
        std::string::npos);
}

TEST_CASE("control: a shutdown bug's reproduction passes its control, waited for at rest, and keeps its verdict") {
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

TEST_CASE("an invariant whose query fails is bad input, whatever the expectation") {
  TempDir dir;
  const std::string invariant = "  invariants:\n    - name: typo\n      sql: SELEC 1\n";
  for (const char* expect : {"", "expect: {fail: [invariants]}\n"}) {
    Output out = RunYaml(dir, "typo", ScenarioYaml(kServerTarget, invariant + expect));
    INFO(out.text);
    CHECK(out.code == 2);
    CHECK(out.text.find("typo.yaml:13:12: audit.invariants \"typo\" failed: ERROR:  syntax "
                        "error at or near \"SELEC\"") != std::string::npos);
    CHECK(ResultOf(dir, "typo")["verdict"] == "bad input");
  }
}

TEST_CASE("a million rows of keys lastcall never sent: exact counts, short lists, small reports") {
  TempDir dir;
  const std::string good = "SELECT idempotency_key, count(*) FROM ledger GROUP BY 1";
  std::string yaml = ScenarioYaml(kServerTarget, "  invariants:\n    - name: rows\n"
                                                 "      sql: SELECT generate_series(1, 1000000)\n"
                                                 "expect: {fail: [phantom, invariants]}\n");
  yaml.replace(yaml.find(good), good.size(),
               good + " UNION ALL SELECT 'foreign-' || g, g % 2 + 1 "
                      "FROM generate_series(1, 1000000) g");
  Output out = RunYaml(dir, "foreign", yaml);
  INFO(out.text);
  CHECK(out.code == 0);
  nlohmann::json result = ResultOf(dir, "foreign");
  // Every foreign row applied is a phantom; every other one applied twice.
  nlohmann::json phantom = CheckOf(result, "phantom");
  CHECK(phantom["summary"].get<std::string>().rfind("1000000 of ", 0) == 0);
  CHECK(phantom["summary"].get<std::string>().find("audit.applied returned 999000 more rows of keys lastcall never sent") !=
        std::string::npos);
  CHECK(phantom["offending"].size() == 1000);
  CHECK(phantom["unlisted"] == 999000);
  nlohmann::json duplicated = CheckOf(result, "duplicated");
  CHECK(duplicated["summary"].get<std::string>().rfind("500000 of ", 0) == 0);
  CHECK(duplicated["offending"].size() + duplicated["unlisted"].get<size_t>() == 500000);
  nlohmann::json invariants = CheckOf(result, "invariants");
  CHECK(invariants["summary"] == "1000000 of 1 invariants violated");
  CHECK(invariants["offending"].size() == 1000);
  CHECK(invariants["unlisted"] == 999000);
  const fs::path reports = dir.path / "reports" / "foreign";
  for (const char* report : {"result.json", "junit.xml", "summary.md", "index.html"}) {
    INFO(report);
    CHECK(fs::file_size(reports / report) < 2'000'000);
  }
  // Every entry kept, and what was only counted: 1,000 phantoms, 500
  // duplicates among them, 1,000 invariant rows, and a line for each count.
  std::ifstream all(reports / "offending-keys.txt");
  std::map<std::string, int> lines;
  for (std::string line; std::getline(all, line);) ++lines[line.substr(0, line.find('\t'))];
  CHECK(lines == std::map<std::string, int>{{"duplicated", 501}, {"invariants", 1001},
                                            {"phantom", 1001}});
  // Nor held whole in memory: the largest child's peak, lastcall's (the
  // rows alone were ~400 MB when the audit held them all).
  struct rusage usage;
  REQUIRE(getrusage(RUSAGE_CHILDREN, &usage) == 0);
  CHECK(usage.ru_maxrss < 200 * 1024);  // KiB
}

TEST_CASE("a schema that alters roles fails its own run alone") {
  TempDir dir;
  const std::string schema =
      dir.Write("alters.sql", FileText(kSchema) + "ALTER ROLE postgres PASSWORD 'stolen';\n");
  std::string yaml = ScenarioYaml(kServerTarget);
  const std::string alters = dir.Write("alters.yaml", std::string(yaml).replace(
                                                          yaml.find(kSchema), kSchema.size(),
                                                          schema));
  const std::string next = dir.Write("next.yaml", yaml);
  Output out = Lastcall({"run", "--reports", (dir.path / "reports").string(), alters, next});
  INFO(out.text);
  CHECK(out.code == 2);
  // The server says no statement's position for a permission error.
  CHECK(out.text.find(schema + ": the schema failed: ERROR:  ") != std::string::npos);
  CHECK(out.text.find("superuser") != std::string::npos);
  CHECK(ResultOf(dir, "alters")["verdict"] == "bad input");
  CHECK(ResultOf(dir, "next")["verdict"] == "met");
}
