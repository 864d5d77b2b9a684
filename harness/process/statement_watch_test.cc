// Tests of the cancel of a long statement, on a real server.
#include "process/statement_watch.h"

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "process/database.h"

namespace lastcall {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Server {
  std::string dir;
  std::unique_ptr<EmbeddedPostgres> pg;
  Server() {
    char tmpl[] = "/tmp/lastcall-watch-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    std::string error;
    pg = EmbeddedPostgres::Start(dir, &error);
    INFO(error);
    REQUIRE(pg);
  }
  ~Server() {
    pg.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// Runs a statement that would take 10 minutes under `limits`; returns how
// the watch stopped it and sets *failed when it failed.
StatementWatch::Stop RunLong(const std::string& url, const StatementLimits& limits, bool* failed) {
  pqxx::connection c(url);
  StatementWatch watch(c, limits);
  try {
    pqxx::nontransaction(c).exec("SELECT pg_sleep(600)");
    *failed = false;
  } catch (const pqxx::sql_error&) {
    *failed = true;
  }
  return watch.stop();
}

}  // namespace

TEST_CASE("StatementWatch: a statement past its deadline is cancelled", "[database]") {
  Server server;
  bool failed = false;
  const Clock::time_point start = Clock::now();
  CHECK(RunLong(server.pg->UrlFor("postgres"), StatementLimits{nullptr, start + 200ms}, &failed) ==
        StatementWatch::Stop::kTimedOut);
  CHECK(failed);
  // Not a speed claim: the statement would have run for 600 s.
  CHECK(Clock::now() - start < 60s);
}

TEST_CASE("StatementWatch: the interrupt cancels a statement, even one already pending",
          "[database]") {
  Server server;
  Interrupt interrupt;
  // Pending before the statement starts: the first cancel may reach the
  // server before the statement does, and must be sent again.
  REQUIRE(kill(getpid(), SIGINT) == 0);
  bool failed = false;
  const Clock::time_point start = Clock::now();
  CHECK(RunLong(server.pg->UrlFor("postgres"), StatementLimits{&interrupt}, &failed) ==
        StatementWatch::Stop::kInterrupted);
  CHECK(failed);
  CHECK(Clock::now() - start < 60s);
  CHECK(interrupt.first_signal() == SIGINT);
}

TEST_CASE("StatementWatch: a statement that ends in time is left alone", "[database]") {
  Server server;
  pqxx::connection c(server.pg->UrlFor("postgres"));
  StatementWatch watch(c, StatementLimits{nullptr, Clock::now() + 60s});
  CHECK(pqxx::nontransaction(c).exec("SELECT 1")[0][0].as<int>() == 1);
  CHECK(watch.stop() == StatementWatch::Stop::kNone);
}

}  // namespace lastcall
