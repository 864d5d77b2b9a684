// The check names a scenario file writes (audit.checks, expect.fail,
// expect.pass) judged against the check catalogue.
//
// The parser cannot judge them: the catalogue lives in check/, beside the
// check functions, and check/ depends on scenario/ for the Scenario type,
// never the other way. So the parser records each name with where it was
// written (Scenario::written_check_names), and ValidateCheckNames() rejects
// an unknown one with the parser's "file:line:column: message" and "did you
// mean". The entry points below are the parser's with that step added:
// every front end (lastcall run, check and explore; each combination of a
// matrix) loads its scenarios through them, and its tests go through them
// too. The parser's own entry points (scenario.h) stay for what reads a
// scenario without judging names: explore's variations of a loaded
// scenario, the benchmark and the fuzzer.
#ifndef LASTCALL_CHECK_CHECK_NAMES_H_
#define LASTCALL_CHECK_CHECK_NAMES_H_

#include <string>
#include <vector>

#include "scenario/scenario.h"

namespace lastcall {

// Whether every check name `scenario` writes is a known check, and every
// check its expectation names is one audit.checks runs. On failure sets
// *error to "file:line:column: message", as the parser would.
bool ValidateCheckNames(const Scenario& scenario, std::string* error);

// LoadScenario() and ParseScenarioText() (scenario.h), then
// ValidateCheckNames() on each scenario.
bool LoadCheckedScenario(const std::string& path, const std::vector<std::string>& overrides,
                         std::vector<Scenario>* scenarios, std::string* error);
bool ParseCheckedScenarioText(const std::string& yaml_text, const std::string& file_path,
                              const std::vector<std::string>& overrides,
                              std::vector<Scenario>* scenarios, std::string* error);
bool ParseCheckedScenarioText(const std::string& yaml_text, const std::string& file_path,
                              Scenario* scenario, std::string* error);

}  // namespace lastcall

#endif  // LASTCALL_CHECK_CHECK_NAMES_H_
