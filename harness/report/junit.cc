#include "report/junit.h"

#include <algorithm>
#include <cstdio>

#include "base/visible_text.h"

namespace lastcall {

namespace {

std::string MarkupEscaped(const std::string& visible) {
  std::string out;
  out.reserve(visible.size());
  for (char c : visible) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string XmlEscape(const std::string& text) { return MarkupEscaped(VisibleText(text)); }

std::string XmlEscapeLines(const std::string& text) { return MarkupEscaped(VisibleLines(text)); }

namespace {

std::string Seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", s);
  return text;
}

bool Expected(const Expectation& expect, const std::string& check) {
  return !expect.pass && std::find(expect.fail_checks.begin(), expect.fail_checks.end(), check) !=
                             expect.fail_checks.end();
}

// Each of a check's offending entries escaped on a line of its own (a
// newline inside one cannot pass for another), and how many more were counted.
std::string Lines(const CheckResult& c) {
  std::string text;
  for (const std::string& item : c.offending) text += XmlEscape(item) + "\n";
  if (c.unlisted) text += "... " + std::to_string(c.unlisted) + " more, not listed here\n";
  return text;
}

// A testcase's opening tag, unclosed: its name and time in the run's class.
std::string TestcaseHead(const ScenarioResult& r, const std::string& name,
                         const std::string& time) {
  return "    <testcase classname=\"lastcall." + XmlEscape(r.name) + "\" name=\"" +
         XmlEscape(name) + "\" time=\"" + time + "\"";
}

// One check as a testcase: failure when it does not meet the expectation.
std::string Testcase(const ScenarioResult& r, const Expectation& expect, const CheckResult& c) {
  std::string head = TestcaseHead(r, c.name, "0");
  bool expected_to_fail = Expected(expect, c.name);
  if (c.status == CheckStatus::kSkipped && !expected_to_fail)
    return head + ">\n      <skipped message=\"" + XmlEscape(c.summary) + "\"/>\n    </testcase>\n";
  bool failed = c.status == CheckStatus::kFail;
  // A bug-reproduction scenario needs its listed checks to fail and lets
  // the others fail too; any other scenario needs every check it
  // judges to pass (all, unless `expect: {pass: [...]}` names some).
  if ((expected_to_fail && !failed) || (failed && expect.MustPass(c.name))) {
    std::string message =
        expected_to_fail ? "expected " + c.name + " to fail: " + c.summary : c.summary;
    return head + ">\n      <failure type=\"" + XmlEscape(c.name) + "\" message=\"" +
           XmlEscape(message) + "\">" + Lines(c) + "</failure>\n    </testcase>\n";
  }
  if (failed)  // as the bug-reproduction scenario expects, or allows
    return head + ">\n      <system-out>" +
           XmlEscape(std::string(expected_to_fail ? "failed as expected: "
                                                  : "failed, which this scenario allows: ") +
                     c.summary) +
           "\n" + Lines(c) + "</system-out>\n    </testcase>\n";
  return head + "/>\n";
}

// The control run as a testcase: a pass, skipped when no check applied
// without a fault, an error when it failed (the scenario is invalid: what
// failed is not the shutdown, and its real run was not run). Empty when the
// control ended in an error of its own: the run's error says it.
std::string ControlTestcase(const ScenarioResult& r) {
  const ControlOutcome& control = *r.control;
  const std::string head = TestcaseHead(r, "control", Seconds(control.total));
  if (!control.ran)
    return head + ">\n      <skipped message=\"" + XmlEscape(control.message) +
           "\"/>\n    </testcase>\n";
  if (control.passed()) return head + "/>\n";
  if (control.verdict != Verdict::kNotMet) return "";
  std::string failed;
  for (const CheckResult& c : control.checks)
    if (c.status == CheckStatus::kFail)
      failed += XmlEscape(c.name + " failed: " + c.summary) + "\n" + Lines(c);
  return head + ">\n      <error type=\"invalid\" message=\"" + XmlEscape(r.message) + "\">" +
         failed + "</error>\n    </testcase>\n";
}

std::string Testsuite(const ScenarioResult& r, const Expectation& expect) {
  int tests = 0, failures = 0, skipped = 0, errors = 0;
  std::string cases;
  auto add = [&](const std::string& testcase) {
    if (testcase.empty()) return;
    ++tests;
    failures += testcase.find("<failure") != std::string::npos;
    skipped += testcase.find("<skipped") != std::string::npos;
    errors += testcase.find("<error") != std::string::npos;
    cases += testcase;
  };
  if (r.control) add(ControlTestcase(r));
  for (const CheckResult& c : r.checks) add(Testcase(r, expect, c));
  // A run that never got to its checks is one error (an invalid one's is
  // its control's).
  if (r.verdict != Verdict::kMet && r.verdict != Verdict::kNotMet && r.verdict != Verdict::kInvalid)
    add(TestcaseHead(r, "run", Seconds(r.total)) + ">\n      <error type=\"" +
        XmlEscape(VerdictName(r.verdict)) + "\" message=\"" + XmlEscape(r.message) +
        "\"/>\n    </testcase>\n");
  return "  <testsuite name=\"" + XmlEscape(r.name) + "\" tests=\"" + std::to_string(tests) +
         "\" failures=\"" + std::to_string(failures) + "\" errors=\"" + std::to_string(errors) +
         "\" skipped=\"" + std::to_string(skipped) + "\" time=\"" + Seconds(r.total) + "\">\n" +
         "    <properties>\n"
         "      <property name=\"file\" value=\"" +
         XmlEscape(r.file) +
         "\"/>\n"
         "      <property name=\"seed\" value=\"" +
         std::to_string(r.seed) +
         "\"/>\n"
         "      <property name=\"run_id\" value=\"" +
         XmlEscape(r.run_id) +
         "\"/>\n"
         "      <property name=\"verdict\" value=\"" +
         XmlEscape(VerdictName(r.verdict)) +
         "\"/>\n"
         "    </properties>\n" +
         cases + "  </testsuite>\n";
}

}  // namespace

std::string JunitXml(const std::vector<ScenarioResult>& results,
                     const std::vector<Expectation>& expectations) {
  std::string suites;
  for (size_t i = 0; i < results.size(); ++i) suites += Testsuite(results[i], expectations[i]);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"lastcall\">\n" + suites +
         "</testsuites>\n";
}

}  // namespace lastcall
