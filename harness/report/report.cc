#include "report/report.h"

#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "base/visible_text.h"

namespace lastcall {

using nlohmann::json;

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kMet:
      return "met";
    case Verdict::kNotMet:
      return "not met";
    case Verdict::kBadInput:
      return "bad input";
    case Verdict::kInfrastructure:
      return "infrastructure failure";
    case Verdict::kInterrupted:
      return "interrupted";
    case Verdict::kInvalid:
      return "invalid";
  }
  return "?";
}

int SuiteExitCode(const std::map<Verdict, int>& count) {
  auto any = [&](Verdict verdict) {
    auto it = count.find(verdict);
    return it != count.end() && it->second > 0;
  };
  // A run lastcall could not judge makes the whole suite's verdicts
  // unreliable; a target that fails without a fault makes its other
  // failures suspect: both come before a plain failure.
  if (any(Verdict::kInfrastructure)) return kExitInfrastructure;
  if (any(Verdict::kBadInput)) return kExitBadInput;
  if (any(Verdict::kInvalid)) return kExitInvalid;
  if (any(Verdict::kNotMet) || any(Verdict::kInterrupted)) return kExitNotMet;
  return kExitAllMet;
}

std::string NameList(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::vector<std::string> FailedCheckNames(const std::vector<CheckResult>& checks) {
  std::vector<std::string> names;
  for (const CheckResult& c : checks)
    if (c.status == CheckStatus::kFail) names.push_back(c.name);
  return names;
}

void CountRequests(const History& history, ScenarioResult* result) {
  int64_t by_cause[static_cast<int>(Cause::kNoKernelRecord) + 1] = {};
  for (const auto& client : history.all_attempts()) {
    result->attempts += static_cast<int64_t>(client.size());
    for (const Attempt& a : client) ++by_cause[static_cast<int>(a.cause)];
  }
  for (int c = static_cast<int>(Cause::kNone) + 1; c <= static_cast<int>(Cause::kNoKernelRecord);
       ++c)
    if (by_cause[c] > 0) result->causes[CauseName(static_cast<Cause>(c))] = by_cause[c];
  for (const std::optional<Outcome>& outcome : history.KeyOutcomes()) {
    if (!outcome) continue;
    ++result->requests;
    (*outcome == Outcome::kOk       ? result->ok
     : *outcome == Outcome::kFailed ? result->failed
                                    : result->unknown)++;
  }
}

std::string KeyOf(const std::string& offending) {
  if (offending.rfind("lc-", 0) != 0) return "";
  return offending.substr(0, offending.find(' '));
}

bool WriteFileAtomically(const std::string& path, const std::string& content, std::string* error) {
  return WriteFileAtomically(
      path, [&](std::ostream& out) { out << content; }, error);
}

bool WriteFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                         std::string* error) {
  const std::string temp = path + ".tmp-" + std::to_string(getpid());
  unlink(temp.c_str());  // a symbolic link left there is not written through
  std::ofstream out(temp, std::ios::binary | std::ios::trunc);
  if (out) {
    write(out);
    out.close();  // flushes; a full disk fails here at the latest
  }
  if (!out || rename(temp.c_str(), path.c_str()) != 0) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    unlink(temp.c_str());
    return false;
  }
  return true;
}

RunFolder MakeRunFolder(const std::string& reports_dir, const std::string& name,
                        std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(reports_dir, ec);
  // `name` is checked by the parser: folder names, none empty, "." or "..".
  std::filesystem::path path = reports_dir;
  for (const std::filesystem::path& part : std::filesystem::path(name)) {
    path /= part;
    if (mkdir(path.c_str(), 0755) == 0) continue;
    const int mkdir_errno = errno;
    struct stat status;
    if (mkdir_errno == EEXIST && lstat(path.c_str(), &status) == 0) {
      if (S_ISDIR(status.st_mode)) continue;
      if (S_ISLNK(status.st_mode)) {
        *error = "will not write reports through " + path.string() +
                 ": it is a symbolic link; remove it, or choose another --reports folder";
        return RunFolder::kSymbolicLink;
      }
    }
    *error = "cannot write reports to " + reports_dir + "/" + name + ": " +
             (mkdir_errno == EEXIST ? path.string() + " is not a folder"
                                    : std::string(std::strerror(mkdir_errno)));
    return RunFolder::kCannotMake;
  }
  if (access(path.c_str(), W_OK) != 0) {
    *error = "cannot write reports to " + path.string() + ": " + std::strerror(errno);
    return RunFolder::kCannotMake;
  }
  return RunFolder::kReady;
}

