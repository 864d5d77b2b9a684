// index.html: the report a person opens to see what happened when. One
// self-contained page (inline CSS, SVG and a small script; nothing from the
// network) with the verdict, the checks and their offending keys, an SVG
// timeline (a lane per client, a bar per attempt coloured by outcome, a
// vertical mark per lifecycle or fault event), and latency and throughput
// over time. Rendered from what result.json and history.jsonl hold, so that
// `lastcall report` can render it again.
#ifndef LASTCALL_HTML_REPORT_H_
#define LASTCALL_HTML_REPORT_H_

#include <string>
#include <vector>

#include "history/history.h"
#include "report/report.h"

namespace lastcall {

// Limits that keep the page small and quick at 100,000 attempts: at most
// kMaxLanes client lanes are drawn (the lanes with violations first), and in
// a lane, neighbouring attempts with the same outcome that together span
// less than a pixel are drawn as one bar (never those of an offending or a
// retried key).
constexpr int kMaxLanes = 100;

// The page for one scenario run: `result` and every attempt and event of its
// history (any order). Everything that came from the target is escaped.
std::string HtmlReport(const ScenarioResult& result, const std::vector<Attempt>& attempts,
                       const std::vector<Event>& events);

// The run-level index.html in `dir`: a row per scenario run with its
// verdict, linking to the run's own index.html (relative to `dir`, so the
// folder can be moved or published as a whole). `matrix_html` follows the
// rows: the matrix tables as HTML when a matrix ran, else "".
std::string RunIndexHtml(const std::string& dir, const std::vector<ScenarioResult>& results,
                         const std::string& matrix_html);

// The side-by-side tables of the matrices among `results` (matrix_table.h)
// as HTML, every cell escaped; "" when no run is of a matrix.
std::string MatrixTablesHtml(const std::vector<ScenarioResult>& results);

}  // namespace lastcall

#endif  // LASTCALL_HTML_REPORT_H_
