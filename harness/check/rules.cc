#include "check/rules.h"

#include <csignal>
#include <cstdio>

namespace lastcall {
namespace rules {

std::string FormatSeconds(Duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%gs", static_cast<double>(d.count()) / 1e9);
  return text;
}

CheckResult Finish(const std::string& name, std::vector<std::string> offending,
                   const std::string& what, size_t out_of, size_t unlisted) {
  CheckResult r;
  r.name = name;
  r.offending = std::move(offending);
  r.unlisted = unlisted;
  r.status = r.OffendingCount() == 0 ? CheckStatus::kPass : CheckStatus::kFail;
  r.summary = std::to_string(r.OffendingCount()) + " of " + std::to_string(out_of) + " " + what;
  return r;
}

CheckResult Skip(const std::string& name, const std::string& reason) {
  CheckResult r;
  r.name = name;
  r.status = CheckStatus::kSkipped;
  r.summary = reason;
  return r;
}

GracefulSignal GracefulSignalOf(const AuditInputs& in, const InstanceRecord& inst) {
  const Scenario& s = *in.scenario;
  GracefulSignal found;
  for (size_t i = 0; i < in.faults.size(); ++i) {
    const FaultRecord& r = in.faults[i];
    if (r.instance != inst.id || r.delivery_time < 0 || s.faults[i].kind != Fault::Kind::kSignal)
      continue;
    if (IsGraceful(s.faults[i].signal)) {
      if (!found.fault) {
        found.fault = &s.faults[i];
        found.record = &r;
      }
    } else if (s.faults[i].signal == SIGKILL && found.fault && !found.cut_short &&
               (inst.exit_time < 0 || r.delivery_time < inst.exit_time)) {
      found.cut_short = true;
      found.cut_time = r.delivery_time;
    }
  }
  return found;
}

bool KilledBySigkill(const InstanceRecord& inst) {
  return inst.exit && inst.exit->by_signal && inst.exit->value == SIGKILL;
}

}  // namespace rules
}  // namespace lastcall
