#include "report.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

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

}  // namespace

TEST_CASE("result.json survives text that is not UTF-8") {
  Scenario scenario;
  std::string json = ResultJson(WithOffending("bad \xff\xfe bytes"), scenario);
  nlohmann::json parsed = nlohmann::json::parse(json);
  CHECK(parsed["checks"][0]["offending"][0] == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
}

TEST_CASE("the console gets no control characters from a target") {
  std::string lines = ConsoleLines(WithOffending("\x1b[2Jcleared"));
  CHECK(lines.find('\x1b') == std::string::npos);
  CHECK(lines.find("?[2Jcleared") != std::string::npos);
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
