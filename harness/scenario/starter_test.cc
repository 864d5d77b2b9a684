#include "scenario/starter.h"

#include <catch2/catch.hpp>

#include "base/temp_dir.h"
#include "scenario/scenario.h"

using namespace lastcall;

namespace {

const char* kSchema = R"(
CREATE TABLE wallets (wallet_id text PRIMARY KEY, cents bigint NOT NULL);
CREATE TABLE IF NOT EXISTS transfers (
  transfer_id bigserial PRIMARY KEY,
  request_idempotency text UNIQUE NOT NULL,
  cents bigint NOT NULL
);
)";

StarterOptions Options() {
  StarterOptions o;
  o.name = "my-service";
  o.command = SplitCommand("python3 app.py --port ${port} --label \"a\\b\"");
  o.health_path = "/health";
  REQUIRE(ParseEndpoint("put /v1/transfers", &o.method, &o.path));
  return o;
}

}  // namespace

TEST_CASE("The starter scenario passes the parser and says what it was given") {
  TempDir dir;
  StarterOptions o = Options();
  o.schema = "schema.sql";
  o.schema_sql = kSchema;
  dir.Write("schema.sql", kSchema);
  const std::string text = StarterScenario(o);
  INFO(text);
  Scenario scenario;
  std::string error;
  REQUIRE(ParseScenarioText(text, dir.Write("starter.yaml", text), &scenario, &error));
  CHECK(scenario.name == "my-service");
  CHECK(scenario.target.command ==
        std::vector<std::string>{"python3", "app.py", "--port", "${port}", "--label", "\"a\\b\""});
  CHECK(scenario.load.request.method == "PUT");
  CHECK(scenario.load.request.path == "/v1/transfers");
  CHECK(scenario.database.schema_path == (dir.path / "schema.sql").string());
  CHECK(scenario.audit.applied_sql ==
        "SELECT request_idempotency, count(*) FROM transfers GROUP BY 1");
  REQUIRE(scenario.faults.size() == 1);
  CHECK(text.find("TODO") != std::string::npos);
  // A first verdict about a shutdown bug must not be a plain bug's.
  CHECK(scenario.control);
  CHECK(text.find("# Run first without the SIGTERM") != std::string::npos);
}

TEST_CASE("Without a schema the starter scenario leaves the audit query as a TODO that parses") {
  TempDir dir;
  const std::string text = StarterScenario(Options());
  Scenario scenario;
  std::string error;
  REQUIRE(ParseScenarioText(text, dir.Write("starter.yaml", text), &scenario, &error));
  CHECK(scenario.audit.applied_sql.find("TODO_payments") != std::string::npos);
  CHECK(scenario.database.schema_path.empty());
}

TEST_CASE("ParseEndpoint takes METHOD PATH or PATH alone") {
  std::string method, path;
  REQUIRE(ParseEndpoint("/pay", &method, &path));
  CHECK(method == "POST");
  CHECK(path == "/pay");
  for (const char* bad : {"", "POST", "pay", "POST pay", "POST /a b"}) {
    INFO(bad);
    CHECK_FALSE(ParseEndpoint(bad, &method, &path));
  }
}

TEST_CASE("GuessLedger takes a unique text key or token column when none is named idempot") {
  std::string table, column;
  REQUIRE(
      GuessLedger("CREATE TABLE wallets (wallet_no integer PRIMARY KEY, api_key text);\n"
                  "CREATE TABLE transfers (request_token text PRIMARY KEY, cents bigint);",
                  &table, &column));
  CHECK(table == "transfers");
  CHECK(column == "request_token");
}

TEST_CASE("GuessLedger finds no ledger in a schema without an idempotency column") {
  std::string table, column;
  CHECK_FALSE(GuessLedger("CREATE TABLE accounts (id text, balance bigint);", &table, &column));
  CHECK_FALSE(GuessLedger("", &table, &column));
}
