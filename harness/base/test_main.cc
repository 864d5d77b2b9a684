// The one main() of every Catch2 test binary: Catch2's, but a run in which
// every test case passed and one was skipped (base/test_skip.h) exits with
// kSkipExitCode, for ctest to show it as skipped.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "base/test_skip.h"

int main(int argc, char** argv) {
  const int failed = Catch::Session().run(argc, argv);
  if (failed == 0 && lastcall::TestSkipped()) return lastcall::kSkipExitCode;
  return failed;
}
