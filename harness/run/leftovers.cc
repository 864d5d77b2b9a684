#include "run/run_case.h"

namespace lastcall {

// What the target left behind, looked at as systemd would: after its main
// process is gone, wait (for the rest of the grace period, at least 2 s)
// until no process carrying the run's id is left; what is left then is an
// orphan. Sessions still open then (an orphan's included) are leaks. Then
// the orphans are killed, and the private TMPDIR is listed.
void RunCase::CollectLeftovers() {
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(2);
  const std::vector<FaultRecord> records =
      nemesis_ ? nemesis_->records() : std::vector<FaultRecord>{};
  for (size_t i = 0; i < records.size(); ++i) {
    const FaultRecord& r = records[i];
    if (r.delivery_time >= 0 && scenario_.faults[i].kind == Fault::Kind::kSignal &&
        IsGraceful(scenario_.faults[i].signal))
      deadline = std::max(deadline, history_.epoch() +
                                        std::chrono::nanoseconds(r.delivery_time) +
                                        scenario_.faults[i].grace);
  }
  auto wait = std::chrono::microseconds(500);
  std::vector<pid_t> left;
  // No event says "the last process with this environment is gone": poll.
  while (!(left = ProcessesWithEnvironment("LASTCALL_RUN_ID", run_id_)).empty() &&
         Clock::now() < deadline && !interrupted()) {
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 2, std::chrono::microseconds(50000));
  }
  std::vector<std::string> orphans;
  for (pid_t pid : left) orphans.push_back(DescribeProcess(pid));
  record_.audit.orphans = orphans;

  // A session of a process that just died takes a moment to be noticed by
  // the server; a leak is what is still there after 2 s. A look costs a
  // query on the open connection (well under a millisecond), so look often.
  std::string error;
  std::vector<std::string> sessions;
  deadline = Clock::now() + std::chrono::seconds(2);
  auto pause = std::chrono::milliseconds(1);
  AuditConnection* audit = database_.connection();
  while (audit && audit->TargetSessions(&sessions, &error) &&
         !sessions.empty() && Clock::now() < deadline && !interrupted()) {
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(10));
  }
  if (audit && error.empty()) record_.audit.leaked_sessions = sessions;

  for (pid_t pid : left) kill(pid, SIGKILL);
  fleet_->KillAll();
  if (!left.empty()) history_.Record("orphans_killed", std::to_string(left.size()) + " processes");
  if (audit) audit->TerminateSessions();

  // A SIGKILLed instance could not clean up: only the others are judged.
  std::vector<std::string> files;
  bool judged = false;
  for (const InstanceRecord& instance : fleet_->Records()) {
    const std::optional<ExitStatus>& exit = instance.exit;
    if (exit && exit->by_signal && exit->value == SIGKILL) continue;
    judged = true;
    std::error_code ec;
    const fs::path tmp = fleet_->TmpDirOf(instance.id);
    for (auto it = fs::recursive_directory_iterator(tmp, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (!it->is_directory())
        files.push_back("instance " + std::to_string(instance.id) + ": " +
                        fs::relative(it->path(), tmp).string());
  }
  std::sort(files.begin(), files.end());
  if (judged) record_.audit.temp_files = files;
}

}  // namespace lastcall
