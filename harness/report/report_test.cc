#include "report/report.h"

#include <fcntl.h>
#include <pty.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/temp_dir.h"

using namespace lastcall;
namespace fs = std::filesystem;

namespace {

ScenarioResult WithOffending(const std::string& text) {
  ScenarioResult r;
  r.name = "s";
  r.verdict = Verdict::kNotMet;
  r.message = "lost failed";
  CheckResult c;
  c.name = "lost";
  c.status = CheckStatus::kFail;
  c.offending = {text};
  r.checks = {c};
  return r;
}

std::vector<std::string> FileLines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("result.json survives text that is not UTF-8") {
  Scenario scenario;
  std::string json = ResultJson(WithOffending("bad \xff\xfe bytes"), scenario);
  nlohmann::json parsed = nlohmann::json::parse(json);
  CHECK(parsed["checks"][0]["offending"][0] == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
}

TEST_CASE("the console shows a target's control characters as escapes") {
  ScenarioResult r = WithOffending("\x1b[2Jcleared\nfake line `quoted`");
  r.checks[0].summary = "1 files left \x1b]0;title\x07";
  r.message = "its last output:\n  | \x1b[1Aup\r";
  std::string lines = ConsoleLines(r);
  INFO(lines);
  CHECK(lines.find('\x1b') == std::string::npos);
  CHECK(lines.find('\x07') == std::string::npos);
  CHECK(lines.find('\r') == std::string::npos);
  CHECK(lines.find("\n        \\x1b[2Jcleared\\nfake line `quoted`\n") != std::string::npos);
  CHECK(lines.find("lost failed: 1 files left \\x1b]0;title\\x07") != std::string::npos);
  // The message's own lines stay lines.
  CHECK(lines.find("its last output:\n  | \\x1b[1Aup\\r\n") != std::string::npos);
}

TEST_CASE("WriteFileAtomically replaces whole files, and keeps the old one on failure") {
  std::string pattern = (fs::temp_directory_path() / "lastcall-report-XXXXXX").string();
  const fs::path dir = mkdtemp(pattern.data());
  const std::string path = (dir / "result.json").string();
  std::string error;
  REQUIRE(WriteFileAtomically(path, "first\n", &error));
  REQUIRE(WriteFileAtomically(path, "second\n", &error));
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text == "second\n");
  CHECK_FALSE(WriteFileAtomically((dir / "missing" / "x.json").string(), "x", &error));
  CHECK(error.find("cannot write") == 0);
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);  // no temp left
  fs::remove_all(dir);
}

TEST_CASE(
    "the console: quiet says nothing of a met run, verbose names every check, colour if asked") {
  ScenarioResult met = WithOffending("lc-1-1 acknowledged");
  met.verdict = Verdict::kMet;
  CheckResult exit;
  exit.name = "exit";
  exit.status = CheckStatus::kSkipped;
  exit.summary = "no graceful signal";
  met.checks.push_back(exit);
  ConsoleStyle quiet{ConsoleStyle::Detail::kQuiet, false};
  ConsoleStyle verbose{ConsoleStyle::Detail::kVerbose, false};
  CHECK(ConsoleLines(met, quiet).empty());
  CHECK(ConsoleLines(WithOffending("x"), quiet).find("FAIL  s") == 0);
  CHECK(ConsoleLines(met).find("exit skipped") == std::string::npos);
  CHECK(ConsoleLines(met, verbose).find("\n      exit skipped: no graceful signal\n") !=
        std::string::npos);
  CHECK(ConsoleLines(met).find('\x1b') == std::string::npos);
  CHECK(ConsoleLines(met, {ConsoleStyle::Detail::kNormal, true}).find("\x1b[32mPASS\x1b[0m") == 0);
  CHECK(ConsoleLines(WithOffending("x"), {ConsoleStyle::Detail::kNormal, true})
            .find("\x1b[31mFAIL\x1b[0m") == 0);
}

TEST_CASE("colour only on a terminal, and never with NO_COLOR") {
  int saved = dup(STDOUT_FILENO);
  unsetenv("NO_COLOR");
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  dup2(null, STDOUT_FILENO);
  bool on_file = ColourWanted();
  int controller, terminal;
  REQUIRE(openpty(&controller, &terminal, nullptr, nullptr, nullptr) == 0);
  dup2(terminal, STDOUT_FILENO);
  bool on_terminal = ColourWanted();
  setenv("NO_COLOR", "1", 1);
  bool with_no_color = ColourWanted();
  setenv("NO_COLOR", "", 1);
  bool with_empty_no_color = ColourWanted();
  unsetenv("NO_COLOR");
  dup2(saved, STDOUT_FILENO);
  close(saved);
  close(null);
  close(terminal);
  close(controller);
  CHECK_FALSE(on_file);
  CHECK(on_terminal);
  CHECK_FALSE(with_no_color);
  CHECK(with_empty_no_color);
}

namespace {

// A scenario whose control run failed `lost`.
ScenarioResult Invalid() {
  ScenarioResult r;
  r.name = "s";
  r.verdict = Verdict::kInvalid;
  r.message = "fails without a fault: its control run failed lost";
  r.report_dir = "reports/s";
  ControlOutcome control;
  control.verdict = Verdict::kNotMet;
  control.report_dir = "reports/s/control";
  control.checks = WithOffending("lc-1-7 acknowledged").checks;
  CheckResult duplicated;
  duplicated.name = "duplicated";
  control.checks.push_back(duplicated);
  r.control = control;
  return r;
}

}  // namespace

