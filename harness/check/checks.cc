#include "check/checks.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <unordered_set>

#include "check/rules.h"

namespace lastcall {

using namespace rules;  // the helpers the rules share (rules.h)

const char* CheckStatusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kPass:
      return "pass";
    case CheckStatus::kFail:
      return "fail";
    case CheckStatus::kSkipped:
      return "skipped";
    case CheckStatus::kInfo:
      return "info";
  }
  return "?";
}

void AppliedFold::Add(const std::string& key, int64_t times) {
  std::optional<int64_t> seq = History::SeqOfKey(seed_, key);
  size_t* index = nullptr;
  if (seq && *seq < static_cast<int64_t>(index_of_seq_.size())) {
    index = &index_of_seq_[static_cast<size_t>(*seq)];
  } else {
    auto found = index_of_foreign_.find(key);
    if (found != index_of_foreign_.end()) {
      index = &found->second;
    } else if (index_of_foreign_.size() < kForeignKeysKept) {
      index = &index_of_foreign_.emplace(key, kNone).first->second;
    } else {
      ++unkept_->rows;
      unkept_->applied += times > 0;
      unkept_->repeated += times > 1;
      return;
    }
  }
  if (*index == kNone) {
    *index = applied_->size();
    applied_->emplace_back(key, 0);
  }
  (*applied_)[*index].second += times;
}

