// The audit connection on a real embedded PostgreSQL: one session serves the
// whole run, so what the setup script does to it must not reach the audit
// queries, and a session that a target terminated must be made again.
#include "run/audit.h"

#include <stdlib.h>

#include <filesystem>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "base/wait_until.h"
#include "process/database.h"
#include "run/database_watch.h"

namespace lastcall {
namespace {

struct Server {
  std::string dir, error;
  std::unique_ptr<EmbeddedPostgres> pg;
  Server() {
    char tmpl[] = "/tmp/lastcall-audit-test-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) dir = tmpl;
    pg = EmbeddedPostgres::Start(dir, &error);
  }
  ~Server() {
    pg.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

// The URL of the test server's "postgres" database, started on first use.
std::string Url() {
  static Server server;
  INFO(server.error);
  REQUIRE(server.pg != nullptr);
  return server.pg->UrlFor("postgres");
}

// The rows `sql` returns on `audit`'s session, each joined to one string.
std::vector<std::string> Rows(AuditConnection* audit, const std::string& sql) {
  InvariantResult result;
  std::string error;
  const bool ran = audit->QueryInvariant({"query", sql, {}}, 100, &result, &error);
  INFO(error);
  REQUIRE(ran);
  return result.rows;
}

TEST_CASE("AuditConnection: the setup script leaves nothing in the session") {
  std::string error;
  std::unique_ptr<AuditConnection> audit = AuditConnection::Open(Url(), &error);
  REQUIRE(audit);
  REQUIRE(
      audit->ExecuteScript("SET search_path = nowhere; CREATE TEMP TABLE scratch (x int)", &error));
  REQUIRE(audit->ExecuteScript("BEGIN; CREATE TABLE public.half_done (x int)", &error));
  CHECK(Rows(audit.get(), "SELECT current_setting('search_path')") ==
        std::vector<std::string>{"\"$user\", public"});
  CHECK(Rows(audit.get(),
             "SELECT relname FROM pg_class "
             "WHERE relname IN ('scratch', 'half_done')")
            .empty());
  // What a script commits stays, of course.
  REQUIRE(audit->ExecuteScript("CREATE TABLE public.kept (x int)", &error));
  CHECK(Rows(audit.get(), "SELECT relname FROM pg_class WHERE relname = 'kept'") ==
        std::vector<std::string>{"kept"});
  CHECK_FALSE(audit->ExecuteScript("SELECT * FROM no_such_table", &error));
  CHECK(error.find("no_such_table") != std::string::npos);
}

TEST_CASE("AuditConnection: a terminated session is made again") {
  std::string error;
  std::unique_ptr<AuditConnection> audit = AuditConnection::Open(Url(), &error);
  REQUIRE(audit);
  const std::string pid = Rows(audit.get(), "SELECT pg_backend_pid()").at(0);
  REQUIRE(ExecuteSql(Url(), "SELECT pg_terminate_backend(" + pid + ")", &error));
  std::unique_ptr<AuditConnection> observer = AuditConnection::Open(Url(), &error);
  REQUIRE(WaitUntil([&] {
    return Rows(observer.get(), "SELECT 1 FROM pg_stat_activity WHERE pid = " + pid).empty();
  }));
  std::vector<std::string> sessions;
  CHECK(audit->TargetSessions(&sessions, &error));
  CHECK(Rows(audit.get(), "SELECT pg_backend_pid()").at(0) != pid);
}

TEST_CASE("AuditConnection: audit.applied streams its rows, however many") {
  std::string error;
  std::unique_ptr<AuditConnection> audit = AuditConnection::Open(Url(), &error);
  REQUIRE(audit);
  int64_t rows = 0, times = 0;
  auto count = [&](const std::string& key, int64_t n) {
    rows += !key.empty();
    times += n;
  };
  // More rows than a batch; the semicolon that may end a query is no harm.
  REQUIRE(audit->QueryApplied("SELECT 'k' || g, 2 FROM generate_series(1, 25001) g ;\n", count,
                              &error));
  CHECK(rows == 25001);
  CHECK(times == 50002);
  // The session is out of the cursor's transaction afterwards, also after
  // an error: a savepoint has no transaction to be in.
  CHECK_FALSE(audit->ExecuteScript("SAVEPOINT probe", &error));
  CHECK(error.find("can only be used in transaction blocks") != std::string::npos);
  CHECK_FALSE(audit->QueryApplied("SELECT 'k', 1\nFROM no_such_table", count, &error));
  CHECK(error.find("audit.applied failed: ERROR:  relation \"no_such_table\" does not exist") !=
        std::string::npos);
  CHECK(error.find("LINE 2: FROM no_such_table") != std::string::npos);
  CHECK_FALSE(
      audit->QueryApplied("SELECT 'k' || g, 'many' FROM generate_series(1, 3) g", count, &error));
  CHECK(error == "audit.applied returned a row that is not (key, integer): k1, many");
  CHECK_FALSE(audit->QueryApplied("SELECT 1", count, &error, "audit.jobs"));
  CHECK(error == "audit.jobs must return 2 columns (key, times applied), got 1");
  CHECK_FALSE(audit->ExecuteScript("SAVEPOINT probe", &error));
  CHECK(error.find("can only be used in transaction blocks") != std::string::npos);
}

TEST_CASE("AuditConnection: an invariant keeps its first rows and counts the others") {
  std::string error;
  std::unique_ptr<AuditConnection> audit = AuditConnection::Open(Url(), &error);
  REQUIRE(audit);
  InvariantResult result;
  REQUIRE(audit->QueryInvariant({"many", "SELECT g, 'x' FROM generate_series(1, 30000) g", {}}, 2,
                                &result, &error));
  CHECK(result.name == "many");
  CHECK(result.rows == std::vector<std::string>{"1, x", "2, x"});
  CHECK(result.unlisted_rows == 29998);
  InvariantResult failed;
  CHECK_FALSE(audit->QueryInvariant({"typo", "SELEC 1", {}}, 2, &failed, &error));
  CHECK(error.find("syntax error at or near \"SELEC\"") != std::string::npos);
}

// `sql` with $1 and $2 replaced by `own`'s array literals, quoted.
std::string WithOwn(std::string sql, const OwnSessions& own) {
  const std::pair<std::string, std::string> arrays = own.ArrayLiterals();
  sql.replace(sql.find("$1"), 2, "'" + arrays.first + "'");
  sql.replace(sql.find("$2"), 2, "'" + arrays.second + "'");
  return sql;
}

TEST_CASE("AuditConnection: the target's sessions are all on its database but lastcall's") {
  std::string error;
  const std::string db = "lastcall_run_sessions";
  // One statement each: CREATE DATABASE cannot run inside a transaction.
  for (const std::string& sql : {"DROP DATABASE IF EXISTS " + db, "CREATE DATABASE " + db,
                                 std::string("DROP ROLE IF EXISTS lastcall_sessions_1, other"),
                                 std::string("CREATE ROLE other LOGIN PASSWORD 'pw'")}) {
    INFO(error);
    REQUIRE(ExecuteSql(Url(), sql, &error));
  }
  const std::string url = UrlWithDatabase(Url(), db);
  OwnSessions own;
  std::unique_ptr<AuditConnection> audit = AuditConnection::Open(url, &error, &own);
  REQUIRE(audit);
  // Another session of lastcall's (as the database watch records its own),
  // named as the target could name its own, inside a transaction.
  pqxx::connection watch(url + "?application_name=payments");
  {
    pqxx::nontransaction tx(watch);
    pqxx::row me = tx.exec1(kOwnSessionSql);
    own.Add(me[0].as<int>(), me[1].c_str());
    tx.exec("BEGIN");
  }
  REQUIRE(own.sessions().size() == 2);
  std::vector<std::string> sessions;
  REQUIRE(audit->TargetSessions(&sessions, &error));
  CHECK(sessions.empty());

  REQUIRE(audit->CreateRole("lastcall_sessions_1", "secret", "", &error));
  CHECK_FALSE(audit->CreateRole("lastcall_sessions_1", "secret", "", &error));
  CHECK(error.find("already exists") != std::string::npos);
  CHECK(Rows(audit.get(), "SELECT rolsuper FROM pg_roles WHERE rolname = 'lastcall_sessions_1'") ==
        std::vector<std::string>{"f"});
  // The instance's role in a transaction, another role under lastcall's
  // application name, and a session on another database.
  pqxx::connection instance(UrlWithLogin(url, "lastcall_sessions_1", "secret"));
  pqxx::connection intruder(UrlWithLogin(url, "other", "pw") + "?application_name=lastcall-audit");
  pqxx::connection elsewhere(UrlWithLogin(Url(), "other", "pw"));
  pqxx::nontransaction(instance).exec("BEGIN");
  REQUIRE(audit->TargetSessions(&sessions, &error));
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[0].find(" lastcall_sessions_1 idle in transaction: BEGIN") != std::string::npos);
  CHECK(sessions[1].find(" other idle: ") != std::string::npos);
  // The watch's query counts the instance's transaction, not lastcall's.
  CHECK(Rows(audit.get(), WithOwn(OpenTransactionsSql(), own)) == std::vector<std::string>{"1"});

  audit->TerminateSessions();
  CHECK(WaitUntil([&] { return audit->TargetSessions(&sessions, &error) && sessions.empty(); }));
  CHECK(pqxx::nontransaction(watch).exec("SELECT 1").size() == 1);  // lastcall's stay
  CHECK(Rows(audit.get(), "SELECT count(*) FROM pg_stat_activity WHERE usename = 'other'") ==
        std::vector<std::string>{"1"});  // and the one elsewhere
}

}  // namespace
}  // namespace lastcall
