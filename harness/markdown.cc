#include "markdown.h"

#include <algorithm>
#include <cstdio>

#include "matrix_table.h"

namespace lastcall {

namespace {

// Inline code that stays inline code: no backtick can close it early, no
// newline or pipe can end the line or the table cell.
std::string Code(const std::string& text) {
  std::string out = "`";
  for (char c : text) {
    if (c == '`') out += '\'';
    else if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out + "`";
}

std::string Row(const ScenarioResult& r) {
  std::string failed;
  for (const CheckResult& c : r.checks)
    if (c.status == CheckStatus::kFail) failed += (failed.empty() ? "" : " ") + Code(c.name);
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, "%lld | %lld / %lld / %lld | %.2f s",
                static_cast<long long>(r.requests), static_cast<long long>(r.ok),
                static_cast<long long>(r.failed), static_cast<long long>(r.unknown),
                r.total);
  const char* mark = r.verdict == Verdict::kMet ? "✅" : "❌";
  return "| " + std::string(mark) + " " + Code(r.name) + " | " + VerdictName(r.verdict) +
         " | " + numbers + " | " + (failed.empty() ? "none" : failed) + " |\n";
}

// The failed checks of one run, each with its offending keys (at most 20)
// and their attempts.
std::string Details(const ScenarioResult& r) {
  std::string out = "\n### " + Code(r.name) + ": " + VerdictName(r.verdict) + "\n\n";
  if (!r.message.empty()) out += Code(r.message) + "\n\n";
  for (const CheckResult& c : r.checks) {
    if (c.status != CheckStatus::kFail) continue;
    out += "- **" + c.name + "** failed: " + Code(c.summary) + "\n";
    size_t shown = std::min<size_t>(c.offending.size(), 20);
    for (size_t i = 0; i < shown; ++i) {
      out += "  - " + Code(c.offending[i]) + "\n";
      auto attempts = r.attempts_of.find(KeyOf(c.offending[i]));
      if (attempts == r.attempts_of.end()) continue;
      for (const std::string& a : attempts->second) out += "    - " + Code(a) + "\n";
    }
    if (c.offending.size() > shown)
      out += "  - ... " + std::to_string(c.offending.size() - shown) +
             " more in " + Code(r.report_dir + "/result.json") + "\n";
  }
  return out;
}

// A matrix's side-by-side table; every cell a code span, as it may come
// from the scenario file.
std::string MatrixMarkdown(const MatrixTable& table) {
  std::string out = "\n### Matrix " + Code(table.name) + "\n\n";
  for (size_t i = 0; i < table.cells.size(); ++i) {
    out += "|";
    for (const std::string& cell : table.cells[i]) out += " " + Code(cell) + " |";
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
  std::string out = "## lastcall: " + std::to_string(met) + " of " +
                    std::to_string(results.size()) + " scenario runs met their expectation\n\n"
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