namespace {

// What the run knows of one request, by seq.
struct KeyFacts {
  std::optional<Outcome> outcome;  // over its attempts; nullopt: never sent
  int64_t applied = 0;             // times the database applied it
  bool returned = false;           // audit.applied returned it
};

// Facts several checks need, computed once. Keys are looked up by seq, not
// by their text: over a million keys, strings cost seconds and hundreds of
// MB.
struct Facts {
  uint64_t seed = 0;
  std::vector<KeyFacts> keys;  // indexed by seq
  // Keys audit.applied returned that no client sent (not ours, another
  // seed's, a seq never sent), with the times applied.
  std::unordered_map<std::string, int64_t> unsent;
  // Each instance's drain (DrainWindowsOf).
  std::vector<DrainWindow> drains;
};

void GatherKeys(const AuditInputs& in, Facts* facts) {
  std::vector<std::optional<Outcome>> outcomes = in.history->KeyOutcomes();
  facts->keys.resize(outcomes.size());
  for (size_t seq = 0; seq < outcomes.size(); ++seq) facts->keys[seq].outcome = outcomes[seq];
  for (const auto& [text, times] : in.applied) {
    std::optional<int64_t> seq = History::SeqOfKey(facts->seed, text);
    if (seq && *seq < static_cast<int64_t>(outcomes.size()) &&
        facts->keys[static_cast<size_t>(*seq)].outcome) {
      KeyFacts& key = facts->keys[static_cast<size_t>(*seq)];
      key.returned = true;
      key.applied += times;
    } else {
      facts->unsent[text] += times;
    }
  }
}

Facts Gather(const AuditInputs& in) {
  Facts facts;
  facts.seed = in.scenario->seed;
  GatherKeys(in, &facts);
  facts.drains = DrainWindowsOf(in);
  return facts;
}

// Says that rows of keys lastcall never sent were counted, not kept, when
// `counted` of them are in r's count.
void NoteUnkept(const UnkeptRows& unkept, int64_t counted, CheckResult* r) {
  if (counted == 0) return;
  r->summary += "; audit.applied returned " + std::to_string(unkept.rows) +
                " more rows of keys lastcall never sent, past the first " +
                std::to_string(AppliedFold::kForeignKeysKept) +
                " such keys: counted, not listed (does it return only the run's keys?)";
}

// The keys whose outcome is `outcome` and whose applied count matches.
std::vector<std::string> KeysWhere(const Facts& facts, Outcome outcome,
                                   const std::function<bool(int64_t)>& applied) {
  std::vector<std::string> keys;
  for (size_t seq = 0; seq < facts.keys.size(); ++seq) {
    const KeyFacts& key = facts.keys[seq];
    if (key.outcome == outcome && applied(key.applied))
      keys.push_back(History::KeyFor(facts.seed, static_cast<int64_t>(seq)));
  }
  return keys;
}

size_t CountOutcome(const Facts& facts, Outcome outcome) {
  return std::count_if(facts.keys.begin(), facts.keys.end(),
                       [&](const KeyFacts& key) { return key.outcome == outcome; });
}

CheckResult CheckLost(const AuditInputs&, const Facts& facts) {
  return Finish("lost", KeysWhere(facts, Outcome::kOk, [](int64_t n) { return n == 0; }),
                "acknowledged payments are not in the database", CountOutcome(facts, Outcome::kOk));
}

CheckResult CheckDuplicated(const AuditInputs& in, const Facts& facts) {
  std::vector<std::string> keys;
  auto add = [&](const std::string& key, int64_t times) {
    keys.push_back(key + " (applied " + std::to_string(times) + "x)");
  };
  for (size_t seq = 0; seq < facts.keys.size(); ++seq)
    if (facts.keys[seq].applied > 1)
      add(History::KeyFor(facts.seed, static_cast<int64_t>(seq)), facts.keys[seq].applied);
  for (const auto& [key, times] : facts.unsent)
    if (times > 1) add(key, times);
  std::sort(keys.begin(), keys.end());
  const size_t returned = facts.unsent.size() + static_cast<size_t>(in.unkept.rows) +
                          std::count_if(facts.keys.begin(), facts.keys.end(),
                                        [](const KeyFacts& key) { return key.returned; });
  CheckResult r = Finish("duplicated", std::move(keys), "applied keys were applied more than once",
                         returned, static_cast<size_t>(in.unkept.repeated));
  NoteUnkept(in.unkept, in.unkept.repeated, &r);
  return r;
}

CheckResult CheckPhantom(const AuditInputs& in, const Facts& facts) {
  std::vector<std::string> keys =
      KeysWhere(facts, Outcome::kFailed, [](int64_t n) { return n >= 1; });
  // A key the database holds that no client ever sent is a phantom too.
  std::vector<std::string> unsent;
  for (const auto& [key, times] : facts.unsent)
    if (times > 0) unsent.push_back(key + " (never sent)");
  std::sort(unsent.begin(), unsent.end());
  keys.insert(keys.end(), unsent.begin(), unsent.end());
  CheckResult r =
      Finish("phantom", std::move(keys), "payments reported as failed were applied",
             CountOutcome(facts, Outcome::kFailed), static_cast<size_t>(in.unkept.applied));
  NoteUnkept(in.unkept, in.unkept.applied, &r);
  return r;
}

CheckResult CheckInvariants(const AuditInputs& in, const Facts&) {
  if (in.scenario->audit.invariants.empty())
    return Skip("invariants", "the scenario defines no invariant");
  std::vector<std::string> violations;
  size_t unlisted = 0;
  for (const InvariantResult& inv : in.invariants) {
    for (const std::string& row : inv.rows) violations.push_back(inv.name + ": " + row);
    unlisted += static_cast<size_t>(inv.unlisted_rows);
  }
  return Finish("invariants", std::move(violations), "invariants violated", in.invariants.size(),
                unlisted);
}

// "lc-1-4 attempt 2: HTTP 503", "lc-1-4 attempt 1: eof (dropped after read)".
std::string DescribeAttempt(const Facts& facts, const Attempt& a) {
  std::string text =
      History::KeyFor(facts.seed, a.seq) + " attempt " + std::to_string(a.attempt) + ": " +
      (a.status ? "HTTP " + std::to_string(a.status) : std::string(NetErrorName(a.error)));
  // What the kernel adds to a connection that ended without an answer.
  if (a.status == 0 && (a.error == NetError::kReset || a.error == NetError::kEof ||
                        a.error == NetError::kWriteFailed))
    text += std::string(" (") + CauseName(a.cause) + ")";
  if (a.cause == Cause::kHttp503InFlight) text += " (read before the signal)";
  return text;
}

// The drain attempt `a` lived in: it ended after the graceful signal and
// began before the instance was gone. nullptr if none, or if a KILL fault
// of the scenario cut the drain short before `a` ended.
const DrainWindow* DrainOf(const Facts& facts, const Attempt& a) {
  for (const DrainWindow& d : facts.drains) {
    if (a.done <= d.begin || a.send_start > d.end) continue;
    if (d.cut_short && a.done >= d.end) return nullptr;
    return &d;
  }
  return nullptr;
}

// Counts by cause, "12 refused, 3 reset in accept queue", in Cause order.
std::string CountsByCause(const std::map<Cause, size_t>& counts) {
  std::string text;
  for (const auto& [cause, n] : counts)
    text += (text.empty() ? "" : ", ") + std::to_string(n) + " " + CauseName(cause);
  return text;
}

// Judges every attempt that lived during a drain: the target took it
// unless the kernel says it never did (refused, reset in the accept
// queue, closed before the request reached it) or it answered 503 to a
// request it had not read before the signal; what it took must be answered. An attempt lost on a
// connection that a drain-time response kept alive is unannounced_close's to judge. Without a
// kernel record, the window rule of old decides: a request written `settle` before the signal was
// in flight, and an unknown outcome drops it.
CheckResult CheckDrained(const AuditInputs& in, const Facts& facts) {
  if (facts.drains.empty()) return Skip("drained", "no graceful signal was delivered");
  std::vector<std::string> dropped;
  size_t taken = 0, by_window = 0;
  for (const auto& client : in.history->all_attempts()) {
    for (const Attempt& a : client) {
      const DrainWindow* drain = DrainOf(facts, a);
      // Without a kernel view nothing says whether a 503 was for work in
      // hand: the window decides, as for a reset.
      const bool by_the_window = a.cause == Cause::kNoKernelRecord ||
                                 (a.cause == Cause::kHttp503 && !in.kernel_view_missing.empty());
      if (!drain || a.cause == Cause::kClosedAfterKeepAlive ||
          (IsRefusal(a.cause) && !by_the_window))
        continue;
      bool drop = IsDrop(a.cause);
      if (by_the_window) {
        ++by_window;
        const bool in_flight = a.send_end >= 0 && a.send_end <= drain->begin - in.settle.count();
        if (!in_flight) continue;
        drop = a.outcome == Outcome::kUnknown || a.status == 503;
      }
      ++taken;
      if (drop) dropped.push_back(DescribeAttempt(facts, a));
    }
  }
  CheckResult r = Finish("drained", std::move(dropped),
                         "requests the target took during a drain were dropped", taken);
  if (!in.kernel_view_missing.empty())
    r.summary += "; no kernel view (" + in.kernel_view_missing + "): judged by the " +
                 FormatSeconds(in.settle) + " window";
  else if (by_window > 0)
    r.summary += "; " + std::to_string(by_window) +
                 " ended without a kernel record, judged by the " + DurationText(in.settle) +
                 " window";
  return r;
}

CheckResult CheckRefusedWhileDraining(const AuditInputs& in, const Facts& facts) {
  if (facts.drains.empty())
    return Skip("refused_while_draining", "no graceful signal was delivered");
  std::map<Cause, size_t> refused;
  size_t total = 0;
  for (const auto& client : in.history->all_attempts())
    for (const Attempt& a : client)
      if (IsRefusal(a.cause) && DrainOf(facts, a)) {
        ++refused[a.cause];
        ++total;
      }
  CheckResult r;
  r.name = "refused_while_draining";
  r.status = CheckStatus::kInfo;
  r.summary = std::to_string(total) + " requests were never taken during a drain" +
              (total ? " (" + CountsByCause(refused) + ")" : "");
  return r;
}

// Each request lost on a connection that a response written during a drain
// had kept alive (cause "closed after keep-alive response", causes.h): the
// client lost it to a race the target made; Envoy and Go's server answer
// with `Connection: close` while draining for exactly this reason.
CheckResult CheckUnannouncedClose(const AuditInputs& in, const Facts& facts) {
  if (facts.drains.empty()) return Skip("unannounced_close", "no graceful signal was delivered");
  if (!in.scenario->load.keep_alive)
    return Skip("unannounced_close", "load.keep_alive is false: no connection is reused");
  std::vector<std::string> closed;
  size_t reused = 0;
  for (const auto& client : in.history->all_attempts()) {
    for (size_t i = 0; i < client.size(); ++i) {
      const Attempt& a = client[i];
      if (!a.reused_connection || !DrainOf(facts, a)) continue;
      ++reused;
      if (a.cause != Cause::kClosedAfterKeepAlive) continue;
      std::string text =
          DescribeAttempt(facts, a) + ", on connection " + std::to_string(a.connection);
      if (i > 0 && client[i - 1].connection == a.connection)
        text += " kept alive by HTTP " + std::to_string(client[i - 1].status) + " at " +
                FormatSeconds(Duration(client[i - 1].done));
      closed.push_back(text);
    }
  }
  return Finish("unannounced_close", std::move(closed),
                "requests on connections reused during a drain were lost to a close that a "
                "drain-time response had not announced",
                reused);
}

bool IsCleanExit(const Scenario& s, const ExitStatus& status) {
  return std::find(s.target.clean_exit.begin(), s.target.clean_exit.end(), status) !=
         s.target.clean_exit.end();
}

}  // namespace

