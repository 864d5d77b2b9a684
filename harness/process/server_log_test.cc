#include "process/server_log.h"

#include <catch2/catch.hpp>

using namespace lastcall;

namespace {

// 2026-11-25 12:24:16 UTC, in seconds since 1970.
constexpr double kNoon = 1795609456;

// The run "ab": its database, its instances' roles, lastcall's own session
// (pid 900, recorded at 12:24:16.5), the history's clock starting at 12:24:16.
RunSessions RunAb() {
  RunSessions run;
  run.database = "lastcall_run_ab";
  run.role_prefix = "lastcall_ab_";
  run.own.push_back(OwnSessions::Session{900, "2026-11-25 12:24:16.4+00", kNoon + 0.5});
  run.history_epoch = static_cast<int64_t>(kNoon) * 1000000000;
  return run;
}

}  // namespace

TEST_CASE("unclean disconnects are the run database's by role and not lastcall's own") {
  const std::string log =
      "2026-11-25 12:24:16.040 UTC [21592] [unknown] [unknown] [unknown] LOG:  connection "
      "received: host=127.0.0.1 port=4000\n"
      "2026-11-25 12:24:16.060 UTC [21592] lastcall_run_ab lastcall_ab_1 lastcall-ab-1 LOG:  "
      "connection authorized: user=lastcall_ab_1\n"
      "2026-11-25 12:24:18.149 UTC [21595] lastcall_run_ab lastcall_ab_1 lastcall-ab-1 LOG:  "
      "disconnection: session time: 0:00:02.031\n"
      // No application name: a driver that ignores PGAPPNAME.
      "2026-11-25 12:24:18.150 UTC [21592] lastcall_run_ab lastcall_ab_1 [unknown] DEBUG:  "
      "unexpected EOF on client connection\n"
      "2026-11-25 12:24:18.151 UTC [21597] lastcall_run_ab lastcall_ab_2 lastcall-ab-2 LOG:  "
      "unexpected EOF on client connection with an open transaction\n"
      // Another run's database, and lastcall's own session on this one.
      "2026-11-25 12:24:18.152 UTC [21598] lastcall_run_cd lastcall_cd_1 [unknown] DEBUG:  "
      "unexpected EOF on client connection\n"
      "2026-11-25 12:24:16.300 UTC [900] [unknown] [unknown] [unknown] LOG:  connection received: "
      "host=127.0.0.1 port=4001\n"
      "2026-11-25 12:24:18.153 UTC [900] lastcall_run_ab postgres lastcall-watch DEBUG:  "
      "unexpected EOF on client connection\n";
  std::vector<UncleanDisconnect> found = FindUncleanDisconnects(log, RunAb());
  REQUIRE(found.size() == 2);
  CHECK(found[0].role == "lastcall_ab_1");
  CHECK(found[0].instance == 1);
  CHECK_FALSE(found[0].open_transaction);
  CHECK(found[0].connected == 40000000);  // 40 ms into the history
  CHECK(found[1].instance == 2);
  CHECK(found[1].connected == -1);  // its connection is not in the log
  CHECK(found[1].open_transaction);
  CHECK(found[1].line.find("[21597]") != std::string::npos);
}

TEST_CASE("a session under another role is the target's, with no instance") {
  const std::string log =
      "2026-11-25 12:24:17.000 UTC [21600] [unknown] [unknown] [unknown] LOG:  connection "
      "received: host=127.0.0.1 port=4002\n"
      "2026-11-25 12:24:18.000 UTC [21600] lastcall_run_ab postgres [unknown] DEBUG:  unexpected "
      "EOF on client connection\n"
      "2026-11-25 12:24:18.001 UTC [21601] lastcall_run_ab lastcall_ab_x [unknown] DEBUG:  "
      "unexpected EOF on client connection\n"
      "2026-11-25 12:24:18.002 UTC [21602] lastcall_run_ab lastcall_ab_ [unknown] DEBUG:  "
      "unexpected EOF on client connection\n";
  std::vector<UncleanDisconnect> found = FindUncleanDisconnects(log, RunAb());
  REQUIRE(found.size() == 3);
  CHECK(found[0].role == "postgres");
  CHECK(found[0].instance == 0);
  CHECK(found[0].connected == 1000000000);
  // Not an instance's role either: only the prefix and a number are.
  CHECK(found[1].instance == 0);
  CHECK(found[2].instance == 0);
}

TEST_CASE("a pid of lastcall's reused later by the target's backend is the target's") {
  const std::string log =
      "2026-11-25 12:24:17.000 UTC [900] [unknown] [unknown] [unknown] LOG:  connection received: "
      "host=127.0.0.1 port=4003\n"
      "2026-11-25 12:24:18.000 UTC [900] lastcall_run_ab lastcall_ab_1 [unknown] DEBUG:  "
      "unexpected EOF on client connection\n";
  std::vector<UncleanDisconnect> found = FindUncleanDisconnects(log, RunAb());
  REQUIRE(found.size() == 1);
  CHECK(found[0].instance == 1);
}

TEST_CASE("a clean log, or lines that are not the prefix's, have no unclean disconnects") {
  CHECK(FindUncleanDisconnects("2026-11-25 12:24:18.149 UTC [21595] lastcall_run_ab lastcall_ab_1 "
                               "x LOG:  disconnection: session time: 0:00:02.031\n"
                               // A continuation line of a multi-line statement the target sent.
                               "  'unexpected EOF on client connection' AS text\n"
                               "2026-11-25 12:24:18.150 UTC [21596] lastcall_run_ab lastcall_ab_1 "
                               "x LOG:  statement: SELECT 'unexpected EOF on client connection'\n",
                               RunAb())
            .empty());
}
