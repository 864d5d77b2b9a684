// The audit connection on a real embedded PostgreSQL: one session serves the
// whole run, so what the setup script does to it must not reach the audit
// queries, and a session that a target terminated must be made again.
#include "audit.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "database.h"
#include "wait_until.h"

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
  std::vector<InvariantResult> results = audit->QueryInvariants({{"query", sql}});
  INFO(results[0].error);
  REQUIRE(results[0].error.empty());
  return results[0].rows;
}

TEST_CASE("AuditConnection: the setup script leaves nothing in the session") {
  std::string error;
  std::unique_ptr<AuditConnection> audit = AuditConnection::Open(Url(), &error);
  REQUIRE(audit);
  REQUIRE(audit->ExecuteScript(
      "SET search_path = nowhere; CREATE TEMP TABLE scratch (x int)", &error));
  REQUIRE(audit->ExecuteScript("BEGIN; CREATE TABLE public.half_done (x int)", &error));
  CHECK(Rows(audit.get(), "SELECT current_setting('search_path')") ==
        std::vector<std::string>{"\"$user\", public"});
  CHECK(Rows(audit.get(), "SELECT relname FROM pg_class "
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
  CHECK(audit->TargetSessions("lastcall-audit", &sessions, &error));
  CHECK(Rows(audit.get(), "SELECT pg_backend_pid()").at(0) != pid);
}

}  // namespace
}  // namespace lastcall