std::vector<DrainWindow> DrainWindowsOf(const AuditInputs& in) {
  std::vector<DrainWindow> drains;
  for (const InstanceRecord& inst : in.instances) {
    GracefulSignal graceful = GracefulSignalOf(in, inst);
    if (!graceful.fault) continue;
    DrainWindow d;
    d.begin = graceful.record->delivery_time;
    d.instance = inst.id;
    d.cut_short = graceful.cut_short;
    if (graceful.cut_short)
      d.end = graceful.cut_time;
    else if (inst.exit_time >= 0)
      d.end = inst.exit_time;
    drains.push_back(d);
  }
  std::sort(drains.begin(), drains.end(),
            [](const DrainWindow& a, const DrainWindow& b) { return a.begin < b.begin; });
  return drains;
}

namespace {

CheckResult CheckExit(const AuditInputs& in, const Facts&) {
  std::vector<std::string> problems;
  size_t judged = 0;
  for (const InstanceRecord& inst : in.instances) {
    GracefulSignal graceful = GracefulSignalOf(in, inst);
    if (!graceful.fault || graceful.cut_short) continue;
    ++judged;
    std::string who = "instance " + std::to_string(inst.id);
    std::string sig = SignalName(graceful.fault->signal);
    if (graceful.record->grace_expired) {
      problems.push_back(who + ": still running " + FormatSeconds(graceful.fault->grace) +
                         " after " + sig +
                         (graceful.record->escalated
                              ? ", " + SignalName(graceful.fault->escalation_signal) + " was needed"
                              : " (the sender does not escalate)"));
    } else if (!inst.exit || inst.stopped_by_harness) {
      problems.push_back(who + ": did not exit by itself after " + sig);
    } else if (!IsCleanExit(*in.scenario, *inst.exit)) {
      problems.push_back(who + ": " + inst.exit->ToString() + " after " + sig +
                         (inst.exit->by_signal ? " (the signal was not handled)" : ""));
    } else if (inst.exit_time - graceful.record->delivery_time > graceful.fault->grace.count()) {
      problems.push_back(who + ": exited after the grace period");
    }
  }
  if (judged == 0) return Skip("exit", "no graceful signal reached a target instance");
  return Finish("exit", std::move(problems),
                "instances did not exit cleanly within grace after a graceful signal", judged);
}

// A check that fails on any item of a list the run gathered, skipped when
// the list could not be gathered.
CheckResult CheckLeftovers(const std::string& name,
                           const std::optional<std::vector<std::string>>& items,
                           const std::string& what, const std::string& skip_reason) {
  if (!items) return Skip(name, skip_reason);
  CheckResult r = Finish(name, *items, what, items->size());
  r.summary = std::to_string(items->size()) + " " + what;
  return r;
}

CheckResult CheckOrphans(const AuditInputs& in, const Facts&) {
  return CheckLeftovers("orphans", in.orphans,
                        "processes of the target outlived it (killed by lastcall)",
                        "the run's processes were not looked for");
}

CheckResult CheckTempFiles(const AuditInputs& in, const Facts&) {
  return CheckLeftovers("temp_files", in.temp_files, "files left in the target's TMPDIR",
                        "every instance was SIGKILLed: none could clean up");
}

CheckResult CheckConnectionsLeaked(const AuditInputs& in, const Facts&) {
  if (!in.leaked_sessions) return Skip("connections_leaked", "pg_stat_activity could not be read");
  return Finish("connections_leaked", *in.leaked_sessions,
                "target sessions remained after the target's processes were gone "
                "(the server had up to 2 s to notice)",
                in.leaked_sessions->size());
}

// Every attempt sent during the rolling restart that did not end ok is an
// error a client saw (a retry that later succeeded hides it from the key's
// outcome, not from the user who waited for it).
CheckResult CheckClientErrors(const AuditInputs& in, const Facts& facts) {
  const RollingRestart& deploy = in.scenario->load_balancer.rolling_restart;
  if (!deploy.enabled) return Skip("client_errors", "no rolling restart behind a load balancer");
  if (in.deploy_start < 0) return Skip("client_errors", "the rolling restart never began");
  const int64_t end = in.deploy_end >= 0 ? in.deploy_end : INT64_MAX;
  std::vector<std::string> errors;
  size_t attempts = 0;
  for (const auto& client : in.history->all_attempts())
    for (const Attempt& a : client) {
      if (a.send_start < in.deploy_start || a.send_start > end) continue;
      ++attempts;
      if (a.outcome != Outcome::kOk) errors.push_back(DescribeAttempt(facts, a));
    }
  CheckResult r;
  r.name = "client_errors";
  r.status = static_cast<int64_t>(errors.size()) > deploy.allowed_client_errors
                 ? CheckStatus::kFail
                 : CheckStatus::kPass;
  char duration[48] = "an unfinished deploy";
  if (in.deploy_end >= 0)
    std::snprintf(duration, sizeof duration, "the %.2f s deploy",
                  static_cast<double>(in.deploy_end - in.deploy_start) / 1e9);
  r.summary = std::to_string(errors.size()) + " of " + std::to_string(attempts) +
              " attempts during " + duration + " failed or ended unknown (" +
              std::to_string(deploy.allowed_client_errors) + " allowed)";
  r.offending = std::move(errors);
  return r;
}

// Each enqueued job must take effect exactly once, or still wait in the
// queue. A job in the processing list is not lost (a restart hands it back),
// but after a graceful shutdown nothing may be left there.
CheckResult CheckJobs(const AuditInputs& in, const Facts&) {
  if (!in.jobs) return Skip("jobs", "the scenario enqueues no jobs");
  const JobsAudit& jobs = *in.jobs;
  const std::unordered_set<std::string> queued(jobs.queue.begin(), jobs.queue.end());
  const std::unordered_set<std::string> held(jobs.processing.begin(), jobs.processing.end());
  const bool graceful_end = !in.instances.empty() && !KilledBySigkill(in.instances.back());
  std::vector<std::string> offending;
  size_t lost = 0, duplicated = 0, stranded = 0, done = 0;
  for (const std::string& id : jobs.enqueued) {
    auto found = jobs.done.find(id);
    const int64_t times = found == jobs.done.end() ? 0 : found->second;
    done += times > 0;
    if (times > 1) {
      ++duplicated;
      offending.push_back(id + " (took effect " + std::to_string(times) + "x)");
    } else if (times == 0 && !queued.count(id) && !held.count(id)) {
      ++lost;
      offending.push_back(id + " (lost: never took effect, in neither list)");
    }
    if (graceful_end && held.count(id)) {
      ++stranded;
      offending.push_back(id + " (stranded in " + jobs.processing_list +
                          " after a graceful shutdown)");
    }
  }
  const std::unordered_set<std::string> enqueued(jobs.enqueued.begin(), jobs.enqueued.end());
  std::vector<std::string> unknown;
  for (const auto& [id, times] : jobs.done)
    if (times > 0 && !enqueued.count(id)) unknown.push_back(id + " (took effect, never enqueued)");
  std::sort(unknown.begin(), unknown.end());
  offending.insert(offending.end(), unknown.begin(), unknown.end());
  CheckResult r = Finish("jobs", std::move(offending), "", 0);
  r.summary = std::to_string(jobs.enqueued.size()) + " jobs enqueued, " + std::to_string(done) +
              " done, " + std::to_string(queued.size()) + " still queued: " + std::to_string(lost) +
              " lost, " + std::to_string(duplicated) + " duplicated, " + std::to_string(stranded) +
              " stranded" + (graceful_end ? "" : " (not judged: the last instance was SIGKILLed)") +
              (unknown.empty() ? "" : ", " + std::to_string(unknown.size()) + " never enqueued");
  return r;
}

CheckResult CheckFaults(const AuditInputs& in, const Facts&) {
  std::vector<std::string> unfired;
  for (size_t i = 0; i < in.faults.size(); ++i)
    if (!in.faults[i].fired)
      unfired.push_back("fault " + std::to_string(i + 1) + " at " +
                        in.scenario->faults[i].location.ToString());
  return Finish("faults", std::move(unfired), "faults never fired", in.faults.size());
}

// The instance a connection made at `time` reached: the last one started
// before it (instances run one after another).
const InstanceRecord* InstanceAt(const AuditInputs& in, int64_t time) {
  const InstanceRecord* found = nullptr;
  for (const InstanceRecord& inst : in.instances)
    if (inst.start_time >= 0 && inst.start_time <= time) found = &inst;
  return found;
}

// Judges the WebSocket connections open when a graceful signal reached
// their instance, if that instance was let shut down by itself (no SIGKILL
// fault, no SIGKILL escalation): each must end with the server's close
// frame, code 1001 (Going Away). A client that never connected fails too
// (the scenario could prove nothing with it).
CheckResult CheckWebSocketClose(const AuditInputs& in, const Facts&) {
  if (in.scenario->load.websockets.clients == 0)
    return Skip("websocket_close", "the scenario has no load.websockets");
  std::vector<std::string> problems;
  size_t judged = 0;
  int64_t messages = 0, slowest_close = -1;
  for (const WebSocketConnection& w : in.history->websockets()) {
    messages += w.messages;
    const std::string who = "websocket client " + std::to_string(w.client);
    if (w.connected < 0) {
      ++judged;
      problems.push_back(who + ": never connected (" + w.error + ")");
      continue;
    }
    const InstanceRecord* inst = InstanceAt(in, w.connected);
    GracefulSignal graceful = inst ? GracefulSignalOf(in, *inst) : GracefulSignal{};
    if (!graceful.fault || graceful.cut_short || KilledBySigkill(*inst)) continue;
    const int64_t signal = graceful.record->delivery_time;
    if (w.ended < signal) continue;  // gone before the shutdown began
    ++judged;
    const std::string after = " after " + SignalName(graceful.fault->signal);
    if (w.closed_by_lastcall)
      problems.push_back(who + ": still open at the end of the run" + after +
                         " (lastcall closed it)");
    else if (!w.close_frame)
      problems.push_back(who + ": the TCP connection ended without a close frame (" + w.error +
                         ")" + after);
    else if (w.close_code != 1001)
      problems.push_back(who + ": close code " + std::to_string(w.close_code) + after +
                         ", not 1001 (Going Away)");
    else
      slowest_close = std::max(slowest_close, w.close_time - signal);
  }
  if (judged == 0 && problems.empty())
    return Skip("websocket_close",
                "no WebSocket connection was open when a graceful signal reached its "
                "instance (or that instance was SIGKILLed)");
  CheckResult r = Finish("websocket_close", std::move(problems),
                         "WebSocket connections open at a graceful signal were not closed "
                         "with 1001 (Going Away)",
                         judged);
  r.summary += "; " + std::to_string(messages) + " messages received";
  if (slowest_close >= 0) {
    char figure[64];
    std::snprintf(figure, sizeof figure, "; the last close frame %.1f ms after the signal",
                  static_cast<double>(slowest_close) / 1e6);
    r.summary += figure;
  }
  return r;
}

using CheckFunction = CheckResult (*)(const AuditInputs&, const Facts&);

// The check catalogue (catalogue.h): each check with its function, what it
// catches and what it needs, in report order.
struct CatalogueLine {
  const char* name;
  CheckFunction check;
  const char* catches;
  const char* needs;
};

const std::vector<CatalogueLine>& Catalogue() {
  static const std::vector<CatalogueLine> kLines = {
      {"lost", CheckLost, "a payment acknowledged (2xx) that is not in the database",
       "audit.applied; ${key} in load.request"},
      {"duplicated", CheckDuplicated, "a payment applied more than once (a double charge)",
       "audit.applied; ${key} in load.request"},
      {"phantom", CheckPhantom, "a payment the target said failed that was applied after all",
       "audit.applied; ${key} in load.request"},
      {"invariants", CheckInvariants, "an audit.invariants query that returns rows",
       "audit.invariants"},
      {"drained", CheckDrained,
       "a request the target took (in flight at a graceful signal, or accepted during the "
       "drain) that got no answer, or a 5xx other than 503; the kernel tells taken from "
       "never accepted",
       "a fault with a graceful signal (TERM, INT...)"},
      {"unannounced_close", CheckUnannouncedClose,
       "a response during a drain that kept its connection alive (no Connection: close), "
       "then the target closed that connection under the client's next request",
       "a fault with a graceful signal; load.keep_alive"},
      {"refused_while_draining", CheckRefusedWhileDraining,
       "reported, never failed: requests never taken while draining, by cause",
       "a fault with a graceful signal"},
      {"exit", CheckExit,
       "no exit by itself within the grace with a target.clean_exit status (SIGKILL "
       "needed), or death by a signal it should handle",
       "a fault with a graceful signal; target.clean_exit"},
      {"connections_leaked", CheckConnectionsLeaked,
       "database sessions of the target still open (or idle in transaction) after it exited",
       "the target uses the run's database (any role)"},
      {"unclean_disconnects",
       [](const AuditInputs& in, const Facts&) { return CheckUncleanDisconnects(in); },
       "a session that ended without the protocol's Terminate message after a graceful signal",
       "the embedded database; a fault with a graceful signal"},
      {"transactions_abandoned",
       [](const AuditInputs& in, const Facts&) { return CheckTransactionsAbandoned(in); },
       "a session that disconnected inside a transaction", "the embedded database"},
      {"orphans", CheckOrphans,
       "a process the target started that outlived it (double forks included)", "nothing"},
      {"temp_files", CheckTempFiles, "files left in the private TMPDIR the target was given",
       "the target writes temp files under $TMPDIR"},
      {"jobs", CheckJobs, "a background job enqueued and never done, or done twice", "jobs, redis"},
      {"websocket_close", CheckWebSocketClose,
       "a WebSocket closed without a close frame (1001 Going Away)",
       "load.websockets; a fault with a graceful signal"},
      {"client_errors", CheckClientErrors,
       "more client errors during a rolling restart than "
       "load_balancer.rolling_restart.allowed_client_errors",
       "load_balancer.rolling_restart"},
      {"faults", CheckFaults, "a fault that never fired (a signal that never came proves nothing)",
       "faults"},
  };
  return kLines;
}

}  // namespace

