// Helpers of the tests that compare schema/scenario.schema.json with the code.
#ifndef LASTCALL_SCENARIO_SCHEMA_TEST_SUPPORT_H_
#define LASTCALL_SCENARIO_SCHEMA_TEST_SUPPORT_H_

#include <fstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace lastcall {

using nlohmann::json;

json LoadSchema() {
  std::ifstream in(std::string(LASTCALL_SOURCE_DIR) + "/schema/scenario.schema.json");
  REQUIRE(in);
  return json::parse(in);
}

std::set<std::string> EnumOf(const json& schema, const std::string& definition) {
  std::set<std::string> names;
  for (const json& name : schema["definitions"][definition]["enum"]) names.insert(name);
  return names;
}

}  // namespace lastcall

#endif  // LASTCALL_SCENARIO_SCHEMA_TEST_SUPPORT_H_
