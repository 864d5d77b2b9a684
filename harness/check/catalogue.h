#ifndef LASTCALL_CHECK_CATALOGUE_H_
#define LASTCALL_CHECK_CATALOGUE_H_

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