const std::vector<CheckInfo>& CheckCatalogue() {
  static const std::vector<CheckInfo> kChecks = [] {
    std::vector<CheckInfo> checks;
    for (const CatalogueLine& line : Catalogue())
      checks.push_back({line.name, line.catches, line.needs});
    return checks;
  }();
  return kChecks;
}

const std::vector<std::string>& KnownChecks() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const CheckInfo& check : CheckCatalogue()) names.push_back(check.name);
    return names;
  }();
  return kNames;
}

std::vector<CheckResult> RunChecks(const AuditInputs& in) {
  Facts facts = Gather(in);
  const std::vector<std::string>& wanted = in.scenario->audit.checks;
  std::vector<CheckResult> results;
  for (const CatalogueLine& line : Catalogue()) {
    bool asked =
        wanted.empty() || std::find(wanted.begin(), wanted.end(), line.name) != wanted.end();
    if (asked) results.push_back(line.check(in, facts));
  }
  return results;
}

bool ExpectationMet(const Expectation& expect, const std::vector<CheckResult>& results,
                    std::string* why) {
  std::vector<std::string> missing;
  if (expect.pass) {
    for (const CheckResult& r : results)
      if (r.status == CheckStatus::kFail && expect.MustPass(r.name))
        missing.push_back(r.name + " failed");
  } else {
    for (const std::string& name : expect.fail_checks) {
      auto it = std::find_if(results.begin(), results.end(),
                             [&](const CheckResult& r) { return r.name == name; });
      if (it == results.end())
        missing.push_back("expected " + name + " to fail, it did not run");
      else if (it->status != CheckStatus::kFail)
        missing.push_back("expected " + name + " to fail, it was " + CheckStatusName(it->status));
    }
  }
  why->clear();
  for (const std::string& m : missing) *why += (why->empty() ? "" : "; ") + m;
  return missing.empty();
}

}  // namespace lastcall
