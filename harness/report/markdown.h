// summary.md: what a person reads first, in a CI job's summary page. A
// verdict table across scenario runs, then for each failed check its
// offending keys with their attempts and outcomes.
#ifndef LASTCALL_MARKDOWN_H_
#define LASTCALL_MARKDOWN_H_

#include <string>
#include <vector>

#include "report/report.h"

namespace lastcall {

// The summary of `results`. Text from targets is escaped so that it cannot
// break out of its table cell or code span.
std::string SummaryMarkdown(const std::vector<ScenarioResult>& results);

}  // namespace lastcall

#endif  // LASTCALL_MARKDOWN_H_
