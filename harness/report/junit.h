// junit.xml: the report CI systems read (Jenkins, GitLab, GitHub actions that
// publish test results). One testsuite per scenario run, one testcase per
// check, judged against the scenario's expectation: for a bug-reproduction
// scenario (expect: {fail: [...]}) a listed check that fails is a pass.
#ifndef LASTCALL_JUNIT_H_
#define LASTCALL_JUNIT_H_

#include <string>
#include <vector>

#include "report/report.h"

namespace lastcall {

// The whole junit.xml document for `results` (one or many scenario runs).
// Everything that came from a target is escaped; characters XML 1.0 cannot
// hold are shown as escapes (visible_text.h).
std::string JunitXml(const std::vector<ScenarioResult>& results,
                     const std::vector<Expectation>& expectations);

// `text` made safe inside XML (or HTML) attribute values and text, on one
// line: markup escaped, and newlines, control characters and bytes that are
// not UTF-8 shown as escapes (VisibleText()).
std::string XmlEscape(const std::string& text);
// XmlEscape() that keeps newlines and tabs (VisibleLines()), for the text of
// an element that has several lines.
std::string XmlEscapeLines(const std::string& text);

}  // namespace lastcall

#endif  // LASTCALL_JUNIT_H_
