// End-to-end tests of the lastcall command: `lastcall check`, `lastcall init` and the listing
// commands.
#include "check/catalogue.h"
#include "e2e/cli_support.h"

using namespace lastcall;

TEST_CASE("check accepts every bundled scenario") {
  Output out = Lastcall({"check", "scenarios"});
  INFO(out.text);
  CHECK(out.code == 0);
}

TEST_CASE("lastcall init writes a starter scenario that check accepts and never overwrites it") {
  TempDir dir;
  const std::string file = (dir.path / "my-service.yaml").string();
  const std::string schema =
      std::string(LASTCALL_SOURCE_DIR) + "/targets/examples/python-payments/schema.sql";
  const std::vector<std::string> init = {"init",
                                         "--command",
                                         "python3 app.py --port ${port}",
                                         "--health-path",
                                         "/health",
                                         "--endpoint",
                                         "PUT /v1/transfers",
                                         "--schema",
                                         schema,
                                         "-o",
                                         file};
  Output out = Lastcall(init);
  INFO(out.text);
  REQUIRE(out.code == 0);
  const std::string text = ReadFileOrEmpty(file);
  CHECK(text.find("applied: SELECT request_token, count(*) FROM transfers") != std::string::npos);
  CHECK(text.find("TODO") != std::string::npos);
  Output check = Lastcall({"check", file});
  INFO(check.text);
  CHECK(check.code == 0);
  Output again = Lastcall(init);
  CHECK(again.code == 2);
  CHECK(again.text.find("never overwrites") != std::string::npos);
  CHECK(ReadFileOrEmpty(file) == text);
  // stdin is not a terminal here: nothing is asked, a missing command is an error.
  Output no_command = Lastcall({"init", "-o", (dir.path / "other.yaml").string()});
  CHECK(no_command.code == 2);
  CHECK(no_command.text.find("--command is required") != std::string::npos);
}

TEST_CASE("lastcall checks and senders list every check and preset and help shows examples") {
  Output checks = Lastcall({"checks"});
  CHECK(checks.code == 0);
  for (const std::string& name : KnownChecks())
    CHECK(checks.text.find(name + " ") != std::string::npos);
  Output senders = Lastcall({"senders"});
  CHECK(senders.code == 0);
  for (const SenderPreset& preset : SenderPresets()) {
    INFO(preset.name);
    CHECK(senders.text.find(std::string("\n") + preset.name + " ") != std::string::npos);
  }
  CHECK(Lastcall({"--help"}).text.find("lastcall init --command") != std::string::npos);
  CHECK(Lastcall({"run", "--help"}).text.find("--shard 2/3") != std::string::npos);
  CHECK(Lastcall({"report", "--help"}).text.find("--merge shard-1") != std::string::npos);
}
