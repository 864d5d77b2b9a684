// schema/scenario.schema.json against the parser's own definitions, so that
// the two cannot drift: every mapping the parser reads (ScenarioSections)
// must be an object of the schema at the same path with the same keys, and
// the schema's enumeration of senders must be the parser's (that of checks
// is the check catalogue's: check/catalogue_test.cc).
// scripts/validate-schema.py then proves the schema on real files.
#include <fstream>
#include <map>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "scenario/scenario.h"
#include "scenario/schema_test_support.h"
#include "scenario/sender.h"

using namespace lastcall;
using nlohmann::json;

namespace {

// The schema node a "#/definitions/name" reference names.
const json& Resolve(const json& schema, const json& node) {
  if (!node.is_object() || !node.contains("$ref")) return node;
  const std::string ref = node["$ref"];
  REQUIRE(ref.rfind("#/definitions/", 0) == 0);
  return schema["definitions"][ref.substr(14)];
}

// Every object of the schema with properties, by the path the parser gives
// its section ("load.request", "faults[]"), found through references and
// alternatives; *open lists those whose other keys are not refused.
void Walk(const json& schema, const json& raw, const std::string& path,
          std::map<std::string, std::set<std::string>>* sections, std::set<std::string>* open) {
  const json& node = Resolve(schema, raw);
  if (!node.is_object()) return;
  for (const char* alternatives : {"anyOf", "oneOf", "allOf"})
    if (node.contains(alternatives))
      for (const json& alternative : node[alternatives])
        Walk(schema, alternative, path, sections, open);
  if (node.contains("items")) Walk(schema, node["items"], path + "[]", sections, open);
  if (!node.contains("properties")) return;
  if (node.value("additionalProperties", true) != false) open->insert(path);
  for (const auto& [key, value] : node["properties"].items()) {
    (*sections)[path].insert(key);
    Walk(schema, value, path.empty() ? key : path + "." + key, sections, open);
  }
}

}  // namespace

TEST_CASE("The JSON Schema has every section of the parser with the same keys") {
  const json schema = LoadSchema();
  std::map<std::string, std::set<std::string>> in_schema;
  std::set<std::string> open;
  Walk(schema, schema, "", &in_schema, &open);
  CHECK(open.empty());  // an unknown key is an error, in both
  std::set<std::string> in_parser;
  for (const SectionKeys& section : ScenarioSections()) {
    INFO("section '" << section.path << "': add its keys to schema/scenario.schema.json");
    in_parser.insert(section.path);
    REQUIRE(in_schema.count(section.path));
    // Keys "not supported yet" are refused by both, so absent from the schema.
    CHECK(in_schema[section.path] ==
          std::set<std::string>(section.known.begin(), section.known.end()));
  }
  for (const auto& [path, keys] : in_schema) {
    INFO("the schema's section '" << path << "' is not in ScenarioSections() (scenario.cc)");
    CHECK(in_parser.count(path));
  }
}

TEST_CASE("The JSON Schema names the parser's senders") {
  const json schema = LoadSchema();
  std::set<std::string> senders;
  for (const SenderPreset& preset : SenderPresets()) senders.insert(preset.name);
  CHECK(EnumOf(schema, "sender") == senders);
}
