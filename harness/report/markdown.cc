#include "report/markdown.h"

#include <algorithm>
#include <cstdio>

#include "base/visible_text.h"
#include "report/matrix_table.h"

namespace lastcall {

namespace {

// Where a code span goes: a table cell ends at an unescaped pipe, even
// inside code.
enum class Place { kText, kTableCell };

// The longest run of backticks in `text`.
size_t LongestBacktickRun(const std::string& text) {
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

// Inline code that stays inline code and shows `text` as it is: fenced by
// more backticks than any run inside it, so that none can close it early;
// newlines and control characters shown as escapes (VisibleText()).
std::string Code(const std::string& text, Place place = Place::kText) {
  std::string visible = VisibleText(text);
  if (place == Place::kTableCell) {
    std::string cell;
    for (char c : visible) cell += c == '|' ? std::string("\\|") : std::string(1, c);
    visible = cell;
  }
  const std::string fence(LongestBacktickRun(visible) + 1, '`');
  // CommonMark strips one space from each end of a span that has both, and
  // a backtick at an end would join the fence: pad with a space then.
  const bool pad = !visible.empty() && (visible.front() == '`' || visible.back() == '`' ||
                                        (visible.front() == ' ' && visible.back() == ' ' &&
                                         visible.find_first_not_of(' ') != std::string::npos));
  const std::string space = pad ? " " : "";
  return fence + space + visible + space + fence;
}

// Text of several lines (a message with the target's last output) as a
// fenced code block, each line as it is but for control characters;
// text of one line as a code span.
std::string CodeBlock(const std::string& text) {
  if (text.find('\n') == std::string::npos) return Code(text);
  const std::string visible = VisibleLines(text);
  const std::string fence(std::max<size_t>(3, LongestBacktickRun(visible) + 1), '`');
  return fence + "\n" + visible + (visible.back() == '\n' ? "" : "\n") + fence;
}

// Each name as a code span, separated by spaces.
std::string Codes(const std::vector<std::string>& names, Place place = Place::kText) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : " ") + Code(name, place);
  return out;
}

std::string Row(const ScenarioResult& r) {
  std::string failed = Codes(FailedCheckNames(r.checks), Place::kTableCell);
  // An invalid run's real run was not run: what failed is its control's.
  if (r.verdict == Verdict::kInvalid && r.control)
    failed = "control: " + Codes(r.control->FailedChecks(), Place::kTableCell);
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, "%lld | %lld / %lld / %lld | %.2f s",
                static_cast<long long>(r.requests), static_cast<long long>(r.ok),
                static_cast<long long>(r.failed), static_cast<long long>(r.unknown), r.total);
  const char* mark = r.verdict == Verdict::kMet       ? "✅"
                     : r.verdict == Verdict::kInvalid ? "⚠️"
                                                      : "❌";
  return "| " + std::string(mark) + " " + Code(r.name, Place::kTableCell) + " | " +
         VerdictName(r.verdict) + " | " + numbers + " | " + (failed.empty() ? "none" : failed) +
         " |\n";
}

// The failed checks of `checks`, each with its offending keys (at most 20;
// the others are in `report_dir`/result.json) and their attempts.
std::string FailedChecks(const std::vector<CheckResult>& checks,
                         const std::map<std::string, std::vector<std::string>>& attempts_of,
                         const std::string& report_dir) {
  std::string out;
  for (const CheckResult& c : checks) {
    if (c.status != CheckStatus::kFail) continue;
    out += "- **" + c.name + "** failed: " + Code(c.summary) + "\n";
    size_t shown = std::min<size_t>(c.offending.size(), 20);
    for (size_t i = 0; i < shown; ++i) {
      out += "  - " + Code(c.offending[i]) + "\n";
      auto attempts = attempts_of.find(KeyOf(c.offending[i]));
      if (attempts == attempts_of.end()) continue;
      for (const std::string& a : attempts->second) out += "    - " + Code(a) + "\n";
    }
    if (c.OffendingCount() > shown)
      out += "  - ... " + std::to_string(c.OffendingCount() - shown) + " more in " +
             Code(report_dir + "/result.json") +
             (c.unlisted ? " and " + Code(report_dir + "/" + kOffendingFile) : "") + "\n";
  }
  return out;
}

// What the control run found, and when it failed, its failed checks (their
// attempts are in its own reports). Nothing when it ended in an error: the
// run's message says it.
std::string ControlDetails(const ControlOutcome& control) {
  if (!control.ran) return "- control run: not run, " + Code(control.message) + "\n";
  if (control.passed())
    return "- control run (no fault): passed; the failures below came with the faults\n";
  if (control.verdict != Verdict::kNotMet) return "";
  return "- **control run** (no fault) failed " + Codes(control.FailedChecks()) +
         "; its reports: " + Code(control.report_dir) + "\n" +
         FailedChecks(control.checks, {}, control.report_dir);
}

// One run's message, its control run and its failed checks.
std::string Details(const ScenarioResult& r) {
  std::string out = "\n### " + Code(r.name) + ": " + VerdictName(r.verdict) + "\n\n";
  if (!r.message.empty()) out += CodeBlock(r.message) + "\n\n";
  if (r.control) out += ControlDetails(*r.control);
  return out + FailedChecks(r.checks, r.attempts_of, r.report_dir);
}

// A matrix's side-by-side table; every cell a code span, as it may come
// from the scenario file.
std::string MatrixMarkdown(const MatrixTable& table) {
  std::string out = "\n### Matrix " + Code(table.name) + "\n\n";
  for (size_t i = 0; i < table.cells.size(); ++i) {
    out += "|";
    for (const std::string& cell : table.cells[i])
      out += " " + Code(cell, Place::kTableCell) + " |";
    out += "\n";
    if (i == 0) {
      out += "|";
      for (size_t column = 0; column < table.cells[0].size(); ++column) out += "---|";
      out += "\n";
    }
  }
  return out;
}

}  // namespace

std::string SummaryMarkdown(const std::vector<ScenarioResult>& results) {
  int met = 0;
  for (const ScenarioResult& r : results) met += r.verdict == Verdict::kMet;
  std::string out =
      "## lastcall: " + std::to_string(met) + " of " + std::to_string(results.size()) +
      " scenario runs met their expectation\n\n"
      "| scenario | verdict | requests | ok / failed / unknown | time | failed checks |\n"
      "|---|---|---|---|---|---|\n";
  for (const ScenarioResult& r : results) out += Row(r);
  for (const MatrixTable& table : MatrixTables(results)) out += MatrixMarkdown(table);
  for (const ScenarioResult& r : results)
    if (r.verdict != Verdict::kMet ||
        std::any_of(r.checks.begin(), r.checks.end(),
                    [](const CheckResult& c) { return c.status == CheckStatus::kFail; }))
      out += Details(r);
  return out;
}

}  // namespace lastcall
