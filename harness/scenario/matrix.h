// The scenario matrix and --set overrides. Both rewrite the
// YAML tree of a scenario file before it is parsed, in place: a value they
// put there is validated like any other, and a message about it points at
// the place in the file it replaced (yaml-cpp keeps a node's position when
// its scalar is reassigned).
#ifndef LASTCALL_MATRIX_H_
#define LASTCALL_MATRIX_H_

#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace lastcall {

// One combination of a matrix: each name with its value, in the order the
// matrix lists its names. Empty for a scenario without a matrix.
using Combination = std::vector<std::pair<std::string, std::string>>;

// More combinations than this is an error: most likely a mistake, and each
// combination is a full scenario run.
constexpr size_t kMaxCombinations = 1000;

// Applies one `--set KEY=VALUE` to `root`: KEY is a dotted path of map keys
// and list indexes ("target.env.DRAIN_TIMEOUT", "faults.0.grace" or
// "faults[0].grace"), VALUE a scalar. A missing map key on the way is
// created. Returns false and sets *error ("--set faults.3.grace=5s: faults
// has 1 item, no index 3") when the text has no '=' or the path leads
// through a scalar or past the end of a list.
bool ApplyOverride(const std::string& assignment, YAML::Node root, std::string* error);

// Reads the `matrix` of the document `root` of `file`. On success returns
// true and sets *combinations to every combination, the first name varying
// slowest; to one empty combination when there is no matrix. On failure
// returns false and sets *error to "file:line:column: message": a matrix
// that is not a map of names to non-empty lists of distinct scalars, or one
// of more than kMaxCombinations combinations.
bool MatrixCombinations(const YAML::Node& root, const std::string& file,
                        std::vector<Combination>* combinations, std::string* error);

// Replaces every ${matrix.NAME} in the scalars of `root` (keys and values,
// the matrix itself aside) with NAME's value in `combination`; "$${" stays
// a literal. Returns false and sets *error to "file:line:column: message"
// when a scalar names a NAME the matrix does not have (with a "did you
// mean"), or when a name of the matrix is used nowhere (its combinations
// would be identical runs).
bool SubstituteMatrix(const Combination& combination, const std::string& file, YAML::Node root,
                      std::string* error);

// How a combination names its run: "grace=1s,drain=500ms". Characters that
// could end the name or the report folder ('/', ',', '=', '%', spaces,
// control characters...) are written as %XX.
std::string CombinationLabel(const Combination& combination);

// Whether `--only only` selects the scenario called `name`: its own name,
// or for a combination of a matrix also the name of the matrix
// ("compare-timeouts" selects "compare-timeouts/grace=1s").
bool SelectedByOnly(const std::string& name, const std::string& only);

}  // namespace lastcall

#endif  // LASTCALL_MATRIX_H_
