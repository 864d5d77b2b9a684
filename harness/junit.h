// junit.xml: the report CI systems read (Jenkins, GitLab, GitHub actions that
// publish test results). One testsuite per scenario run, one testcase per
// check, judged against the scenario's expectation: for a bug-reproduction
// scenario (expect: {fail: [...]}) a listed check that fails is a pass.
#ifndef LASTCALL_JUNIT_H_
#define LASTCALL_JUNIT_H_

#include <string>
#include <vector>

#include "report.h"

namespace lastcall {

// The whole junit.xml document for `results` (one or many scenario runs).
// Everything that came from a target is escaped; characters XML 1.0 cannot
// hold are replaced by U+FFFD.
std::string JunitXml(const std::vector<ScenarioResult>& results,
                     const std::vector<Expectation>& expectations);

// `text` made safe inside XML attribute values and text.
std::string XmlEscape(const std::string& text);

}  // namespace lastcall

#endif  // LASTCALL_JUNIT_H_
