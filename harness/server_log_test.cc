#include "server_log.h"

#include <catch2/catch.hpp>

using namespace lastcall;

TEST_CASE("unclean disconnects are found by application name") {
  const std::string log =
      "2026-11-25 12:24:16.060 UTC [21592] lastcall_run_ab lastcall-ab-1 LOG:  connection authorized: user=postgres\n"
      "2026-11-25 12:24:18.149 UTC [21595] lastcall_run_ab lastcall-ab-1 LOG:  disconnection: session time: 0:00:02.031\n"
      "2026-11-25 12:24:18.150 UTC [21596] lastcall_run_ab lastcall-ab-1 DEBUG:  unexpected EOF on client connection\n"
      "2026-11-25 12:24:18.151 UTC [21597] lastcall_run_ab lastcall-ab-2 LOG:  unexpected EOF on client connection with an open transaction\n"
      "2026-11-25 12:24:18.152 UTC [21598] lastcall_run_cd lastcall-cd-1 DEBUG:  unexpected EOF on client connection\n"
      "2026-11-25 12:24:18.153 UTC [21599] postgres lastcall-audit DEBUG:  unexpected EOF on client connection\n";
  std::vector<UncleanDisconnect> found = FindUncleanDisconnects(log, "lastcall-ab-");
  REQUIRE(found.size() == 2);
  CHECK(found[0].application == "lastcall-ab-1");
  CHECK_FALSE(found[0].open_transaction);
  CHECK(found[1].application == "lastcall-ab-2");
  CHECK(found[1].open_transaction);
  CHECK(found[1].line.find("[21597]") != std::string::npos);
}

TEST_CASE("a clean log has no unclean disconnects") {
  CHECK(FindUncleanDisconnects(
            "2026-11-25 12:24:18.149 UTC [21595] db lastcall-ab-1 LOG:  disconnection: session time: 0:00:02.031\n",
            "lastcall-ab-")
            .empty());
}
