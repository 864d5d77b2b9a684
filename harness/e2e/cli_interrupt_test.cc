// End-to-end tests of the lastcall command: Ctrl-C, deadlines and resources in every phase of a
// run.
#include "e2e/cli_support.h"

using namespace lastcall;

TEST_CASE("lastcall interrupted by SIGINT: stops everything, exits 130, report marked") {
  TempDir dir;
  std::string file = LongScenario(dir);
  std::string reports = (dir.path / "reports").string();
  fs::create_directory(dir.path / "tmp");
  auto start = std::chrono::steady_clock::now();
  Output out = Lastcall(
      {"run", "--reports", reports, file}, SIGINT, [&] { return LongTargetServing(reports); },
      (dir.path / "tmp").string());
  INFO(out.text);
  CHECK(out.code == 130);
  nlohmann::json json = ReadJson(reports + "/long/result.json");
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
  std::string text =
      ScenarioYaml("  command: [" + kServer + ", --port, \"${port}\", --bug, ignore-signal]\n");
  text.replace(text.find("300ms"), 5, "60s");
  std::string file = dir.Write("long.yaml", text);
  std::string reports = (dir.path / "reports").string();
  fs::create_directory(dir.path / "tmp");
  std::chrono::steady_clock::time_point second;
  auto told_to_stop = [&] {
    // The target reports the polite SIGTERM lastcall sent it after Ctrl-C.
    bool told =
        ReadFileOrEmpty(reports + "/long/target.log.partial").find("received shutdown signal") !=
        std::string::npos;
    if (told) second = std::chrono::steady_clock::now();
    return told;
  };
  Output out =
      Lastcall({"run", "--reports", reports, file},
               {{SIGINT, [&] { return LongTargetServing(reports); }}, {SIGINT, told_to_stop}},
               (dir.path / "tmp").string());
  INFO(out.text);
  CHECK(out.code == 130);
  // Well before the 10 s the polite stop gives (not a timing claim: the
  // point is that the second Ctrl-C did not wait for it).
  CHECK(std::chrono::steady_clock::now() - second < std::chrono::seconds(5));
  nlohmann::json json = ReadJson(reports + "/long/result.json");
  CHECK(json["interrupted"] == true);
  CHECK_FALSE(RunProcessesAlive(json["run_id"]));
  CHECK(fs::is_empty(dir.path / "tmp"));
}

// --- Ctrl-C, deadlines and resources in every phase --------------------------