bool CapOffending(const std::string& report_dir, std::vector<CheckResult>* checks,
                  std::string* error) {
  const std::string path = report_dir + "/" + kOffendingFile;
  const bool needed = std::any_of(checks->begin(), checks->end(), [](const CheckResult& c) {
    return c.offending.size() > kOffendingListed || c.unlisted > 0;
  });
  if (!needed) {
    unlink(path.c_str());  // a previous run's list is not this one's
    return true;
  }
  auto write = [&](std::ostream& out) {
    for (const CheckResult& c : *checks) {
      if (c.status != CheckStatus::kFail) continue;
      for (const std::string& entry : c.offending) out << c.name << '\t' << entry << '\n';
      if (c.unlisted) out << c.name << "\t... " << c.unlisted << " more, counted, not kept\n";
    }
  };
  if (!WriteFileAtomically(path, write, error)) return false;
  for (CheckResult& c : *checks) {
    if (c.offending.size() <= kOffendingListed) continue;
    c.unlisted += c.offending.size() - kOffendingListed;
    c.offending.resize(kOffendingListed);
    c.offending.shrink_to_fit();
  }
  return true;
}

namespace {

double Seconds(Duration d) { return static_cast<double>(d.count()) / 1e9; }
double Seconds(int64_t ns) { return ns < 0 ? -1 : static_cast<double>(ns) / 1e9; }

std::string ExitText(const ExitStatus& s) {
  return s.by_signal ? SignalName(s.value) : std::to_string(s.value);
}

json TriggerJson(const Trigger& t) {
  json between = {Seconds(t.random_min), Seconds(t.random_max)};
  switch (t.kind) {
    case Trigger::Kind::kAt: {
      json at = {{"at", Seconds(t.at)}};
      if (t.since_ready) at["since_ready"] = true;
      // A random trigger, drawn from the seed: what was drawn, and from what.
      if (t.random_max.count() > 0) at["random"] = {{"between", between}};
      return at;
    }
    case Trigger::Kind::kRandom:
      return {{"random", {{"between", between}}}};
    case Trigger::Kind::kInFlight:
      return {{"in_flight", t.count}};
    case Trigger::Kind::kCompleted:
      return {{"completed", t.count}};
    case Trigger::Kind::kDbTransactionsOpen:
      return {{"db_transactions_open", t.count}};
    case Trigger::Kind::kLog:
      return {{"log", t.text}};
    case Trigger::Kind::kSql:
      return {{"sql", t.text}};
    case Trigger::Kind::kRollingRestart:
      return {{"rolling_restart", t.count}};  // the instance slot
  }
  return nullptr;
}

json SignalFaultJson(const Fault& f) {
  json also = json::array();
  for (int signal : f.also) also.push_back(SignalName(signal));
  json escalation = "none";
  if (f.escalation_signal != 0)
    escalation = {{"signal", SignalName(f.escalation_signal)},
                  {"to", RecipientName(f.escalate_to)}};
  json fault = {{"trigger", TriggerJson(f.trigger)}, {"signal", SignalName(f.signal)},
                {"to", RecipientName(f.to)},         {"also", also},
                {"grace", Seconds(f.grace)},         {"escalation", escalation}};
  if (!f.sender.empty()) fault["sender"] = f.sender;
  return fault;
}

// A matrix combination as [[name, value], ...]: in the matrix's order.
json MatrixJson(const std::vector<std::pair<std::string, std::string>>& combination) {
  json out = json::array();
  for (const auto& [name, value] : combination) out.push_back(json::array({name, value}));
  return out;
}

// The scenario as the run understood it: every default filled in.
json ScenarioJson(const Scenario& s) {
  json faults = json::array();
  for (const Fault& f : s.faults) {
    if (f.kind == Fault::Kind::kRestart) {
      faults.push_back({{"after_exit", {{"restart", true}, {"delay", Seconds(f.restart_delay)}}}});
    } else {
      faults.push_back(SignalFaultJson(f));
    }
  }
  json clean = json::array();
  for (const ExitStatus& e : s.target.clean_exit) clean.push_back(ExitText(e));
  json invariants = json::array();
  for (const Invariant& i : s.audit.invariants)
    invariants.push_back({{"name", i.name}, {"sql", i.sql}});
  const LoadSpec& l = s.load;
  json retry_on = l.retry.on_status;
  if (l.retry.on_reset) retry_on.push_back("reset");
  if (l.retry.on_timeout) retry_on.push_back("timeout");
  if (l.retry.on_refused) retry_on.push_back("refused");
  return {
      {"name", s.name},
      {"description", s.description},
      {"file", s.file},
      {"seed", s.seed},
      {"database",
       {{"embedded", s.database.embedded},
        {"url", s.database.url},
        {"schema", s.database.schema_path},
        {"setup", s.database.setup_sql}}},
      {"target",
       {{"command", s.target.command},
        {"env", s.target.env},
        {"cwd", s.target.cwd},
        {"container", s.target.container},
        {"clean_exit", clean}}},
      {"load",
       {{"clients", l.clients},
        {"duration", Seconds(l.duration)},
        {"requests", l.requests},
        {"keep_alive", l.keep_alive},
        {"request",
         {{"method", l.request.method},
          {"path", l.request.path},
          {"headers", l.request.headers},
          {"body", l.request.body},
          {"timeout", Seconds(l.request.timeout)}}},
        {"accounts", {{"count", l.account_count}, {"amount", {l.amount_min, l.amount_max}}}},
        {"retry",
         {{"on", retry_on},
          {"attempts", l.retry.attempts},
          {"backoff", Seconds(l.retry.backoff)}}}}},
      {"faults", faults},
      {"audit",
       {{"applied", s.audit.applied_sql},
        {"invariants", invariants},
        {"checks", s.audit.checks.empty() ? json("default") : json(s.audit.checks)}}},
      {"expect", !s.expect.pass                 ? json({{"fail", s.expect.fail_checks}})
                 : s.expect.pass_checks.empty() ? json("pass")
                                                : json({{"pass", s.expect.pass_checks}})},
      {"matrix", MatrixJson(s.matrix)},
      {"control", s.control},
  };
}

// Whether the causes came from the kernel's view of the target's sockets,
// and how well it saw: looks made, their mean cost, the longest gap between
// two (a busy machine's), whether destroy events came and how many were
// lost.
json KernelViewJson(const ScenarioResult& r) {
  if (!r.kernel_view_missing.empty())
    return {{"available", false}, {"reason", r.kernel_view_missing}};
  const SocketWatchStats& k = r.kernel_view;
  return {{"available", true},
          {"looks", k.looks},
          {"mean_look_us", k.mean_look_us},
          {"max_gap_us", k.max_gap_us},
          {"max_look_us", k.max_look_us},
          {"destroy_events", k.destroy_events},
          {"no_destroy_events_why", k.no_events_why},
          {"destroy_events_read", k.events},
          {"event_overflows", k.event_overflows},
          {"look_errors", k.look_errors},
          {"sockets", k.sockets}};
}

json ChecksJson(const std::vector<CheckResult>& checks) {
  json out = json::array();
  for (const CheckResult& c : checks)
    out.push_back({{"name", c.name},
                   {"status", CheckStatusName(c.status)},
                   {"summary", c.summary},
                   {"offending", c.offending},
                   {"unlisted", c.unlisted}});
  return out;
}

// null when the scenario asked for no control run.
json ControlJson(const std::optional<ControlOutcome>& control) {
  if (!control) return nullptr;
  return {{"ran", control->ran},
          {"passed", control->passed()},
          {"verdict", VerdictName(control->verdict)},
          {"message", control->message},
          {"failed_checks", control->FailedChecks()},
          {"checks", ChecksJson(control->checks)},
          {"report_dir", control->report_dir},
          {"total", control->total}};
}

// result.json's text: two-space indents, and text from targets (log lines,
// queries) that is not UTF-8 replaced, rather than thrown at.
std::string ResultText(const json& result) {
  return result.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string ResultJson(const ScenarioResult& r, const Scenario& scenario) {
  json faults = json::array();
  for (size_t i = 0; i < r.faults.size(); ++i) {
    const FaultRecord& f = r.faults[i];
    json fault = {{"fault", i + 1},
                  {"fired", f.fired},
                  {"trigger_time", Seconds(f.trigger_time)},
                  {"delivery_time", Seconds(f.delivery_time)},
                  {"instance", f.instance},
                  {"grace_expired", f.grace_expired},
                  {"escalated", f.escalated},
                  {"escalation_time", Seconds(f.escalation_time)}};
    if (f.poll_interval_us >= 0) fault["poll_interval_us"] = f.poll_interval_us;
    if (f.transactions_at_delivery >= 0)
      fault["transactions_open_after_signal"] = f.transactions_at_delivery;
    if (f.delivery_time >= 0 && f.trigger_time >= 0)
      fault["trigger_latency_us"] = static_cast<double>(f.delivery_time - f.trigger_time) / 1e3;
    faults.push_back(fault);
  }
  json instances = json::array();
  for (const InstanceRecord& i : r.instances) {
    json instance = {{"instance", i.id},
                     {"pid", i.pid},
                     {"start_time", Seconds(i.start_time)},
                     {"ready_time", Seconds(i.ready_time)},
                     {"exit_time", Seconds(i.exit_time)},
                     {"exit", i.exit ? json(ExitText(*i.exit)) : json(nullptr)},
                     {"stopped_by_lastcall", i.stopped_by_harness}};
    // Its drain: from the first graceful signal it got to its exit.
    for (size_t f = 0; f < r.faults.size() && f < r.fault_signals.size(); ++f) {
      const FaultRecord& fault = r.faults[f];
      if (fault.instance != i.id || fault.delivery_time < 0 || r.fault_signals[f] == 0 ||
          !IsGraceful(r.fault_signals[f]))
        continue;
      if (i.exit_time >= 0) instance["drain_time"] = Seconds(i.exit_time - fault.delivery_time);
      break;
    }
    instances.push_back(instance);
  }
  json out = {
      {"tool", "lastcall"},
      {"version", LASTCALL_VERSION},
      {"scenario", r.name},
      {"file", r.file},
      {"verdict", VerdictName(r.verdict)},
      {"expectation_met", r.verdict == Verdict::kMet},
      {"interrupted", r.verdict == Verdict::kInterrupted},
      {"message", r.message},
      {"seed", r.seed},
      {"run_id", r.run_id},
      {"checks", ChecksJson(r.checks)},
      {"control", ControlJson(r.control)},
      // Each attempt of the first offending keys, as summary.md lists them.
      {"attempts_of", r.attempts_of},
      {"faults", faults},
      {"instances", instances},
      {"counts",
       {{"requests", r.requests},
        {"attempts", r.attempts},
        {"ok", r.ok},
        {"failed", r.failed},
        {"unknown", r.unknown}}},
      // Attempts without a 2xx/4xx answer, by cause (docs/checks.md).
      {"causes", r.causes},
      {"kernel_view", KernelViewJson(r)},
      {"timings",
       {{"total", r.total},
        {"database", r.database},
        {"target_ready", r.target_ready},
        {"load", r.load},
        {"teardown", r.teardown},
        {"audit", r.audit},
        {"load_started_at", r.load_started_at},
        {"rolling_restart", r.rolling_restart}}},
      {"resolved_scenario", ScenarioJson(scenario)},
  };
  return ResultText(out);
}

bool RecordControl(const std::string& path, const ControlOutcome& control, std::string* error) {
  std::ifstream in(path);
  json result = in ? json::parse(in, nullptr, false) : json();
  if (result.is_discarded() || !result.is_object()) {
    *error = "cannot read " + path + " to record the control run in it";
    return false;
  }
  result["control"] = ControlJson(control);
  return WriteFileAtomically(path, ResultText(result), error);
}

namespace {

// The mark a run's line starts with: PASS, FAIL, or INVALID for a scenario
// whose control run failed; in colour if asked.
std::string Mark(Verdict verdict, bool colour) {
  const bool met = verdict == Verdict::kMet, invalid = verdict == Verdict::kInvalid;
  const std::string mark = met ? "PASS" : invalid ? "INVALID" : "FAIL";
  if (!colour) return mark;
  return (met ? "\x1b[32m" : invalid ? "\x1b[33m" : "\x1b[31m") + mark + "\x1b[0m";
}

// Each failed check of `checks` with a few offending keys (the others are in
// `report_dir`/result.json); when verbose, every other check with its status.
std::string CheckLines(const std::vector<CheckResult>& checks, bool verbose,
                       const std::string& report_dir) {
  std::string out;
  for (const CheckResult& c : checks) {
    if (c.status != CheckStatus::kFail) {
      if (verbose)
        out +=
            "\n      " + c.name + " " + CheckStatusName(c.status) + ": " + VisibleText(c.summary);
      continue;
    }
    out += "\n      " + c.name + " failed: " + VisibleText(c.summary);
    size_t shown = std::min<size_t>(c.offending.size(), 5);
    for (size_t i = 0; i < shown; ++i) out += "\n        " + VisibleText(c.offending[i]);
    if (c.OffendingCount() > shown)
      out += "\n        ... " + std::to_string(c.OffendingCount() - shown) + " more in " +
             VisibleText(report_dir) + "/result.json" +
             (c.unlisted ? std::string(" and ") + kOffendingFile : "");
  }
  return out;
}

// The line that says what the control run found; when it failed, its failed
// checks below. Nothing when it ended in an error: the run's message says it.
std::string ControlLines(const ControlOutcome& control, bool verbose) {
  if (!control.ran) return "\n      control run not run: " + VisibleLines(control.message);
  if (control.passed()) {
    std::vector<std::string> passed;
    for (const CheckResult& c : control.checks)
      if (c.status == CheckStatus::kPass) passed.push_back(c.name);
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, " (%.2fs)", control.total);
    return "\n      control run (no fault) passed: " +
           (passed.empty() ? std::string("no check failed") : NameList(passed)) + seconds;
  }
  if (control.verdict != Verdict::kNotMet) return "";
  return "\n      control run (no fault) failed: " + NameList(control.FailedChecks()) +
         "; its reports: " + VisibleText(control.report_dir) +
         CheckLines(control.checks, verbose, control.report_dir);
}

}  // namespace

bool ColourWanted() {
  const char* no_color = std::getenv("NO_COLOR");
  return isatty(STDOUT_FILENO) && (no_color == nullptr || *no_color == '\0');
}

std::string ConsoleLines(const ScenarioResult& r, const ConsoleStyle& style) {
  const bool met = r.verdict == Verdict::kMet;
  if (met && style.detail == ConsoleStyle::Detail::kQuiet) return "";
  const bool verbose = style.detail == ConsoleStyle::Detail::kVerbose;
  char counts[256];
  std::snprintf(counts, sizeof counts, "%lld requests, %lld ok / %lld failed / %lld unknown",
                static_cast<long long>(r.requests), static_cast<long long>(r.ok),
                static_cast<long long>(r.failed), static_cast<long long>(r.unknown));
  char head[512];
  std::snprintf(head, sizeof head, "%s  %-40s %6.2fs  %s", Mark(r.verdict, style.colour).c_str(),
                VisibleText(r.name).c_str(), r.total,
                r.verdict == Verdict::kInvalid ? "its real run was not run" : counts);
  std::string out = head;
  if (!met)
    out += "\n      " + std::string(VerdictName(r.verdict)) + ": " + VisibleLines(r.message);
  // A verdict judged without the kernel's view says so on every run it
  // concerns, met or not: it is weaker evidence.
  for (const CheckResult& c : r.checks)
    if (c.name == "drained" && c.status != CheckStatus::kSkipped &&
        !r.kernel_view_missing.empty() && style.detail != ConsoleStyle::Detail::kQuiet)
      out += "\n      note: no kernel view (" + r.kernel_view_missing +
             "): drained judged by a time window";
  if (r.control) out += ControlLines(*r.control, verbose);
  if (met || r.verdict == Verdict::kNotMet) out += CheckLines(r.checks, verbose, r.report_dir);
  return out + "\n";
}

}  // namespace lastcall
