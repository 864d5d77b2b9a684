#include "report/saved_report.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "report/html_report.h"
#include "report/junit.h"
#include "report/markdown.h"

namespace lastcall {

using nlohmann::json;

namespace {

// result.json keeps times in seconds, -1 for never; the history in ns.
int64_t Nanoseconds(double seconds) {
  return seconds < 0 ? -1 : static_cast<int64_t>(std::llround(seconds * 1e9));
}

// The enum value whose name() is `text`, among values first..last.
template <typename Enum, typename Name>
bool Named(const std::string& text, Enum first, Enum last, Name name, Enum* out) {
  for (int v = static_cast<int>(first); v <= static_cast<int>(last); ++v)
    if (text == name(static_cast<Enum>(v))) {
      *out = static_cast<Enum>(v);
      return true;
    }
  return false;
}

// "0" is exit(0); a signal's name is a death by that signal (report.cc).
ExitStatus ExitOf(const std::string& text) {
  std::optional<int> signal = ParseSignal(text);
  bool is_code = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (is_code || !signal) return ExitStatus{false, std::atoi(text.c_str())};
  return ExitStatus{true, *signal};
}

void ReadInstances(const json& j, ScenarioResult* r) {
  for (const json& i : j.at("instances")) {
    InstanceRecord instance;
    instance.id = i.at("instance").get<int>();
    instance.pid = i.value("pid", 0);
    instance.start_time = Nanoseconds(i.at("start_time").get<double>());
    instance.ready_time = Nanoseconds(i.at("ready_time").get<double>());
    instance.exit_time = Nanoseconds(i.at("exit_time").get<double>());
    if (!i.at("exit").is_null()) instance.exit = ExitOf(i.at("exit").get<std::string>());
    instance.stopped_by_harness = i.value("stopped_by_lastcall", false);
    r->instances.push_back(instance);
  }
}

Verdict VerdictOf(const json& name) {
  Verdict verdict;
  if (!Named(name.get<std::string>(), Verdict::kMet, Verdict::kInvalid, VerdictName, &verdict))
    throw std::runtime_error("unknown verdict " + name.dump());
  return verdict;
}

std::vector<CheckResult> ReadChecks(const json& checks) {
  std::vector<CheckResult> out;
  for (const json& c : checks) {
    CheckResult check;
    check.name = c.at("name").get<std::string>();
    if (!Named(c.at("status").get<std::string>(), CheckStatus::kPass, CheckStatus::kInfo,
               CheckStatusName, &check.status))
      throw std::runtime_error("unknown check status " + c.at("status").dump());
    check.summary = c.at("summary").get<std::string>();
    check.offending = c.at("offending").get<std::vector<std::string>>();
    check.unlisted = c.value("unlisted", size_t{0});  // absent before the cap
    out.push_back(check);
  }
  return out;
}

// result.json written before control runs existed lacks "control".
std::optional<ControlOutcome> ReadControl(const json& j) {
  if (!j.contains("control") || j.at("control").is_null()) return std::nullopt;
  const json& c = j.at("control");
  ControlOutcome control;
  control.ran = c.at("ran").get<bool>();
  control.verdict = VerdictOf(c.at("verdict"));
  control.message = c.at("message").get<std::string>();
  control.checks = ReadChecks(c.at("checks"));
  control.report_dir = c.at("report_dir").get<std::string>();
  control.total = c.at("total").get<double>();
  return control;
}

void ReadResult(const json& j, ScenarioResult* r, Expectation* expect) {
  r->name = j.at("scenario").get<std::string>();
  r->file = j.at("file").get<std::string>();
  r->verdict = VerdictOf(j.at("verdict"));
  r->message = j.at("message").get<std::string>();
  r->seed = j.at("seed").get<uint64_t>();
  r->run_id = j.at("run_id").get<std::string>();
  r->checks = ReadChecks(j.at("checks"));
  r->control = ReadControl(j);
  for (const json& f : j.at("faults")) {
    FaultRecord fault;
    fault.fired = f.at("fired").get<bool>();
    fault.trigger_time = Nanoseconds(f.at("trigger_time").get<double>());
    fault.delivery_time = Nanoseconds(f.at("delivery_time").get<double>());
    fault.instance = f.at("instance").get<int>();
    fault.escalated = f.at("escalated").get<bool>();
    fault.grace_expired = f.value("grace_expired", fault.escalated);
    fault.escalation_time = Nanoseconds(f.at("escalation_time").get<double>());
    r->faults.push_back(fault);
  }
  const json& counts = j.at("counts");
  r->requests = counts.at("requests").get<int64_t>();
  r->attempts = counts.at("attempts").get<int64_t>();
  r->ok = counts.at("ok").get<int64_t>();
  r->failed = counts.at("failed").get<int64_t>();
  r->unknown = counts.at("unknown").get<int64_t>();
  if (j.contains("causes")) r->causes = j.at("causes").get<std::map<std::string, int64_t>>();
  if (j.contains("kernel_view")) {
    const json& k = j.at("kernel_view");
    if (!k.at("available").get<bool>()) {
      r->kernel_view_missing = k.at("reason").get<std::string>();
    } else {
      r->kernel_view.looks = k.at("looks").get<int64_t>();
      r->kernel_view.mean_look_us = k.at("mean_look_us").get<double>();
      r->kernel_view.max_gap_us = k.at("max_gap_us").get<int64_t>();
      r->kernel_view.max_look_us = k.at("max_look_us").get<int64_t>();
      r->kernel_view.destroy_events = k.at("destroy_events").get<bool>();
      r->kernel_view.no_events_why = k.at("no_destroy_events_why").get<std::string>();
      r->kernel_view.events = k.at("destroy_events_read").get<int64_t>();
      r->kernel_view.event_overflows = k.at("event_overflows").get<int64_t>();
      r->kernel_view.look_errors = k.at("look_errors").get<int64_t>();
      r->kernel_view.sockets = k.at("sockets").get<int64_t>();
    }
  }
  r->total = j.at("timings").at("total").get<double>();
  // result.json written before `lastcall report` existed lack it.
  if (j.contains("attempts_of"))
    r->attempts_of = j.at("attempts_of").get<std::map<std::string, std::vector<std::string>>>();
  ReadInstances(j, r);
  const json& scenario = j.at("resolved_scenario");
  // What the matrix table needs: the combination, and each fault's signal.
  for (const json& pair : scenario.value("matrix", json::array()))
    r->matrix.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
  for (const json& f : scenario.at("faults"))
    r->fault_signals.push_back(
        f.contains("signal") ? ParseSignal(f.at("signal").get<std::string>()).value_or(0) : 0);
  // "pass", {"pass": [checks]} or {"fail": [checks]}.
  const json& e = scenario.at("expect");
  expect->pass = !e.contains("fail");
  if (!expect->pass) expect->fail_checks = e.at("fail").get<std::vector<std::string>>();
  if (e.contains("pass")) expect->pass_checks = e.at("pass").get<std::vector<std::string>>();
}

// One line of history.jsonl into *events, or into the attempt it belongs to
// (an invoke and its completion fill one attempt together).
void ReadHistoryLine(const json& line, uint64_t seed,
                     std::map<std::pair<std::string, int>, Attempt>* attempts,
                     std::vector<Event>* events) {
  // The WebSocket connections are judged by websocket_close, whose result
  // is in result.json; no rendered report shows them one by one.
  if (line.at("f") == "websocket") return;
  if (line.at("process") == "nemesis") {
    events->push_back(Event{line.at("time").get<int64_t>(), line.at("f").get<std::string>(),
                            line.at("value").get<std::string>(), line.value("instance", 0)});
    return;
  }
  const json& value = line.at("value");
  std::string key = value.at("key").get<std::string>();
  Attempt& a = (*attempts)[{key, value.at("attempt").get<int>()}];
  std::optional<int64_t> seq = History::SeqOfKey(seed, key);
  if (!seq) throw std::runtime_error("not a key of seed " + std::to_string(seed) + ": " + key);
  a.seq = *seq;
  a.attempt = value.at("attempt").get<int>();
  a.client = line.at("process").get<int>();
  a.connection = value.at("connection").get<int64_t>();
  if (line.at("type") == "invoke") {
    a.send_start = line.at("time").get<int64_t>();
    return;
  }
  a.done = line.at("time").get<int64_t>();
  a.status = value.at("status").get<int>();
  a.send_end = value.at("send_end").get<int64_t>();
  a.reused_connection = value.at("reused_connection").get<bool>();
  if (!Named(value.at("outcome").get<std::string>(), Outcome::kOk, Outcome::kUnknown, OutcomeName,
             &a.outcome) ||
      !Named(value.at("error").get<std::string>(), NetError::kNone, NetError::kBadResponse,
             NetErrorName, &a.error) ||
      !Named(value.value("cause", CauseName(Cause::kNone)), Cause::kNone, Cause::kNoKernelRecord,
             CauseName, &a.cause))
    throw std::runtime_error("unknown outcome, error or cause");
}

bool ReadHistory(const std::string& path, SavedReport* run, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::map<std::pair<std::string, int>, Attempt> attempts;
  std::string text;
  for (int number = 1; std::getline(in, text); ++number) {
    try {
      ReadHistoryLine(json::parse(text), run->result.seed, &attempts, &run->events);
    } catch (const std::exception& e) {
      *error = path + ":" + std::to_string(number) + ": " + e.what();
      return false;
    }
  }
  for (auto& [id, attempt] : attempts) run->attempts.push_back(attempt);
  return true;
}

}  // namespace

SavedReport SavedReport::Of(const ScenarioResult& result, const Expectation& expect,
                            const History& history) {
  SavedReport run{result, expect, {}, history.events()};
  size_t total = 0;
  for (const auto& client : history.all_attempts()) total += client.size();
  run.attempts.reserve(total);  // no growth: a million attempts are ~100 MB
  for (const auto& client : history.all_attempts())
    run.attempts.insert(run.attempts.end(), client.begin(), client.end());
  return run;
}

bool LoadSavedReport(const std::string& result_json, SavedReport* run, std::string* error) {
  return LoadSavedResult(result_json, run, error) &&
         ReadHistory(run->result.report_dir + "/history.jsonl", run, error);
}

bool LoadSavedResult(const std::string& result_json, SavedReport* run, std::string* error) {
  std::ifstream in(result_json);
  if (!in) {
    *error = "cannot read " + result_json;
    return false;
  }
  try {
    ReadResult(json::parse(in), &run->result, &run->expect);
  } catch (const std::exception& e) {
    *error = result_json + ": " + e.what();
    return false;
  }
  std::string dir = std::filesystem::path(result_json).parent_path().string();
  run->result.report_dir = dir.empty() ? "." : dir;
  return true;
}

bool WriteRenderedReports(const SavedReport& run, std::string* error) {
  const ScenarioResult& r = run.result;
  return WriteTextReports(run, error) &&
         WriteFileAtomically(r.report_dir + "/index.html", HtmlReport(r, run.attempts, run.events),
                             error);
}

bool WriteTextReports(const SavedReport& run, std::string* error) {
  const ScenarioResult& r = run.result;
  return WriteFileAtomically(r.report_dir + "/junit.xml", JunitXml({r}, {run.expect}), error) &&
         WriteFileAtomically(r.report_dir + "/summary.md", SummaryMarkdown({r}), error);
}

}  // namespace lastcall
