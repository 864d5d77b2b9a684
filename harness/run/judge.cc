#include "run/run_case.h"

namespace lastcall {

// For the report: the attempts of the first offending keys of each failed
// check, so a reader sees what the client saw without opening the history.
void RunCase::AttemptsOfOffendingKeys() {
  std::map<std::string, std::vector<const Attempt*>> wanted;
  for (const CheckResult& c : result_.checks) {
    if (c.status != CheckStatus::kFail) continue;
    for (size_t i = 0; i < c.offending.size() && i < 20; ++i) {
      std::string key = KeyOf(c.offending[i]);
      if (!key.empty()) wanted[key];
    }
  }
  if (wanted.empty()) return;
  for (const auto& client : history_.all_attempts())
    for (const Attempt& a : client) {
      auto it = wanted.find(History::KeyFor(scenario_.seed, a.seq));
      if (it != wanted.end()) it->second.push_back(&a);
    }
  for (auto& [key, attempts] : wanted) {
    std::sort(attempts.begin(), attempts.end(),
              [](const Attempt* a, const Attempt* b) { return a->attempt < b->attempt; });
    for (const Attempt* a : attempts) {
      char line[256];
      std::snprintf(line, sizeof line, "attempt %d on connection %lld at %.6fs: %s, %s after %.1f ms%s%s%s",
                    a->attempt, static_cast<long long>(a->connection),
                    static_cast<double>(a->send_start) / 1e9,
                    a->status ? ("HTTP " + std::to_string(a->status)).c_str()
                              : NetErrorName(a->error),
                    OutcomeName(a->outcome),
                    static_cast<double>(a->done - a->send_start) / 1e6,
                    a->cause == Cause::kNone ? "" : " (", a->cause == Cause::kNone ? "" : CauseName(a->cause),
                    a->cause == Cause::kNone ? "" : ")");
      result_.attempts_of[key].push_back(line);
    }
  }
}

void RunCase::WriteReports() {
  CountRequests(history_, &result_);
  AttemptsOfOffendingKeys();
  std::string error;
  bool ok = WriteFileAtomically(
      report_dir_ + "/history.jsonl",
      [&](std::ostream& out) { history_.WriteJsonl(out, scenario_.seed); }, &error);
  if (fleet_ && fleet_->log_open()) {
    bool written = fleet_->CloseLog();
    // A short write (a full disk) must not replace the previous target.log,
    // nor may a complete one stand beside a previous, unrelated history.
    const std::string partial = report_dir_ + "/target.log.partial";
    if (ok && written) {
      std::rename(partial.c_str(), (report_dir_ + "/target.log").c_str());
    } else {
      if (ok) error = "cannot write " + report_dir_ + "/target.log: " + std::strerror(errno);
      ok = false;
      unlink(partial.c_str());
    }
  }
  if (!session_->ServerLog().empty())
    ok = ok && WriteFileAtomically(report_dir_ + "/postgres.log",
                                   ReadFileOrEmpty(session_->ServerLog(), server_log_offset_),
                                   &error);
  ok = ok && CapOffending(report_dir_, &result_.checks, &error);
  ok = ok && WriteFileAtomically(report_dir_ + "/result.json",
                                 ResultJson(result_, scenario_), &error);
  ok = ok && WriteRenderedReports(SavedRun::Of(result_, scenario_.expect, history_), &error);
  if (!ok && result_.verdict == Verdict::kMet) Fail(Verdict::kInfrastructure, error);
}

}  // namespace lastcall
