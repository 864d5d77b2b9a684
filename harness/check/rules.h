// What the check rules share, internal to check/: building a check's
// result, and the graceful signal each instance got. checks.cc holds the
// catalogue and the rules over the history and the audit's keys;
// disconnect_rules.cc the rules over the database server's log.
#ifndef LASTCALL_CHECK_RULES_H_
#define LASTCALL_CHECK_RULES_H_

#include <string>
#include <vector>

#include "check/checks.h"

namespace lastcall {
namespace rules {

// "1.5s".
std::string FormatSeconds(Duration d);

// A check's result: it fails when it has offending entries; the summary
// says "N of OUT_OF WHAT". `unlisted`: offending entries counted, not kept
// (see CheckResult).
CheckResult Finish(const std::string& name, std::vector<std::string> offending,
                   const std::string& what, size_t out_of, size_t unlisted = 0);

// A check that could not be judged, and why.
CheckResult Skip(const std::string& name, const std::string& reason);

// The graceful signal an instance got from the scenario's faults, if any.
struct GracefulSignal {
  const Fault* fault = nullptr;
  const FaultRecord* record = nullptr;
  // A KILL fault reached the instance before it exited: the scenario itself
  // cut its shutdown short, so how it shut down cannot be judged.
  bool cut_short = false;
  int64_t cut_time = -1;  // when
};

GracefulSignal GracefulSignalOf(const AuditInputs& in, const InstanceRecord& inst);

// The instance ended by SIGKILL.
bool KilledBySigkill(const InstanceRecord& inst);

// unclean_disconnects and transactions_abandoned (disconnect_rules.cc).
CheckResult CheckUncleanDisconnects(const AuditInputs& in);
CheckResult CheckTransactionsAbandoned(const AuditInputs& in);

}  // namespace rules
}  // namespace lastcall

#endif  // LASTCALL_CHECK_RULES_H_
