// End-to-end tests of the reports people read: index.html of a real run as
// headless Chromium renders it, and `lastcall report` rendering a run's
// reports again. Part of cli_test (real processes, run one at a time).
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/cli_support.h"

using namespace lastcall;

namespace {

const char* kBugScenario = "scenarios/bugs/respond-before-commit.yaml";

// Runs the bug scenario with its reports under `dir`/reports; returns the
// scenario run's folder.
std::string RunBugScenario(const TempDir& dir) {
  CapturedOutput run =
      RunCaptured(FromSourceFolder({LASTCALL_BINARY, "run", "--reports",
                                    (dir.path / "reports").string(), kBugScenario}),
                  std::chrono::seconds(170));
  INFO(run.output);
  REQUIRE(run.Outcome() == "exit 0");
  return (dir.path / "reports" / "respond-before-commit").string();
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The value of the page's attribute data-`name` in a dumped DOM, or -1.
long long PageNumber(const std::string& dom, const std::string& name) {
  std::smatch match;
  if (!std::regex_search(dom, match, std::regex("<html [^>]*data-" + name + "=\"(\\d+)\"")))
    return -1;
  return std::stoll(match[1]);
}

}  // namespace

TEST_CASE("index.html in headless Chromium: every attempt and event drawn, lost keys marked") {
  TempDir dir;
  const std::string run = RunBugScenario(dir);
  // What the page must show, from the files it was rendered from.
  long long attempts = 0, events = 0;
  std::istringstream history(ReadFileOrEmpty(run + "/history.jsonl"));
  for (std::string line; std::getline(history, line);) {
    nlohmann::json op = nlohmann::json::parse(line);
    if (op["process"] == "nemesis")
      ++events;
    else if (op["type"] == "invoke")
      ++attempts;
  }
  std::set<std::string> lost;
  const nlohmann::json result = nlohmann::json::parse(ReadFileOrEmpty(run + "/result.json"));
  for (const auto& check : result["checks"])
    if (check["name"] == "lost")
      for (const auto& entry : check["offending"]) {
        std::string text = entry.get<std::string>();
        lost.insert(text.substr(0, text.find(' ')));
      }
  REQUIRE(attempts > 0);
  REQUIRE(events >= 3);  // start, ready, load, the signal and its trigger, the exit
  REQUIRE(!lost.empty());

  // Chromium is a test dependency: missing, the test fails (run_scenarios.sh
  // installs it).
  const std::string page = "file://" + run + "/index.html";
  const std::vector<std::string> chromium = {"chromium",
                                             "--headless",
                                             "--disable-gpu",
                                             "--no-sandbox",
                                             "--user-data-dir=" + (dir.path / "profile").string(),
                                             "--enable-logging=stderr"};
  std::vector<std::string> dump = chromium;
  dump.insert(dump.end(), {"--dump-dom", page});
  CapturedOutput dumped = RunCaptured(FromSourceFolder(dump), std::chrono::seconds(170));
  REQUIRE(dumped.Outcome() == "exit 0");
  const std::string& dom = dumped.output;
  INFO(dom.substr(0, 2000));
  CHECK(dom.find("data-report=\"ready\"") != std::string::npos);  // the script ran to its end
  CHECK(dom.find("Uncaught") == std::string::npos);               // no script error in the console
  CHECK(PageNumber(dom, "attempts") == attempts);
  CHECK(PageNumber(dom, "bars") == static_cast<long long>(Count(dom, "<rect class=\"bar ")));
  CHECK(PageNumber(dom, "marks") == events);
  CHECK(static_cast<long long>(Count(dom, "<line class=\"mark ")) == events);
  CHECK(Count(dom, "<line class=\"mark signal\"") == 1);
  CHECK(Count(dom, "<line class=\"mark fault_trigger\"") == 1);
  for (const std::string& key : lost) {
    CHECK(Count(dom, "<rect class=\"bar ok v\" id=\"" + key + "\"") == 1);
    CHECK(Count(dom, "<a href=\"#" + key + "\">") == 1);
  }
  CHECK(Count(dom, " v\" ") == lost.size());  // nothing else is highlighted

  std::vector<std::string> screenshot = chromium;
  const std::string png = (dir.path / "page.png").string();
  screenshot.insert(screenshot.end(), {"--window-size=1200,1600", "--screenshot=" + png, page});
  CapturedOutput shot = RunCaptured(FromSourceFolder(screenshot), std::chrono::seconds(170));
  INFO(shot.output);
  REQUIRE(shot.Outcome() == "exit 0");
  CHECK(ReadFileOrEmpty(png).rfind("\x89PNG", 0) == 0);
}

TEST_CASE("lastcall report renders a run's junit.xml, summary.md and index.html again, the same") {
  TempDir dir;
  const std::string run = RunBugScenario(dir);
  std::map<std::string, std::string> rendered;
  for (const char* file : {"junit.xml", "summary.md", "index.html"}) {
    rendered[file] = ReadFileOrEmpty(run + "/" + file);
    std::filesystem::remove(run + "/" + file);
  }
  CapturedOutput report =
      RunCaptured(FromSourceFolder({LASTCALL_BINARY, "report", run + "/result.json"}),
                  std::chrono::seconds(170));
  INFO(report.output);
  CHECK(report.Outcome() == "exit 0");
  CHECK(report.output.find("reports rendered again in " + run) != std::string::npos);
  for (const auto& [file, text] : rendered) {
    INFO(file);
    CHECK(!text.empty());
    CHECK(ReadFileOrEmpty(run + "/" + file) == text);
  }
  // The run-level page links the run's own.
  CHECK(ReadFileOrEmpty((dir.path / "reports" / "index.html").string())
            .find("<a href=\"respond-before-commit/index.html\">respond-before-commit</a>") !=
        std::string::npos);
}

TEST_CASE("lastcall report of a file that is not a run's result.json: exit 2 with the reason") {
  TempDir dir;
  std::string missing = (dir.path / "result.json").string();
  Output out = Lastcall({"report", missing});
  CHECK(out.code == 2);
  CHECK(out.text == "lastcall: cannot read " + missing + "\n");
  std::string other = dir.Write("other.json", "[1, 2]");
  out = Lastcall({"report", other});
  CHECK(out.code == 2);
  CHECK(out.text.rfind("lastcall: " + other + ": ", 0) == 0);
}
