#include "report/html_report.h"

#include <chrono>
#include <cstdlib>

#include <catch2/catch.hpp>

using namespace lastcall;

namespace {

constexpr int64_t kMs = 1000000;

Attempt MakeAttempt(int64_t seq, int client, int64_t start_ms, int64_t length_ms, Outcome outcome,
                    int attempt = 1) {
  Attempt a;
  a.seq = seq;
  a.attempt = attempt;
  a.client = client;
  a.connection = client;
  a.send_start = start_ms * kMs;
  a.send_end = a.send_start + kMs / 10;
  a.done = a.send_start + length_ms * kMs;
  a.outcome = outcome;
  a.status = outcome == Outcome::kOk ? 201 : 0;
  a.error = outcome == Outcome::kOk ? NetError::kNone : NetError::kEof;
  return a;
}

// A run whose `lost` check names key lc-1-`seq`.
ScenarioResult LostRun(int64_t seq) {
  ScenarioResult r;
  r.name = "s";
  r.seed = 1;
  r.verdict = Verdict::kNotMet;
  CheckResult lost;
  lost.name = "lost";
  lost.status = CheckStatus::kFail;
  lost.summary = "1 acknowledged key not applied";
  lost.offending = {"lc-1-" + std::to_string(seq) + " acknowledged, applied 0"};
  r.checks = {lost};
  return r;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The sum of data-n over the bars: how many attempts the timeline accounts for.
long long AttemptsDrawn(const std::string& html) {
  long long sum = 0;
  for (size_t at = html.find("<rect class=\"bar "); at != std::string::npos;
       at = html.find("<rect class=\"bar ", at + 1)) {
    size_t n = html.find(" data-n=\"", at);
    if (n == std::string::npos || n > html.find('>', at)) continue;
    sum += std::strtoll(html.c_str() + n + 9, nullptr, 10);  // not a copy of the rest
  }
  return sum;
}

}  // namespace

TEST_CASE("index.html: a bar per attempt, a mark per event, the offending key linked") {
  ScenarioResult r = LostRun(2);
  std::vector<Attempt> attempts = {
      MakeAttempt(0, 0, 100, 20, Outcome::kOk), MakeAttempt(1, 1, 100, 30, Outcome::kOk),
      MakeAttempt(2, 0, 200, 20, Outcome::kOk), MakeAttempt(3, 1, 200, 50, Outcome::kUnknown),
      MakeAttempt(3, 0, 400, 20, Outcome::kFailed, 2)};
  std::vector<Event> events = {{0, "target_start", "pid 1", 1},
                               {300 * kMs, "signal", "TERM to process", 1},
                               {290 * kMs, "fault_trigger", "fault 1: TERM", 0}};
  std::string html = HtmlReport(r, attempts, events);
  CHECK(Count(html, "<rect class=\"bar ") == attempts.size());
  CHECK(Count(html, "<line class=\"mark ") == events.size());
  CHECK(Count(html, "<line class=\"retry\"") == 1);  // lc-1-3's two attempts
  CHECK(Count(html, "<rect class=\"bar ok v\" id=\"lc-1-2\"") == 1);
  CHECK(Count(html, " v\"") == 1);  // no other bar is highlighted
  CHECK(html.find("<a href=\"#lc-1-2\">lc-1-2 acknowledged") != std::string::npos);
  // Hovering shows this title.
  CHECK(html.find("<title>lc-1-3 attempt 1 on connection 1: eof, unknown; sent at "
                  "0.200000 s, written after 0.1 ms, ended after 50.0 ms</title>") !=
        std::string::npos);
}

TEST_CASE("index.html escapes everything that came from the target") {
  ScenarioResult r = LostRun(0);
  r.message = "<b>bold</b>";
  r.checks[0].summary = "<script>alert(1)</script>";
  r.checks[0].offending.push_back("row \"x\" & <y>");
  std::vector<Event> events = {{0, "target_exit", "<img src=x onerror=alert(2)>", 1}};
  std::string html = HtmlReport(r, {MakeAttempt(0, 0, 1, 1, Outcome::kOk)}, events);
  CHECK(Count(html, "<script>") == 1);  // the page's own
  CHECK(html.find("<b>") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("row &quot;x&quot; &amp; &lt;y&gt;<br>") != std::string::npos);
}

TEST_CASE("index.html merges attempts thinner than a pixel, never offending or retried ones") {
  // 10 s of history; 2,000 attempts of 1 ms back to back in one lane, and
  // one offending and one retried key among them.
  ScenarioResult r = LostRun(500);
  std::vector<Attempt> attempts;
  for (int64_t i = 0; i < 2000; ++i) attempts.push_back(MakeAttempt(i, 0, i, 1, Outcome::kOk));
  attempts[700].outcome = Outcome::kUnknown;
  attempts.push_back(MakeAttempt(700, 0, 2001, 1, Outcome::kOk, 2));
  std::vector<Event> events = {{10000 * kMs, "target_exit", "exit 0", 1}};
  std::string html = HtmlReport(r, attempts, events);
  size_t bars = Count(html, "<rect class=\"bar ");
  CHECK(bars < 300);
  CHECK(AttemptsDrawn(html) == static_cast<long long>(attempts.size()));
  CHECK(Count(html, "id=\"lc-1-500\" data-k=\"500\" data-n=\"1\"") == 1);
  CHECK(Count(html, "data-k=\"700\" data-n=\"1\"") == 2);
}

TEST_CASE("index.html draws at most kMaxLanes lanes, those with violations first") {
  ScenarioResult r = LostRun(149);
  std::vector<Attempt> attempts;
  for (int c = 0; c < 150; ++c) attempts.push_back(MakeAttempt(c, c, 10, 5, Outcome::kOk));
  std::string html = HtmlReport(r, attempts, {});
  CHECK(Count(html, "<text class=\"lane\"") == kMaxLanes);
  CHECK(html.find(">client 149</text>") != std::string::npos);
  CHECK(html.find(">client 99</text>") == std::string::npos);
  CHECK(html.find("100 of 150 client lanes are drawn") != std::string::npos);
  CHECK(Count(html, "<rect class=\"bar ") == static_cast<size_t>(kMaxLanes));
}

TEST_CASE("index.html of 100,000 attempts stays under 10 MB") {
  // 16 clients for 20 s, 3 ms per attempt, a SIGKILL at 10 s, a restart
  // 0.5 s later during which every attempt is refused and retried.
  ScenarioResult r = LostRun(50000);
  std::vector<Attempt> attempts;
  int64_t seq = 0;
  for (int c = 0; c < 16; ++c) {
    for (int64_t start_us = 0; start_us < 20000000 && seq < 100000; start_us += 3200) {
      bool down = start_us >= 10000000 && start_us < 10500000;
      Attempt a = MakeAttempt(seq, c, 0, 0, down ? Outcome::kFailed : Outcome::kOk);
      a.send_start = start_us * 1000;
      a.done = a.send_start + 3000000;
      attempts.push_back(a);
      if (down) attempts.push_back(MakeAttempt(seq, c, 10600, 3, Outcome::kOk, 2));
      ++seq;
    }
  }
  std::vector<Event> events = {{10000 * kMs, "signal", "KILL to process", 1},
                               {10001 * kMs, "target_exit", "killed by KILL", 1},
                               {10500 * kMs, "restart", "starting instance 2", 0}};
  auto start = std::chrono::steady_clock::now();
  std::string html = HtmlReport(r, attempts, events);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN(attempts.size() << " attempts: index.html of " << html.size() / 1024 << " KiB, "
                       << Count(html, "<rect class=\"bar ") << " bars, in " << seconds << " s");
  CHECK(attempts.size() >= 100000);
  CHECK(html.size() < 10u * 1024 * 1024);
  CHECK(AttemptsDrawn(html) == static_cast<long long>(attempts.size()));
}

TEST_CASE("the run-level index.html links each run's page, relative to the folder") {
  ScenarioResult met;
  met.name = "<a>";
  met.verdict = Verdict::kMet;
  met.report_dir = "/r/ok";
  ScenarioResult lost = LostRun(1);
  lost.report_dir = "/r/s/2";
  ScenarioResult never;  // could not make its folder
  never.name = "never";
  std::string html = RunIndexHtml("/r", {met, lost, never}, "<table id=\"matrix\"></table>");
  CHECK(html.find("<h1>lastcall: 1 of 3 scenario runs met their expectation</h1>") !=
        std::string::npos);
  CHECK(html.find("<a href=\"ok/index.html\">&lt;a&gt;</a></td><td><span class=\"verdict met\">") !=
        std::string::npos);
  CHECK(html.find("<a href=\"s/2/index.html\">s</a></td><td><span class=\"verdict\">not met") !=
        std::string::npos);
  CHECK(html.find("<td>never</td>") != std::string::npos);
  CHECK(html.find("<td>lost</td>") != std::string::npos);  // its failed check
  CHECK(html.find("</table>\n<table id=\"matrix\"></table></body>") != std::string::npos);
}

TEST_CASE("the run-level index.html: link paths URL-encoded, a target's text escaped") {
  ScenarioResult r = LostRun(1);
  r.name = "s/grace=1s,path=%2Fa#b";
  r.report_dir = "/r/s/grace=1s,path=%2Fa#b";
  r.message = "its last output:\n  | \x1b[2Jcleared";
  std::string html = RunIndexHtml("/r", {r}, "");
  INFO(html);
  CHECK(html.find("<a href=\"s/grace%3D1s%2Cpath%3D%252Fa%23b/index.html\">") != std::string::npos);
  CHECK(html.find('\x1b') == std::string::npos);
  CHECK(html.find("<td>its last output:\n  | \\x1b[2Jcleared</td>") != std::string::npos);
}

TEST_CASE("the run-level index.html has the matrix table when a matrix ran") {
  ScenarioResult plain;
  plain.name = "plain";
  CHECK(MatrixTablesHtml({plain}).empty());
  std::vector<ScenarioResult> runs(2);
  const char* graces[] = {"1s", "<30s>"};
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].name = std::string("compare/grace=") + graces[i];
    runs[i].file = "/s/compare.yaml";
    runs[i].matrix = {{"grace", graces[i]}};
    runs[i].verdict = Verdict::kMet;
  }
  std::string html = MatrixTablesHtml(runs);
  CHECK(html.find("<h2>Matrix compare</h2>") != std::string::npos);
  CHECK(html.find("<tr><th>grace</th><th>verdict</th>") != std::string::npos);
  CHECK(html.find("<tr><td>1s</td><td>met</td>") != std::string::npos);
  CHECK(html.find("<tr><td>&lt;30s&gt;</td>") != std::string::npos);  // escaped
}
