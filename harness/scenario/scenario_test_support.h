// Helpers of the parser's tests: scenarios written with only what a test is
// about.
#ifndef LASTCALL_SCENARIO_SCENARIO_TEST_SUPPORT_H_
#define LASTCALL_SCENARIO_SCENARIO_TEST_SUPPORT_H_

#include <string>

#include <catch2/catch.hpp>

#include "scenario/scenario.h"

namespace lastcall {

inline bool HasTopLevelKey(const std::string& yaml, const std::string& key) {
  return yaml.rfind(key + ":", 0) == 0 || yaml.find("\n" + key + ":") != std::string::npos;
}

// `yaml` followed by whichever required section it lacks, so that a test
// shows only what it is about and its line numbers are those of `yaml`.
inline std::string Complete(std::string yaml) {
  if (!HasTopLevelKey(yaml, "target")) yaml += "target:\n  command: [server]\n";
  if (!HasTopLevelKey(yaml, "load")) yaml += "load:\n  duration: 1s\n";
  if (!HasTopLevelKey(yaml, "audit")) yaml += "audit:\n  applied: SELECT key, n FROM t\n";
  return yaml;
}

// Parses Complete(yaml) as "s.yaml", which must succeed.
inline Scenario Parse(const std::string& yaml) {
  Scenario scenario;
  std::string error;
  INFO(Complete(yaml));
  CHECK(ParseScenarioText(Complete(yaml), "s.yaml", &scenario, &error));
  CHECK(error == "");
  return scenario;
}

// Parses Complete(yaml) as "s.yaml", which must fail; returns the error.
inline std::string Error(const std::string& yaml) {
  Scenario scenario;
  std::string error;
  INFO(Complete(yaml));
  CHECK_FALSE(ParseScenarioText(Complete(yaml), "s.yaml", &scenario, &error));
  return error;
}

}  // namespace lastcall

#endif  // LASTCALL_SCENARIO_SCENARIO_TEST_SUPPORT_H_
