// End-to-end tests of the lastcall command: The database: an existing server (--db), the embedded
// server's leftovers after a SIGKILL, the target's sessions, large audits and hostile schemas.
#include "e2e/cli_support.h"

using namespace lastcall;

TEST_CASE("run with --db uses an existing server and drops the run database") {
  TempDir dir;
  std::unique_ptr<EmbeddedPostgres> server = ExternalServer(dir);
  // A crash and a restart: lost, duplicated and connections_leaked, all
  // judged on the external server.
  Output out = Lastcall({"run", "--db", server->UrlFor("postgres"), "--reports",
                         (dir.path / "reports").string(), "scenarios/sigkill-then-restart.yaml"});
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
  Output out = Lastcall({"run", "--db", "postgresql://nobody@127.0.0.1:1/none", "--reports",
                         (dir.path / "reports").string(), "scenarios/sigterm-under-load.yaml"});
  INFO(out.text);
  CHECK(out.code == 3);
  CHECK(out.text.find("cannot reach the database server") != std::string::npos);
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
  Output out = Lastcall(
      {"run", "--reports", reports, file}, SIGKILL, [&] { return LongTargetServing(reports); },
      tmp.string());
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
      << postmaster << "\n/data\n1\n5432\n/sock\n127.0.0.1\n  5432001  " << shmid << "\nready\n";
  const std::vector<std::string> args = {"run",
                                         "--db",
                                         "postgresql://nobody@127.0.0.1:1/none",
                                         "--reports",
                                         (dir.path / "reports").string(),
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

namespace {

// scenarios/bugs/`bug`.yaml written to `dir` as `name`.yaml, its target
// started through `launcher` (YAML list items, each followed by ", "); with
// `fixed`, without the bug and expecting every check to pass.
std::string BugScenario(const TempDir& dir, const std::string& name, const std::string& bug,
                        const std::string& launcher, bool fixed = false) {
  std::string text =
      ReadFileOrEmpty(std::string(LASTCALL_SOURCE_DIR) + "/scenarios/bugs/" + bug + ".yaml");
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
  std::string yaml = TriggerScenario(
      "  - when: {db_transactions_open: 3}\n"
      "    signal: TERM\n",
      "80ms");
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
  Output out = Lastcall(
      {"run", "--db", server->UrlFor("postgres"), "--reports", (dir.path / "reports").string(),
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
  Output out =
      Lastcall({"run", "--db", UrlWithLogin(server->UrlFor("postgres"), "runner", "runner"),
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

TEST_CASE("a million rows of keys lastcall never sent: exact counts, short lists, small reports") {
  TempDir dir;
  const std::string good = "SELECT idempotency_key, count(*) FROM ledger GROUP BY 1";
  std::string yaml = ScenarioYaml(kServerTarget,
                                  "  invariants:\n    - name: rows\n"
                                  "      sql: SELECT generate_series(1, 1000000)\n"
                                  "expect: {fail: [phantom, invariants]}\n");
  yaml.replace(yaml.find(good), good.size(),
               good +
                   " UNION ALL SELECT 'foreign-' || g, g % 2 + 1 "
                   "FROM generate_series(1, 1000000) g");
  Output out = RunYaml(dir, "foreign", yaml);
  INFO(out.text);
  CHECK(out.code == 0);
  nlohmann::json result = ResultOf(dir, "foreign");
  // Every foreign row applied is a phantom; every other one applied twice.
  nlohmann::json phantom = CheckOf(result, "phantom");
  CHECK(phantom["summary"].get<std::string>().rfind("1000000 of ", 0) == 0);
  CHECK(phantom["summary"].get<std::string>().find(
            "audit.applied returned 999000 more rows of keys lastcall never sent") !=
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
  CHECK(lines ==
        std::map<std::string, int>{{"duplicated", 501}, {"invariants", 1001}, {"phantom", 1001}});
  // Nor held whole in memory: the largest child's peak, lastcall's (the
  // rows alone were ~400 MB when the audit held them all).
  struct rusage usage;
  REQUIRE(getrusage(RUSAGE_CHILDREN, &usage) == 0);
  CHECK(usage.ru_maxrss < 200 * 1024);  // KiB
}

TEST_CASE("a schema that alters roles fails its own run alone") {
  TempDir dir;
  const std::string schema = dir.Write(
      "alters.sql", ReadFileOrEmpty(kSchema) + "ALTER ROLE postgres PASSWORD 'stolen';\n");
  std::string yaml = ScenarioYaml(kServerTarget);
  const std::string alters = dir.Write(
      "alters.yaml", std::string(yaml).replace(yaml.find(kSchema), kSchema.size(), schema));
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
