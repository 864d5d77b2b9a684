#include "report/junit.h"

#include <algorithm>

#include <catch2/catch.hpp>

using namespace lastcall;

namespace {

CheckResult Check(const std::string& name, CheckStatus status,
                  std::vector<std::string> offending = {}) {
  CheckResult c;
  c.name = name;
  c.status = status;
  c.summary = name + " summary";
  c.offending = std::move(offending);
  return c;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("XmlEscape escapes markup and shows what XML cannot hold as escapes") {
  CHECK(XmlEscape("<a href=\"x\">'&'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
  CHECK(XmlEscape(std::string("bell\a\tok\n\x1b[2J\xff")) == "bell\\x07\\tok\\n\\x1b[2J\\xff");
  CHECK(XmlEscapeLines(std::string("bell\a\tok\n")) == "bell\\x07\tok\n");
}

TEST_CASE("a pass scenario: every failed check is a failure") {
  ScenarioResult r;
  r.name = "s<1>";
  r.verdict = Verdict::kNotMet;
  r.checks = {Check("lost", CheckStatus::kFail, {"lc-1-2", "<script>"}),
              Check("duplicated", CheckStatus::kPass), Check("orphans", CheckStatus::kSkipped)};
  std::string xml = JunitXml({r}, {Expectation{}});
  CHECK(Count(xml, "<testcase ") == 3);
  CHECK(Count(xml, "<failure ") == 1);
  CHECK(Count(xml, "<skipped ") == 1);
  CHECK(xml.find("failures=\"1\"") != std::string::npos);
  CHECK(xml.find("name=\"s&lt;1&gt;\"") != std::string::npos);
  CHECK(xml.find("&lt;script&gt;") != std::string::npos);
  CHECK(xml.find("<script>") == std::string::npos);
}

TEST_CASE("a bug-reproduction scenario: its listed checks must fail") {
  ScenarioResult r;
  r.name = "bug";
  r.verdict = Verdict::kMet;
  r.checks = {Check("duplicated", CheckStatus::kFail, {"lc-1-0 (applied 2x)"}),
              Check("phantom", CheckStatus::kFail), Check("exit", CheckStatus::kPass)};
  Expectation expect;
  expect.pass = false;
  expect.fail_checks = {"duplicated"};
  std::string xml = JunitXml({r}, {expect});
  CHECK(Count(xml, "<failure ") == 0);  // listed fails as expected; others may
  CHECK(xml.find("failed as expected: duplicated summary") != std::string::npos);

  r.checks[0].status = CheckStatus::kPass;  // the bug was not caught
  xml = JunitXml({r}, {expect});
  CHECK(Count(xml, "<failure ") == 1);
  CHECK(xml.find("expected duplicated to fail") != std::string::npos);
}

TEST_CASE("a run that never reached its checks is an error") {
  ScenarioResult r;
  r.name = "broken";
  r.verdict = Verdict::kInfrastructure;
  r.message = "the target was not ready within 10s";
  std::string xml = JunitXml({r}, {Expectation{}});
  CHECK(xml.find("errors=\"1\"") != std::string::npos);
  CHECK(xml.find("<error type=\"infrastructure failure\" message=\"the target was not ready") !=
        std::string::npos);
}

TEST_CASE("an invalid scenario is a JUnit error of its control, not a failure") {
  ScenarioResult r;
  r.name = "s";
  r.verdict = Verdict::kInvalid;
  r.message = "fails without a fault: its control run failed lost";
  r.control = ControlOutcome{
      true,
      Verdict::kNotMet,
      "lost failed",
      {Check("lost", CheckStatus::kFail, {"lc-1-2"}), Check("duplicated", CheckStatus::kPass)},
      "reports/s/control",
      2};
  std::string xml = JunitXml({r}, {Expectation{}});
  INFO(xml);
  CHECK(Count(xml, "<testcase ") == 1);
  CHECK(xml.find("name=\"control\" time=\"2.000\"") != std::string::npos);
  CHECK(xml.find("<error type=\"invalid\" message=\"fails without a fault") != std::string::npos);
  CHECK(xml.find("lost failed: lost summary\nlc-1-2\n</error>") != std::string::npos);
  CHECK(xml.find("tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\"") != std::string::npos);
  CHECK(xml.find("name=\"run\"") == std::string::npos);

  // A control that passed is a passing testcase beside the checks.
  r.verdict = Verdict::kNotMet;
  r.control->verdict = Verdict::kMet;
  r.checks = {Check("drained", CheckStatus::kFail)};
  xml = JunitXml({r}, {Expectation{}});
  CHECK(xml.find("name=\"control\" time=\"2.000\"/>") != std::string::npos);
  CHECK(xml.find("tests=\"2\" failures=\"1\" errors=\"0\"") != std::string::npos);
  // One that could not judge anything is skipped.
  r.control->ran = false;
  r.control->message = "nothing to judge";
  xml = JunitXml({r}, {Expectation{}});
  CHECK(xml.find("<skipped message=\"nothing to judge\"/>") != std::string::npos);
  CHECK(xml.find("skipped=\"1\"") != std::string::npos);
}

TEST_CASE("junit.xml holds a target's text as escapes, one offending entry per line") {
  ScenarioResult r;
  r.name = "s";
  r.verdict = Verdict::kNotMet;
  r.checks = {Check("temp_files", CheckStatus::kFail, {"`evil\x1b[2J\nname\xff`", "second"})};
  r.checks[0].summary = "2 files \x1b]0;title\x07 left";
  std::string xml = JunitXml({r}, {Expectation{}});
  INFO(xml);
  CHECK(std::none_of(xml.begin(), xml.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\n'; }));
  CHECK(xml.find("message=\"2 files \\x1b]0;title\\x07 left\">"
                 "`evil\\x1b[2J\\nname\\xff`\nsecond\n</failure>") != std::string::npos);
}
