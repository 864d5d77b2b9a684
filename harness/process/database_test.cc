// Tests of the embedded PostgreSQL and the per-run databases, on a real
// server. Run as root (the CI case: the server runs as `postgres`) and as a
// normal user (e.g. runuser -u nobody with HOME or LASTCALL_CACHE writable).
#include "process/database.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <sys/stat.h>

#include "base/file.h"
#include "base/wait_until.h"

namespace lastcall {
namespace {

namespace fs = std::filesystem;

// Gone, or a zombie nobody reaps.
bool Dead(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!std::getline(f, s)) return true;
  size_t close = s.rfind(')');
  return close != std::string::npos && close + 2 < s.size() &&
         (s[close + 2] == 'Z' || s[close + 2] == 'X');
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/lastcall-db-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// One server for the tests that only need one (started on first use).
struct SharedServer {
  TempDir dir;
  std::unique_ptr<EmbeddedPostgres> pg;
  std::string error;
  SharedServer() { pg = EmbeddedPostgres::Start(dir.path, &error); }
};

EmbeddedPostgres& Server() {
  static SharedServer shared;
  INFO(shared.error);
  REQUIRE(shared.pg != nullptr);
  return *shared.pg;
}

// A schema unique to this test process, so that the template is new.
std::string UniqueSchema(const std::string& tag) {
  return "-- " + tag + " " + std::to_string(::getpid()) + " " +
         std::to_string(Clock::now().time_since_epoch().count()) +
         "\n"
         "CREATE TABLE accounts (id text PRIMARY KEY, balance bigint NOT NULL);\n"
         "CREATE TABLE ledger (idempotency_key text PRIMARY KEY, amount bigint NOT NULL);\n"
         "INSERT INTO accounts VALUES ('acct-1', 100), ('acct-2', 200);\n";
}

int64_t QueryInt(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  pqxx::nontransaction w(c);
  return w.exec(sql)[0][0].as<int64_t>();
}

bool DatabaseExists(const std::string& admin_url, const std::string& name) {
  pqxx::connection c(admin_url);
  pqxx::nontransaction w(c);
  return !w.exec("SELECT 1 FROM pg_database WHERE datname = " + w.quote(name)).empty();
}

TEST_CASE("EmbeddedPostgres: starts, serves, logs and is gone after destruction", "[database]") {
  TempDir dir;
  std::string error;
  pid_t pid;
  std::string data_dir;
  {
    auto pg = EmbeddedPostgres::Start(dir.path, &error);
    INFO(error);
    REQUIRE(pg != nullptr);
    CHECK(pg->port() > 0);
    // A password of 32 hex digits, this server's own.
    const std::string url = pg->UrlFor("postgres");
    const std::string prefix = "postgresql://postgres:";
    const std::string suffix = "@127.0.0.1:" + std::to_string(pg->port()) + "/postgres";
    REQUIRE(url.size() == prefix.size() + 32 + suffix.size());
    CHECK(url.compare(0, prefix.size(), prefix) == 0);
    CHECK(url.compare(prefix.size() + 32, suffix.size(), suffix) == 0);
    // Without it, TCP on loopback is refused: other local users cannot get in.
    CHECK_THROWS_WITH(pqxx::connection("postgresql://postgres@127.0.0.1:" +
                                       std::to_string(pg->port()) + "/postgres"),
                      Catch::Contains("password"));
    CHECK(pg->log_path() == dir.path + "/postgres.log");
    pid = pg->server_pid();
    data_dir = pg->data_dir();
    CHECK(pid > 0);
    CHECK(fs::exists(data_dir + "/PG_VERSION"));
    CHECK(pg->start_timings().start > Duration::zero());

    // Durability settings as intended.
    pqxx::connection c(pg->UrlFor("postgres"));
    pqxx::nontransaction w(c);
    CHECK(w.exec("SHOW synchronous_commit")[0][0].as<std::string>() == "on");
    CHECK(w.exec("SHOW fsync")[0][0].as<std::string>() == "off");
    CHECK(w.exec("SHOW listen_addresses")[0][0].as<std::string>() == "127.0.0.1");
    CHECK(w.exec("SHOW server_encoding")[0][0].as<std::string>() == "UTF8");
    if (::geteuid() == 0) {
      CHECK(w.exec("SELECT current_setting('data_directory')")[0][0].as<std::string>() == data_dir);
    }
  }
  // Destroyed: the postmaster and its backends are gone, the data removed.
  CHECK(WaitUntil([&] { return Dead(pid); }));
  CHECK_FALSE(ProcessGroupAlive(pid));
  CHECK_FALSE(fs::exists(data_dir));
  // The log stays (the caller's folder) and tells of a clean shutdown.
  std::string log = ReadFileOrEmpty(dir.path + "/postgres.log");
  CHECK(log.find("database system is ready to accept connections") != std::string::npos);
  CHECK(log.find("database system is shut down") != std::string::npos);
}

// Sets an environment variable for the scope.
struct ScopedEnv {
  std::string name;
  ScopedEnv(const std::string& n, const std::string& value) : name(n) {
    ::setenv(n.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

TEST_CASE("EmbeddedPostgres: missing binaries are a clear error", "[database]") {
  TempDir dir;
  ScopedEnv bindir("LASTCALL_PG_BINDIR", dir.path + "/nothing-here");
  std::string error;
  CHECK(EmbeddedPostgres::Start(dir.path + "/work", &error) == nullptr);
  CHECK(error.find("LASTCALL_PG_BINDIR=" + dir.path + "/nothing-here does not hold") !=
        std::string::npos);
}

TEST_CASE("EmbeddedPostgres: a server that fails to start leaves nothing running", "[database]") {
  // A fake PostgreSQL: initdb makes a "cluster"; postgres starts a child of
  // its own, writes to its log and dies.
  TempDir dir;
  const std::string bin = dir.path + "/bin";
  const std::string shared = dir.path + "/shared";  // writable by the server's user
  fs::create_directories(bin);
  fs::create_directories(shared);
  REQUIRE(::chmod(dir.path.c_str(), 0755) == 0);
  REQUIRE(::chmod(bin.c_str(), 0755) == 0);
  REQUIRE(::chmod(shared.c_str(), 0777) == 0);
  {
    std::ofstream f(bin + "/initdb");
    f << "#!/bin/sh\n"
         "while [ \"$1\" != -D ]; do shift; done\n"
         "echo 99 > \"$2/PG_VERSION\"\n";
  }
  {
    std::ofstream f(bin + "/postgres");
    f << "#!/bin/sh\n"
         "if [ \"$1\" = --version ]; then echo 'postgres (PostgreSQL) 99.1'; exit 0; fi\n"
         "sleep 300 &\n"
         "echo $! > "
      << shared
      << "/child.pid\n"
         "echo 'FATAL:  fake server cannot start' >&2\n"
         "exit 1\n";
  }
  REQUIRE(::chmod((bin + "/initdb").c_str(), 0755) == 0);
  REQUIRE(::chmod((bin + "/postgres").c_str(), 0755) == 0);
  ScopedEnv bindir("LASTCALL_PG_BINDIR", bin);
  ScopedEnv cache("LASTCALL_CACHE", shared + "/cache");

  std::string error;
  CHECK(EmbeddedPostgres::Start(dir.path + "/work", &error) == nullptr);
  CHECK(error.find("PostgreSQL exited during start-up (status 1)") != std::string::npos);
  CHECK(error.find("FATAL:  fake server cannot start") != std::string::npos);
  // The server's own child was killed with its group, the data removed.
  std::string pid_text = ReadFileOrEmpty(shared + "/child.pid");
  REQUIRE_FALSE(pid_text.empty());
  const pid_t child = std::stoi(pid_text);
  CHECK(WaitUntil([&] { return Dead(child); }));
  CHECK_FALSE(fs::exists(dir.path + "/work/pgdata"));
  CHECK(fs::exists(shared + "/cache/postgresql-99/PG_VERSION"));
}

TEST_CASE("EmbeddedPostgres: a work folder the server cannot use directly", "[database]") {
  TempDir dir;
  std::string work;
  bool elsewhere = true;  // the cluster goes to a private folder in /tmp
  SECTION("too deep for a unix socket path") {
    work = dir.path + "/" + std::string(60, 'd') + "/" + std::string(60, 'e');
  }
  SECTION("not reachable by the server's user (as root)") {
    REQUIRE(::chmod(dir.path.c_str(), 0700) == 0);
    work = dir.path + "/work";
    elsewhere = ::geteuid() == 0;
  }
  std::string error;
  std::string data_dir;
  {
    auto pg = EmbeddedPostgres::Start(work, &error);
    INFO(error);
    REQUIRE(pg != nullptr);
    data_dir = pg->data_dir();
    CHECK((data_dir.rfind("/tmp/lastcall-pg-", 0) == 0) == elsewhere);
    pqxx::connection c(pg->UrlFor("postgres"));
    pqxx::nontransaction w(c);
    CHECK(w.exec("SELECT 1")[0][0].as<int>() == 1);
    CHECK(fs::exists(work + "/postgres.log"));  // the log stays in the work folder
  }
  CHECK_FALSE(fs::exists(data_dir));
  CHECK_FALSE(fs::exists(fs::path(data_dir).parent_path() / "pgsock"));
}

TEST_CASE("EmbeddedPostgres: the log has connections with their role and application name",
          "[database]") {
  EmbeddedPostgres& pg = Server();
  {
    pqxx::connection c(pg.UrlFor("postgres") + "?application_name=xyz");
    pqxx::nontransaction w(c);
    w.exec("SELECT 1");
  }
  // The server writes the log itself; wait for the lines to land.
  auto has = [&](const std::string& what) {
    return ReadFileOrEmpty(pg.log_path()).find(what) != std::string::npos;
  };
  CHECK(WaitUntil([&] { return has("application_name=xyz"); }));
  CHECK(has("connection authorized: user=postgres database=postgres application_name=xyz"));
  // Database, role, application name.
  CHECK(WaitUntil([&] { return has(" postgres postgres xyz LOG:  disconnection:"); }));
}

// RunDatabases::Create for a schema without setup, where the failure's kind
// does not matter.
bool Create(RunDatabases& databases, const std::string& dbname, const std::string& schema,
            std::string* error) {
  RunDatabases::Failure failure;
  std::string owner;
  return databases.Create(dbname, DatabaseContent{schema, ""}, &owner, &failure, error);
}

int64_t Spares(const std::string& admin) {
  return QueryInt(admin,
                  "SELECT count(*) FROM pg_database WHERE datname LIKE 'lastcall\\_spare\\_" +
                      std::to_string(getpid()) + "\\_%'");
}

TEST_CASE("RunDatabases: a run database from a schema, usable, dropped", "[database]") {
  EmbeddedPostgres& pg = Server();
  const std::string admin = pg.UrlFor("postgres");
  const std::string schema = UniqueSchema("usable");
  std::string error;
  {
    RunDatabases databases(admin, 0);
    REQUIRE(Create(databases, "lastcall_run_a", schema, &error));
    CHECK(error.empty());
    const std::string url = pg.UrlFor("lastcall_run_a");
    CHECK(QueryInt(url, "SELECT sum(balance) FROM accounts") == 300);
    {
      pqxx::connection c(url);
      pqxx::work w(c);
      w.exec("INSERT INTO ledger VALUES ('k1', 5)");
      w.commit();
    }
    CHECK(QueryInt(url, "SELECT count(*) FROM ledger") == 1);
    databases.Drop("lastcall_run_a");
  }
  CHECK_FALSE(DatabaseExists(admin, "lastcall_run_a"));
}

TEST_CASE("RunDatabases: a second database from the same schema reuses the template",
          "[database]") {
  EmbeddedPostgres& pg = Server();
  const std::string admin = pg.UrlFor("postgres");
  const std::string schema = UniqueSchema("reuse");
  std::string error;
  const int64_t templates_before =
      QueryInt(admin, "SELECT count(*) FROM pg_database WHERE datname LIKE 'lastcall\\_tpl\\_%'");
  RunDatabases databases(admin, 0);

  REQUIRE(Create(databases, "lastcall_run_b1", schema, &error));
  // Changing the first run's data must not leak into the second.
  {
    pqxx::connection c(pg.UrlFor("lastcall_run_b1"));
    pqxx::work w(c);
    w.exec("UPDATE accounts SET balance = 0");
    w.commit();
  }
  REQUIRE(Create(databases, "lastcall_run_b2", schema, &error));

  // Reused: one template for the two runs (how much faster that is, is
  // measured by bench/database_bench.cc, not asserted here).
  CHECK(QueryInt(admin,
                 "SELECT count(*) FROM pg_database WHERE datname LIKE "
                 "'lastcall\\_tpl\\_%' AND datistemplate AND NOT datallowconn") ==
        templates_before + 1);
  CHECK(QueryInt(pg.UrlFor("lastcall_run_b2"), "SELECT sum(balance) FROM accounts") == 300);
  databases.Drop("lastcall_run_b1");
  databases.Drop("lastcall_run_b2");
}

TEST_CASE("RunDatabases: spares are cloned ahead and renamed, and none is left", "[database]") {
  EmbeddedPostgres& pg = Server();
  const std::string admin = pg.UrlFor("postgres");
  const std::string schema = UniqueSchema("spares");
  std::string error;
  {
    RunDatabases databases(admin, 2);
    REQUIRE(Create(databases, "lastcall_run_s1", schema, &error));
    // Once a schema has been used, two clones of it wait for the next runs.
    CHECK(WaitUntil([&] { return Spares(admin) == 2; }));
    REQUIRE(Create(databases, "lastcall_run_s2", schema, &error));
    CHECK(Spares(admin) <= 2);
    CHECK(QueryInt(pg.UrlFor("lastcall_run_s2"), "SELECT sum(balance) FROM accounts") == 300);
    CHECK(WaitUntil([&] { return Spares(admin) == 2; }));
    // A run's changes stay in its database; the spares are the template's.
    pqxx::connection c(pg.UrlFor("lastcall_run_s2"));
    pqxx::nontransaction(c).exec("UPDATE accounts SET balance = 0");
    REQUIRE(Create(databases, "lastcall_run_s3", schema, &error));
    CHECK(QueryInt(pg.UrlFor("lastcall_run_s3"), "SELECT sum(balance) FROM accounts") == 300);
    databases.Drop("lastcall_run_s1");
    databases.Drop("lastcall_run_s2");  // its session is still open
  }
  CHECK(Spares(admin) == 0);
  CHECK_FALSE(DatabaseExists(admin, "lastcall_run_s1"));
  CHECK_FALSE(DatabaseExists(admin, "lastcall_run_s2"));
  // Not given back: the caller's to drop.
  CHECK(DatabaseExists(admin, "lastcall_run_s3"));
  RunDatabases(admin, 0).Drop("lastcall_run_s3");
  CHECK_FALSE(DatabaseExists(admin, "lastcall_run_s3"));
}

TEST_CASE("RunDatabases: a schema error gives PostgreSQL's message and the line", "[database]") {
  EmbeddedPostgres& pg = Server();
  const std::string admin = pg.UrlFor("postgres");
  const int64_t dbs_before = QueryInt(admin, "SELECT count(*) FROM pg_database");
  std::string error;
  {
    RunDatabases databases(admin, 1);
    SECTION("syntax error") {
      const std::string schema = UniqueSchema("syntax") + "CREAT TABLE oops (id int);\n";
      CHECK_FALSE(Create(databases, "lastcall_run_c", schema, &error));
      CHECK(error.find("line 5: ERROR:  syntax error at or near \"CREAT\"") != std::string::npos);
      CHECK(error.find("LINE 5: CREAT TABLE oops") != std::string::npos);
    }
    SECTION("error found after parsing, in a later statement") {
      const std::string schema = UniqueSchema("semantic") + "\n\nSELECT * FROM nope;\n";
      CHECK_FALSE(Create(databases, "lastcall_run_c", schema, &error));
      CHECK(error.find("line 7: ERROR:  relation \"nope\" does not exist") != std::string::npos);
    }
    SECTION("error without a position") {
      const std::string schema =
          UniqueSchema("noposition") + "INSERT INTO accounts VALUES ('acct-1', 1);\n";
      CHECK_FALSE(Create(databases, "lastcall_run_c", schema, &error));
      CHECK(error.find("duplicate key value violates unique constraint") != std::string::npos);
      CHECK(error.find("line ") == std::string::npos);
    }
    SECTION("the setup fails, after the schema") {
      std::string owner;
      RunDatabases::Failure failure = RunDatabases::Failure::kServer;
      const std::string schema = UniqueSchema("setup");
      CHECK_FALSE(databases.Create("lastcall_run_c", DatabaseContent{schema, "\nSELECT nope;"},
                                   &owner, &failure, &error));
      CHECK(failure == RunDatabases::Failure::kSetup);
      CHECK(error.find("database.setup failed: line 2: ERROR:  column \"nope\" does not exist") !=
            std::string::npos);
      RunDatabases::Failure schema_failure = RunDatabases::Failure::kServer;
      CHECK_FALSE(databases.Create("lastcall_run_c",
                                   DatabaseContent{schema + "CREAT x;", "SELECT 1"}, &owner,
                                   &schema_failure, &error));
      CHECK(schema_failure == RunDatabases::Failure::kSchema);
    }
  }
  INFO(error);
  // Neither the run database nor a half-made template nor a spare is left.
  CHECK_FALSE(DatabaseExists(admin, "lastcall_run_c"));
  CHECK(QueryInt(admin, "SELECT count(*) FROM pg_database") == dbs_before);
}

TEST_CASE("RunDatabases: the setup is part of the clone, per schema and setup", "[database]") {
  EmbeddedPostgres& pg = Server();
  const std::string admin = pg.UrlFor("postgres");
  const std::string schema = UniqueSchema("setup_cloned");
  RunDatabases::Failure failure;
  std::string error;
  RunDatabases databases(admin, 1);
  const std::string add = "INSERT INTO accounts VALUES ('acct-3', 700);";
  std::string owner;
  REQUIRE(
      databases.Create("lastcall_run_u1", DatabaseContent{schema, add}, &owner, &failure, &error));
  REQUIRE(
      databases.Create("lastcall_run_u2", DatabaseContent{schema, ""}, &owner, &failure, &error));
  REQUIRE(
      databases.Create("lastcall_run_u3", DatabaseContent{schema, add}, &owner, &failure, &error));
  CHECK(QueryInt(pg.UrlFor("lastcall_run_u1"), "SELECT sum(balance) FROM accounts") == 1000);
  CHECK(QueryInt(pg.UrlFor("lastcall_run_u2"), "SELECT sum(balance) FROM accounts") == 300);
  CHECK(QueryInt(pg.UrlFor("lastcall_run_u3"), "SELECT sum(balance) FROM accounts") == 1000);
  for (const char* name : {"lastcall_run_u1", "lastcall_run_u2", "lastcall_run_u3"})
    databases.Drop(name);
}

TEST_CASE("RunDatabases: the schema runs as the database's owner, who is no superuser",
          "[database]") {
  EmbeddedPostgres& pg = Server();
  const std::string admin = pg.UrlFor("postgres");
  std::string error, owner;
  RunDatabases::Failure failure = RunDatabases::Failure::kServer;
  RunDatabases databases(admin, 0);
  SECTION("a schema that alters lastcall's own role fails, and changes nothing") {
    const std::string schema = UniqueSchema("alters_roles") + "ALTER ROLE postgres PASSWORD 'x';\n";
    CHECK_FALSE(
        databases.Create("lastcall_run_o", DatabaseContent{schema, ""}, &owner, &failure, &error));
    INFO(error);
    CHECK(failure == RunDatabases::Failure::kSchema);
    CHECK(error.find("the schema failed: ERROR:  ") == 0);
    CHECK(error.find("superuser") != std::string::npos);
    CHECK(QueryInt(admin, "SELECT 1") == 1);  // the admin's password still works
  }
  SECTION("the target's role, a member of the owner, may use what the schema made") {
    const std::string schema = UniqueSchema("owned") + "CREATE SCHEMA app;\n";
    REQUIRE(databases.Create("lastcall_run_o", DatabaseContent{schema, "SELECT 1"}, &owner,
                             &failure, &error));
    REQUIRE(owner.rfind("lastcall_tpl_", 0) == 0);
    const std::string url = pg.UrlFor("lastcall_run_o");
    CHECK(QueryInt(url,
                   "SELECT count(*) FROM pg_database WHERE datname = current_database() "
                   "AND pg_get_userbyid(datdba) = '" +
                       owner + "'") == 1);
    CHECK(QueryInt(url, "SELECT count(*) FROM pg_roles WHERE rolname = '" + owner +
                            "' AND NOT rolsuper AND NOT rolcanlogin AND NOT rolcreatedb "
                            "AND NOT rolcreaterole") == 1);
    // As AuditConnection::CreateRole makes an instance's role.
    {
      pqxx::connection c(admin);
      pqxx::nontransaction(c).exec(
          "CREATE ROLE lastcall_owned_1 LOGIN NOSUPERUSER PASSWORD "
          "'pw' IN ROLE " +
          c.quote_name(owner));
    }
    {
      pqxx::connection target(UrlWithLogin(url, "lastcall_owned_1", "pw"));
      pqxx::nontransaction w(target);
      w.exec(
          "INSERT INTO ledger VALUES ('k1', 5); CREATE TABLE app.extra (x int); "
          "CREATE TABLE public.more (x int)");
      CHECK_THROWS_AS(w.exec("ALTER ROLE postgres PASSWORD 'x'"), pqxx::sql_error);
    }
    CHECK(QueryInt(url, "SELECT count(*) FROM ledger") == 1);
  }
  databases.Drop("lastcall_run_o", {"lastcall_owned_1"});
}

TEST_CASE("RunDatabases: names are quoted", "[database]") {
  EmbeddedPostgres& pg = Server();
  const std::string admin = pg.UrlFor("postgres");
  const std::string name = "Run \"1\"; DROP DATABASE postgres; --/x?y";
  std::string error;
  {
    RunDatabases databases(admin, 0);
    REQUIRE(Create(databases, name, UniqueSchema("quoted"), &error));
    CHECK(DatabaseExists(admin, name));
    CHECK(QueryInt(pg.UrlFor(name), "SELECT count(*) FROM accounts") == 2);
    CHECK(QueryInt(pg.UrlFor(name),
                   "SELECT count(*) FROM pg_database WHERE datname = "
                   "current_database() AND datname = 'Run \"1\"; DROP DATABASE "
                   "postgres; --/x?y'") == 1);
    databases.Drop(name);
  }
  CHECK_FALSE(DatabaseExists(admin, name));
  CHECK(DatabaseExists(admin, "postgres"));
}

TEST_CASE("RunDatabases: two lastcalls making the same new template at once", "[database]") {
  EmbeddedPostgres& pg = Server();
  const std::string admin = pg.UrlFor("postgres");
  // A schema slow enough for the two to overlap.
  const std::string schema = UniqueSchema("concurrent") + "SELECT pg_sleep(0.3);\n";
  std::string e1, e2;
  bool ok1 = false, ok2 = false;
  {
    RunDatabases one(admin, 0), other(admin, 0);
    std::thread t1([&] { ok1 = Create(one, "lastcall_run_e1", schema, &e1); });
    std::thread t2([&] { ok2 = Create(other, "lastcall_run_e2", schema, &e2); });
    t1.join();
    t2.join();
    INFO(e1 << " / " << e2);
    CHECK(ok1);
    CHECK(ok2);
    CHECK(QueryInt(pg.UrlFor("lastcall_run_e1"), "SELECT count(*) FROM accounts") == 2);
    CHECK(QueryInt(pg.UrlFor("lastcall_run_e2"), "SELECT count(*) FROM accounts") == 2);
    one.Drop("lastcall_run_e1");
    other.Drop("lastcall_run_e2");
  }
  CHECK_FALSE(DatabaseExists(admin, "lastcall_run_e1"));
  CHECK_FALSE(DatabaseExists(admin, "lastcall_run_e2"));
}

TEST_CASE("RunDatabases: an unreachable server is an error", "[database]") {
  std::string error;
  RunDatabases databases("postgresql://postgres@127.0.0.1:1/postgres", 1);
  RunDatabases::Failure failure = RunDatabases::Failure::kSchema;
  std::string owner;
  CHECK_FALSE(databases.Create("x", DatabaseContent{}, &owner, &failure, &error));
  CHECK(failure == RunDatabases::Failure::kServer);
  CHECK(error.find("cannot create database x") != std::string::npos);
  databases.Drop("x");  // and the destructor does not hang on it
}

TEST_CASE("UrlWithDatabase", "[database]") {
  CHECK(UrlWithDatabase("postgresql://u@h:5/db", "x") == "postgresql://u@h:5/x");
  CHECK(UrlWithDatabase("postgresql://u@h:5", "x") == "postgresql://u@h:5/x");
  CHECK(UrlWithDatabase("postgresql://u@h:5/", "x") == "postgresql://u@h:5/x");
  CHECK(UrlWithDatabase("postgres://u:p@h/db?sslmode=disable&application_name=a", "run_1") ==
        "postgres://u:p@h/run_1?sslmode=disable&application_name=a");
  CHECK(UrlWithDatabase("postgresql://h?sslmode=disable", "x") ==
        "postgresql://h/x?sslmode=disable");
  CHECK(UrlWithDatabase("postgresql://[::1]:5432/db", "x") == "postgresql://[::1]:5432/x");
  CHECK(UrlWithDatabase("postgresql:///db?host=/tmp", "x") == "postgresql:///x?host=/tmp");
  CHECK(UrlWithDatabase("postgresql://h/db", "a b/ü") == "postgresql://h/a%20b%2F%C3%BC");
  CHECK(UrlWithDatabase("host=h port=5 dbname=db", "x") == "host=h port=5 dbname=db dbname='x'");
  CHECK(UrlWithDatabase("host=h", "it's") == "host=h dbname='it\\'s'");
}

TEST_CASE("UrlWithLogin", "[database]") {
  CHECK(UrlWithLogin("postgresql://u:p@h:5/db", "r", "s") == "postgresql://r:s@h:5/db");
  CHECK(UrlWithLogin("postgresql://h:5/db?sslmode=disable", "r", "s") ==
        "postgresql://r:s@h:5/db?sslmode=disable");
  // A password may hold an '@'; parameters would win over the userinfo.
  CHECK(UrlWithLogin("postgres://u:a@b@h/db?user=u&sslmode=disable&password=p#f", "r", "s") ==
        "postgres://r:s@h/db?sslmode=disable#f");
  CHECK(UrlWithLogin("postgresql://u@h1:1,h2:2", "r", "s") == "postgresql://r:s@h1:1,h2:2");
  CHECK(UrlWithLogin("postgresql:///db?host=/tmp", "r", "s") == "postgresql://r:s@/db?host=/tmp");
  CHECK(UrlWithLogin("postgresql://h/db", "a b", "p@ss") == "postgresql://a%20b:p%40ss@h/db");
  CHECK(UrlWithLogin("host=h user=u", "r", "it's") == "host=h user=u user='r' password='it\\'s'");
}

TEST_CASE("LibpqEnvironment", "[database]") {
  using Env = std::vector<std::pair<std::string, std::string>>;
  CHECK(LibpqEnvironment("postgresql://r:s@127.0.0.1:5433/run") == Env{{"PGUSER", "r"},
                                                                       {"PGPASSWORD", "s"},
                                                                       {"PGDATABASE", "run"},
                                                                       {"PGHOST", "127.0.0.1"},
                                                                       {"PGPORT", "5433"}});
  CHECK(LibpqEnvironment("host=h dbname=d") == Env{{"PGDATABASE", "d"}, {"PGHOST", "h"}});
  CHECK(LibpqEnvironment("postgresql://a%20b@h/db") ==
        Env{{"PGUSER", "a b"}, {"PGDATABASE", "db"}, {"PGHOST", "h"}});
  CHECK(LibpqEnvironment("postgresql://h/db?no_such_option=1").empty());
}

TEST_CASE("RunDatabases: the roles given with a database go after it", "[database]") {
  EmbeddedPostgres& pg = Server();
  const std::string admin = pg.UrlFor("postgres");
  std::string error;
  {
    RunDatabases databases(admin, 0);
    REQUIRE(Create(databases, "lastcall_run_roles", UniqueSchema("roles"), &error));
    {
      pqxx::connection c(admin);
      pqxx::nontransaction w(c);
      w.exec("CREATE ROLE lastcall_roles_1 LOGIN; CREATE ROLE lastcall_roles_2 LOGIN");
    }
    // The first owns a table in the database: it can only go after it.
    pqxx::connection c(pg.UrlFor("lastcall_run_roles"));
    pqxx::nontransaction(c).exec(
        "CREATE TABLE owned (x int); ALTER TABLE owned OWNER TO lastcall_roles_1");
    databases.Drop("lastcall_run_roles", {"lastcall_roles_1", "lastcall_roles_2"});
  }
  CHECK_FALSE(DatabaseExists(admin, "lastcall_run_roles"));
  CHECK(QueryInt(admin, "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'lastcall_roles_%'") ==
        0);
}

}  // namespace
}  // namespace lastcall
