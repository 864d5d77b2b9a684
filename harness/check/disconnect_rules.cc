// The checks judged from the database server's log: sessions that ended
// without the protocol's Terminate, and those that ended inside a
// transaction, attributed to the instance that opened them.
#include <algorithm>
#include <functional>
#include <map>

#include "check/rules.h"

namespace lastcall {
namespace rules {
namespace {

// How far the server's log and the history's clock may disagree on a
// moment: the log stamps milliseconds (truncated), and a backend logs its
// connection a little after the client made it.
constexpr int64_t kClockSlack = 5000000;  // ns

// The instances that could have opened session `d`: its role's; else, by
// time, those running when it connected (before any other started, only the
// first), or, if none ran then (a process an instance left behind), all that
// had started; all when the moment is unknown.
std::vector<int> InstancesOf(const UncleanDisconnect& d, const AuditInputs& in) {
  if (d.instance > 0) return {d.instance};
  std::vector<int> running, started;
  for (const InstanceRecord& inst : in.instances) {
    if (d.connected >= 0 && inst.start_time - kClockSlack > d.connected) continue;
    started.push_back(inst.id);
    if (d.connected < 0 || inst.exit_time < 0 || d.connected <= inst.exit_time + kClockSlack)
      running.push_back(inst.id);
  }
  return running.empty() ? started : running;
}

// The unclean disconnects of the instances `judged` accepts, and in
// *unattributed those that more than one instance could have opened, one of
// them judged; the count of judged instances in *instances.
std::vector<std::string> DisconnectsOf(const AuditInputs& in, bool open_transaction_only,
                                       const std::function<bool(const InstanceRecord&)>& judged,
                                       size_t* instances,
                                       std::vector<const UncleanDisconnect*>* unattributed) {
  std::vector<std::string> lines;
  std::map<int, bool> judged_ids;
  for (const InstanceRecord& inst : in.instances) judged_ids[inst.id] = judged(inst);
  *instances =
      std::count_if(judged_ids.begin(), judged_ids.end(), [](const auto& id) { return id.second; });
  for (const UncleanDisconnect& d : *in.unclean_disconnects) {
    if (open_transaction_only && !d.open_transaction) continue;
    std::vector<int> candidates = InstancesOf(d, in);
    bool any_judged =
        std::any_of(candidates.begin(), candidates.end(), [&](int id) { return judged_ids[id]; });
    if (!any_judged) continue;
    if (candidates.size() == 1)
      lines.push_back(d.line);
    else
      unattributed->push_back(&d);
  }
  return lines;
}

// Why `sessions` could not be attributed to an instance, for a skip.
std::string UnattributedReason(const std::vector<const UncleanDisconnect*>& sessions,
                               const AuditInputs& in) {
  std::vector<std::string> roles;
  for (const UncleanDisconnect* d : sessions)
    if (std::find(roles.begin(), roles.end(), d->role) == roles.end()) roles.push_back(d->role);
  std::string names;
  for (const std::string& role : roles) names += (names.empty() ? "" : ", ") + role;
  return std::to_string(sessions.size()) +
         " sessions could not be attributed to an instance: they logged in as " + names +
         ", not as an instance's role, and more than one instance could have opened them" +
         (in.roles_error.empty()
              ? ""
              : " (instances have no role of their own: " + in.roles_error + ")");
}

// A check over the unclean disconnects: fails on those of a judged instance;
// skipped when none failed but some could not be attributed (they may be a
// judged instance's); `summary` says what was found of how many instances.
CheckResult JudgeDisconnects(const std::string& name, const AuditInputs& in,
                             bool open_transaction_only,
                             const std::function<bool(const InstanceRecord&)>& judged,
                             const std::string& none_judged,
                             const std::function<std::string(size_t, size_t)>& summary) {
  if (!in.unclean_disconnects) return Skip(name, "no server log (external database)");
  size_t instances = 0;
  std::vector<const UncleanDisconnect*> unattributed;
  std::vector<std::string> lines =
      DisconnectsOf(in, open_transaction_only, judged, &instances, &unattributed);
  if (instances == 0) return Skip(name, none_judged);
  if (lines.empty() && !unattributed.empty())
    return Skip(name, UnattributedReason(unattributed, in));
  CheckResult r = Finish(name, std::move(lines), "", 0);
  r.summary = summary(r.offending.size(), instances);
  if (!unattributed.empty())
    r.summary += "; " + std::to_string(unattributed.size()) + " more not attributed to an instance";
  return r;
}

}  // namespace

CheckResult CheckUncleanDisconnects(const AuditInputs& in) {
  return JudgeDisconnects(
      "unclean_disconnects", in, false,
      [&](const InstanceRecord& inst) {
        GracefulSignal g = GracefulSignalOf(in, inst);
        return g.fault && !g.cut_short && !KilledBySigkill(inst);
      },
      "no instance shut down on a graceful signal without SIGKILL",
      [](size_t found, size_t instances) {
        return std::to_string(found) +
               " database sessions closed without Terminate (unexpected EOF) by " +
               std::to_string(instances) + " instance(s) after a graceful signal";
      });
}

CheckResult CheckTransactionsAbandoned(const AuditInputs& in) {
  return JudgeDisconnects(
      "transactions_abandoned", in, true,
      [](const InstanceRecord& inst) { return !KilledBySigkill(inst); },
      "every instance was SIGKILLed",
      [](size_t found, size_t instances) {
        return std::to_string(found) + " sessions disconnected inside a transaction, from " +
               std::to_string(instances) + " instance(s) not SIGKILLed";
      });
}

}  // namespace rules
}  // namespace lastcall
