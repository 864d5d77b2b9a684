#include "report/markdown.h"

#include <catch2/catch.hpp>

using namespace lastcall;

TEST_CASE("summary.md: a table row per run, details of failed checks, escaped") {
  ScenarioResult good;
  good.name = "fine";
  good.verdict = Verdict::kMet;
  ScenarioResult bad;
  bad.name = "broken|name";
  bad.verdict = Verdict::kNotMet;
  bad.message = "lost failed";
  CheckResult lost;
  lost.name = "lost";
  lost.status = CheckStatus::kFail;
  lost.summary = "1 of 9 acknowledged payments are not in the database";
  lost.offending = {"lc-3-4", "pwn`ed\n| x |"};
  bad.checks = {lost};
  bad.attempts_of["lc-3-4"] = {"attempt 1 on connection 2 at 0.1s: HTTP 201, ok after 3.0 ms"};
  std::string md = SummaryMarkdown({good, bad});
  CHECK(md.find("1 of 2 scenario runs met their expectation") != std::string::npos);
  CHECK(md.find("| ✅ `fine` | met |") != std::string::npos);
  CHECK(md.find("| ❌ `broken\\|name` | not met |") != std::string::npos);
  CHECK(md.find("  - `lc-3-4`\n    - `attempt 1 on connection 2") != std::string::npos);
  // Target text cannot close its code span or start a table row, and keeps
  // its backticks and pipes.
  CHECK(md.find("``pwn`ed\\n| x |``") != std::string::npos);
  CHECK(md.find("### `fine`") == std::string::npos);  // nothing to explain
}

TEST_CASE(
    "summary.md: an invalid run's row names its control's failed checks, its details say why") {
  ScenarioResult r;
  r.name = "s";
  r.verdict = Verdict::kInvalid;
  r.message = "fails without a fault";
  r.control = ControlOutcome{true,
                             Verdict::kNotMet,
                             "lost failed",
                             {CheckResult{"lost",
                                          CheckStatus::kFail,
                                          "2 of 9 acknowledged payments are not in the database",
                                          {"lc-3-4"}}},
                             "reports/s/control",
                             0};
  std::string md = SummaryMarkdown({r});
  INFO(md);
  CHECK(md.find("| ⚠️ `s` | invalid |") != std::string::npos);
  CHECK(md.find("| control: `lost` |") != std::string::npos);
  CHECK(md.find("- **control run** (no fault) failed `lost`; its reports: `reports/s/control`\n"
                "- **lost** failed: `2 of 9") != std::string::npos);
  CHECK(md.find("  - `lc-3-4`\n") != std::string::npos);
}

TEST_CASE("summary.md: target text keeps its backticks and shows control characters as escapes") {
  ScenarioResult r;
  r.name = "s";
  r.verdict = Verdict::kInfrastructure;
  r.message =
      "the target exited before it was ready (exit 4); its last output:\n"
      "  | \x1b[2Jcleared ```fenced```\r\n";
  CheckResult temp;
  temp.name = "temp_files";
  temp.status = CheckStatus::kFail;
  temp.summary = "1 files left in the target's TMPDIR";
  temp.offending = {"`evil\x1b]0;title\x07\nname`", " spaced ", "a|b"};
  r.checks = {temp};
  std::string md = SummaryMarkdown({r});
  INFO(md);
  CHECK(md.find('\x1b') == std::string::npos);
  CHECK(md.find('\x07') == std::string::npos);
  CHECK(md.find('\r') == std::string::npos);
  // A span fenced by more backticks than any run inside, padded where the
  // text starts or ends with one, or with a space at both ends.
  CHECK(md.find("  - `` `evil\\x1b]0;title\\x07\\nname` ``\n") != std::string::npos);
  CHECK(md.find("  - `  spaced  `\n") != std::string::npos);
  CHECK(md.find("  - `a|b`\n") != std::string::npos);
  // A message of several lines is a fenced block longer than its backticks.
  CHECK(md.find("````\nthe target exited before it was ready (exit 4); its last output:\n"
                "  | \\x1b[2Jcleared ```fenced```\\r\n````\n") != std::string::npos);
}
