#include "check/catalogue.h"

#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "scenario/schema_test_support.h"

namespace lastcall {
namespace {

TEST_CASE("KnownChecks, in report order", "[check]") {
  CHECK(KnownChecks() ==
        std::vector<std::string>{"lost", "duplicated", "phantom", "invariants", "drained",
                                 "unannounced_close", "refused_while_draining", "exit",
                                 "connections_leaked", "unclean_disconnects",
                                 "transactions_abandoned", "orphans", "temp_files", "jobs",
                                 "websocket_close", "client_errors", "faults"});
}

TEST_CASE("The JSON Schema names the catalogue's checks") {
  const json schema = LoadSchema();
  CHECK(EnumOf(schema, "checkName") ==
        std::set<std::string>(KnownChecks().begin(), KnownChecks().end()));
}

TEST_CASE("Every check has its line in the catalogue") {
  for (const CheckInfo& check : CheckCatalogue()) {
    INFO(check.name);
    CHECK(std::string(check.catches).size() > 10);
    CHECK(std::string(check.needs).size() > 3);
  }
}

}  // namespace
}  // namespace lastcall
