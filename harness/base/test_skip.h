// For tests: a test case that cannot run here (not root, no IPv6, mount(2)
// not allowed) says so and is reported skipped, not passed. Catch2 v2 has
// no SKIP: the test binary's main() (test_main.cc) exits with
// kSkipExitCode once its test cases pass and one of them was skipped, and
// ctest, which runs each test case in a process of its own, shows that exit
// as "Skipped" (SKIP_RETURN_CODE).
#ifndef LASTCALL_BASE_TEST_SKIP_H_
#define LASTCALL_BASE_TEST_SKIP_H_

#include <string>

#include <catch2/catch.hpp>

namespace lastcall {

constexpr int kSkipExitCode = 77;

inline bool& TestSkipped() {
  static bool skipped = false;
  return skipped;
}

// Marks the running test case skipped for `reason`. The caller returns at
// once (`return SkipTest("...");`), so that its resources are released.
inline void SkipTest(const std::string& reason) {
  WARN("skipped: " << reason);
  TestSkipped() = true;
}

}  // namespace lastcall

#endif  // LASTCALL_BASE_TEST_SKIP_H_
