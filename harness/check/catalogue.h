// The check catalogue: every check lastcall knows, in report order, with
// what it catches and what a scenario needs for it to apply. The table is
// written once, in checks.cc, each line with the function that runs the
// check, so a check cannot be listed without being run nor run without being
// listed. `lastcall checks` prints it; the JSON Schema's enumeration of check
// names follows it (catalogue_test); a scenario's check names are judged
// against it (check_names.h).
#ifndef LASTCALL_CHECK_CATALOGUE_H_
#define LASTCALL_CHECK_CATALOGUE_H_

#include <string>
#include <vector>

namespace lastcall {

// Every check name the harness knows, in report order.
const std::vector<std::string>& KnownChecks();

// What a check catches and what a scenario needs for it to apply; the one
// place these are written (`lastcall checks` prints them).
struct CheckInfo {
  const char* name;
  const char* catches;
  const char* needs;  // scenario keys; a check without them is skipped
};

// Every check, in KnownChecks() order.
const std::vector<CheckInfo>& CheckCatalogue();

}  // namespace lastcall

#endif  // LASTCALL_CHECK_CATALOGUE_H_
