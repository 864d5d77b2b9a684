#include "history/fault_record.h"

#include <csignal>

#include <catch2/catch.hpp>

using namespace lastcall;

TEST_CASE("IsGraceful: every signal a service can handle but KILL, STOP and CONT") {
  CHECK(IsGraceful(SIGTERM));
  CHECK(IsGraceful(SIGINT));
  CHECK(IsGraceful(SIGQUIT));
  CHECK(IsGraceful(SIGHUP));
  CHECK_FALSE(IsGraceful(SIGKILL));
  CHECK_FALSE(IsGraceful(SIGSTOP));
  CHECK_FALSE(IsGraceful(SIGCONT));
}