TEST_CASE(
    "the console: an invalid run says so on a line of its own, naming the control's failed "
    "checks") {
  const std::string text = ConsoleLines(Invalid());
  INFO(text);
  CHECK(text.find("INVALID  s ") == 0);
  CHECK(text.find("its real run was not run") != std::string::npos);
  CHECK(text.find("\n      invalid: fails without a fault") != std::string::npos);
  CHECK(text.find("\n      control run (no fault) failed: lost; its reports: reports/s/control\n"
                  "      lost failed: \n        lc-1-7 acknowledged\n") != std::string::npos);
  CHECK(ConsoleLines(Invalid(), {ConsoleStyle::Detail::kQuiet, true}).find("\x1b[33mINVALID") == 0);

  ScenarioResult passed = WithOffending("lc-1-1");
  passed.control = Invalid().control;
  passed.control->verdict = Verdict::kMet;
  passed.control->checks.erase(passed.control->checks.begin());
  CHECK(ConsoleLines(passed).find("FAIL  s") == 0);
  CHECK(ConsoleLines(passed).find("\n      control run (no fault) passed: duplicated (0.00s)\n") !=
        std::string::npos);
  CHECK(ConsoleLines(WithOffending("x")).find("control") == std::string::npos);
}

TEST_CASE("result.json keeps the control's outcome, null without one") {
  Scenario scenario;
  nlohmann::json none = nlohmann::json::parse(ResultJson(WithOffending("x"), scenario));
  CHECK(none["control"].is_null());
  nlohmann::json invalid = nlohmann::json::parse(ResultJson(Invalid(), scenario));
  CHECK(invalid["verdict"] == "invalid");
  CHECK(invalid["control"]["ran"] == true);
  CHECK(invalid["control"]["passed"] == false);
  CHECK(invalid["control"]["verdict"] == "not met");
  CHECK(invalid["control"]["failed_checks"] == nlohmann::json::array({"lost"}));
  CHECK(invalid["control"]["report_dir"] == "reports/s/control");
}

TEST_CASE("RecordControl sets the control of a result.json and keeps the rest") {
  const fs::path dir = fs::temp_directory_path() / ("record-control-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "result.json").string();
  std::string error;
  REQUIRE(WriteFileAtomically(path, ResultJson(WithOffending("lc-1-1"), Scenario()), &error));
  REQUIRE(RecordControl(path, *Invalid().control, &error));
  std::ifstream in(path);
  nlohmann::json json = nlohmann::json::parse(in);
  CHECK(json["control"]["report_dir"] == "reports/s/control");
  CHECK(json["checks"][0]["offending"][0] == "lc-1-1");
  CHECK_FALSE(RecordControl((dir / "missing.json").string(), *Invalid().control, &error));
  CHECK(error.find("missing.json") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a suite's exit code: 3, then 2, then 4 (invalid), then 1, else 0") {
  using V = Verdict;
  CHECK(SuiteExitCode({}) == 0);
  CHECK(SuiteExitCode({{V::kMet, 3}, {V::kNotMet, 0}}) == 0);
  CHECK(SuiteExitCode({{V::kMet, 3}, {V::kNotMet, 1}}) == 1);
  CHECK(SuiteExitCode({{V::kInterrupted, 1}}) == 1);
  CHECK(SuiteExitCode({{V::kNotMet, 2}, {V::kInvalid, 1}}) == 4);
  CHECK(SuiteExitCode({{V::kInvalid, 1}, {V::kBadInput, 1}}) == 2);
  CHECK(SuiteExitCode({{V::kInvalid, 1}, {V::kBadInput, 1}, {V::kInfrastructure, 1}}) == 3);
}

TEST_CASE("offending lists longer than the reports list go whole to offending-keys.txt") {
  lastcall::TempDir dir;
  std::ofstream(dir.path / kOffendingFile) << "a previous run's\n";
  ScenarioResult r = WithOffending("lc-1-0");
  std::string error;
  REQUIRE(CapOffending(dir.path.string(), &r.checks, &error));
  CHECK_FALSE(fs::exists(dir.path / kOffendingFile));
  CHECK(r.checks[0].offending.size() == 1);

  for (size_t i = 1; i <= kOffendingListed + 1; ++i)
    r.checks[0].offending.push_back("lc-1-" + std::to_string(i));
  r.checks[0].unlisted = 7;  // counted, never kept
  REQUIRE(CapOffending(dir.path.string(), &r.checks, &error));
  const CheckResult& lost = r.checks[0];
  CHECK(lost.offending.size() == kOffendingListed);
  CHECK(lost.unlisted == 7 + 2);
  CHECK(lost.OffendingCount() == kOffendingListed + 2 + 7);
  const std::vector<std::string> lines = FileLines(dir.path / kOffendingFile);
  REQUIRE(lines.size() == kOffendingListed + 3);
  CHECK(lines.front() == "lost\tlc-1-0");
  CHECK(lines[kOffendingListed + 1] == "lost\tlc-1-" + std::to_string(kOffendingListed + 1));
  CHECK(lines.back() == "lost\t... 7 more, counted, not kept");
  nlohmann::json json = nlohmann::json::parse(ResultJson(r, Scenario()));
  CHECK(json["checks"][0]["offending"].size() == kOffendingListed);
  CHECK(json["checks"][0]["unlisted"] == 9);
  // Entries counted but never kept are reason enough for the file.
  ScenarioResult counted = WithOffending("lc-1-0");
  counted.checks[0].unlisted = 1;
  REQUIRE(CapOffending(dir.path.string(), &counted.checks, &error));
  CHECK(FileLines(dir.path / kOffendingFile) ==
        std::vector<std::string>{"lost\tlc-1-0", "lost\t... 1 more, counted, not kept"});
}
