// The side-by-side table of a matrix's runs: for each combination
// its values, the verdict, every check, and what the shutdown cost. Pure
// functions over results, so that the console and summary.md show the
// same figures.
#ifndef LASTCALL_MATRIX_TABLE_H_
#define LASTCALL_MATRIX_TABLE_H_

#include <string>
#include <vector>

#include "report/report.h"

namespace lastcall {

// One table: the matrix's name, then rows of cells, the first row the
// column names: the matrix's names, `verdict`, each check but
// refused_while_draining that some run did not skip (pass / fail /
// skipped), then
//   drain      the first graceful signal's delivery -> that instance's exit
//   refused    the figure of refused_while_draining
//   cut        requests the drain dropped (offending entries of `drained`)
//   escalated  faults whose grace ran out (SIGKILL sent)
//   deploy     the first signal -> the next instance ready, or the exit
// A figure that does not apply (no graceful signal, a check not run) is "-".
struct MatrixTable {
  std::string name;
  std::vector<std::vector<std::string>> cells;
};

// The tables of the runs among `results` that are of a matrix: one per
// scenario file, in order of first appearance, a row per run in run order.
// Empty when no run is of a matrix.
std::vector<MatrixTable> MatrixTables(const std::vector<ScenarioResult>& results);

// `table` for a terminal: a title line, then the cells in columns aligned
// with spaces.
std::string MatrixTableText(const MatrixTable& table);

}  // namespace lastcall

#endif  // LASTCALL_MATRIX_TABLE_H_