namespace {

// True while a session of `server` sleeps in pg_sleep(). (Its query text
// may not say so: the audit reads its queries' rows through a cursor.)
bool Sleeping(EmbeddedPostgres& server) {
  pqxx::connection c(server.UrlFor("postgres"));
  pqxx::nontransaction tx(c);
  return !tx.exec(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND "
                "pid <> pg_backend_pid()")
              .empty();
}

// Runs `file` on `server`, with a SIGINT as soon as a statement sleeps
// there. Returns lastcall's output and sets *after to the time from the
// SIGINT to lastcall's exit.
Output InterruptWhileSleeping(const TempDir& dir, EmbeddedPostgres& server, const std::string& file,
                              std::chrono::duration<double>* after) {
  std::chrono::steady_clock::time_point poked;
  Output out = Lastcall(
      {"run", "--db", server.UrlFor("postgres"), "--reports", (dir.path / "reports").string(),
       file},
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
void CheckNothingLeft(const TempDir& dir, EmbeddedPostgres& server, const nlohmann::json& result) {
  CHECK_FALSE(RunProcessesAlive(result["run_id"]));
  CHECK(fs::is_empty(dir.path / "tmp"));
  CHECK(WaitUntil([&] { return !Sleeping(server); }));
  pqxx::connection c(server.UrlFor("postgres"));
  pqxx::nontransaction tx(c);
  CHECK(tx.exec("SELECT 1 FROM pg_database WHERE datname LIKE 'lastcall_run_%'").empty());
}
}  // namespace

TEST_CASE("SIGINT during a long schema: exit 130 at once, the schema named, nothing left") {
  TempDir dir;
  fs::create_directory(dir.path / "tmp");
  std::unique_ptr<EmbeddedPostgres> server = ExternalServer(dir);
  std::string schema =
      dir.Write("schema.sql", ReadFileOrEmpty(kSchema) + "SELECT pg_sleep(600);\n");
  std::string yaml = ScenarioYaml(kServerTarget);
  yaml.replace(yaml.find(kSchema), kSchema.size(), schema);
  std::chrono::duration<double> after{};
  Output out = InterruptWhileSleeping(dir, *server, dir.Write("schema.yaml", yaml), &after);
  INFO(out.text);
  CHECK(out.code == 130);
  // Not a speed claim: without the cancel it would wait for the 600 s.
  CHECK(after < std::chrono::seconds(10));
  WARN("exit " << after.count() << " s after SIGINT during the schema");
  nlohmann::json result = ReadJson(dir.path / "reports" / "schema" / "result.json");
  CHECK(result["interrupted"] == true);
  CHECK(result["message"].get<std::string>().find("during the schema") != std::string::npos);
  CheckNothingLeft(dir, *server, result);
  // Neither is the half-made template.
  pqxx::connection c(server->UrlFor("postgres"));
  pqxx::nontransaction tx(c);
  CHECK(tx.exec("SELECT 1 FROM pg_database WHERE datname LIKE 'lastcall_tpl_%' AND "
                "NOT datistemplate")
            .empty());
}

TEST_CASE("a schema longer than database.timeout: exit 3 naming the schema and the limit") {
  TempDir dir;
  std::string schema =
      dir.Write("schema.sql", ReadFileOrEmpty(kSchema) + "SELECT pg_sleep(600);\n");
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
  nlohmann::json result = ReadJson(dir.path / "reports" / "audit" / "result.json");
  CHECK(result["interrupted"] == true);
  CHECK(result["message"].get<std::string>().find("during the audit") != std::string::npos);
  CheckNothingLeft(dir, *server, result);
}

TEST_CASE("a target printing 100 MB on one line is not ready within its timeout: exit 3 in time") {
  TempDir dir;
  auto start = std::chrono::steady_clock::now();
  Output out =
      RunYaml(dir, "one-line",
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
  std::string log = ReadFileOrEmpty(dir.path / "reports" / "one-line" / "target.log");
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
                   "touch " +
                   flooded.string() +
                   "; yes | tr -d '\\\\n'\"]\n"
                   "  ready: {http: /healthz, timeout: 60s}\n"));
  std::string reports = (dir.path / "reports").string();
  std::chrono::steady_clock::time_point poked;
  Output out = Lastcall(
      {"run", "--reports", reports, file}, SIGINT,
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
  nlohmann::json result = ReadJson(dir.path / "reports" / "flood" / "result.json");
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
  nlohmann::json result = ReadJson(dir.path / "reports" / "files" / "result.json");
  CHECK(result["verdict"] == "infrastructure failure");
  CHECK(result["message"].get<std::string>().find("ulimit -n") != std::string::npos);
}

TEST_CASE("more clients than threads allow: exit 3 saying so, with a report, no abort") {
  // A cgroup of its own caps lastcall's tasks (RLIMIT_NPROC does not bind
  // root); it needs the cgroup v1 pids controller, writable.
  const fs::path cgroup =
      fs::path("/sys/fs/cgroup/pids") / ("lastcall-test-" + std::to_string(getpid()));
  std::error_code ec;
  if (!fs::create_directory(cgroup, ec))
    return SkipTest("cannot make a pids cgroup (" + ec.message() + ")");
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
  Output out = Lastcall(
      {"run", "--reports", (dir.path / "reports").string(), file}, {}, (dir.path / "tmp").string(),
      {"/bin/sh", "-c", "echo $$ > " + (cgroup / "cgroup.procs").string() + " && exec \"$@\"",
       "sh"});
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("cannot start the thread of client") != std::string::npos);
  nlohmann::json result = ReadJson(dir.path / "reports" / "threads" / "result.json");
  CHECK(result["verdict"] == "infrastructure failure");
  CHECK_FALSE(RunProcessesAlive(result["run_id"]));
  CHECK(fs::is_empty(dir.path / "tmp"));
}

TEST_CASE("run --jobs 2 interrupted by SIGINT: both runs stop, exit 130, nothing left") {
  TempDir dir;
  fs::create_directory(dir.path / "tmp");
  TempDir suite_dir;  // the scenario files, apart from the reports
  for (const char* name : {"first", "second"}) LongScenario(suite_dir, name);
  std::string reports = (dir.path / "reports").string();
  auto start = std::chrono::steady_clock::now();
  Output out = Lastcall(
      {"run", "--jobs", "2", "--reports", reports, suite_dir.path.string()}, SIGINT,
      [&] { return LongTargetServing(reports, "first") && LongTargetServing(reports, "second"); },
      (dir.path / "tmp").string());
  INFO(out.text);
  CHECK(out.code == 130);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
  for (const char* name : {"first", "second"}) {
    nlohmann::json json = ReadJson(reports + "/" + name + "/result.json");
    CHECK(json["interrupted"] == true);
    CHECK_FALSE(RunProcessesAlive(json["run_id"]));
  }
  CHECK(fs::is_empty(dir.path / "tmp"));
}
