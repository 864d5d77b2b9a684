// A variation written as an ordinary scenario file: the base scenario's YAML
// with the variation's seed, clients, load length and faults in place of its
// own, paths made absolute so that the file runs from wherever it is
// written, and an expectation. `lastcall explore` runs every variation from
// such a text (so that a repro file is exactly what ran), keeps each beside
// its reports, and writes the shrunk failure as repro-<check>.yaml.
#ifndef LASTCALL_VARIATION_FILE_H_
#define LASTCALL_VARIATION_FILE_H_

#include <string>
#include <vector>

#include "explore/variation.h"
#include "scenario/scenario.h"

namespace lastcall {

struct VariationFile {
  std::string name;  // the scenario's name
  // Empty: the base's expectation; else `expect: {fail: [these]}`.
  std::vector<std::string> expect_fail;
  std::string comment;  // lines written as "# ..." above the YAML; may be empty
};

// The text of `base_yaml` (the text of `base`'s file) with `variation`
// applied as `file` says. Its `explore:` and top-level `sender:` are left
// out (each fault says its recipient and escalation, taken from the base's
// first signal fault). Returns false and sets *error when `base_yaml` is not
// a YAML map.
bool VariationYaml(const std::string& base_yaml, const Scenario& base, const Variation& variation,
                   const VariationFile& file, std::string* yaml, std::string* error);

}  // namespace lastcall

#endif  // LASTCALL_VARIATION_FILE_H_
