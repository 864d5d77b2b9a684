#include "run/leftovers.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "process/proc_scan.h"

namespace lastcall {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void CollectLeftovers(const LeftoverScan& scan, AuditInputs* leftovers) {
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(2);
  const std::vector<Fault>& faults = scan.scenario->faults;
  const std::vector<FaultRecord>& records = scan.fault_records;
  for (size_t i = 0; i < records.size(); ++i) {
    const FaultRecord& r = records[i];
    if (r.delivery_time >= 0 && faults[i].kind == Fault::Kind::kSignal &&
        IsGraceful(faults[i].signal))
      deadline =
          std::max(deadline, scan.history->epoch() + std::chrono::nanoseconds(r.delivery_time) +
                                 faults[i].grace);
  }
  auto wait = std::chrono::microseconds(500);
  std::vector<pid_t> left;
  // No event says "the last process with this environment is gone": poll.
  while (!(left = ProcessesWithEnvironment("LASTCALL_RUN_ID", scan.run_id)).empty() &&
         Clock::now() < deadline && scan.interrupt->Check() == 0) {
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 2, std::chrono::microseconds(50000));
  }
  std::vector<std::string> orphans;
  for (pid_t pid : left) orphans.push_back(DescribeProcess(pid));
  leftovers->orphans = orphans;

  // A session of a process that just died takes a moment to be noticed by
  // the server; a leak is what is still there after 2 s. A look costs a
  // query on the open connection (well under a millisecond), so look often.
  std::string error;
  std::vector<std::string> sessions;
  deadline = Clock::now() + std::chrono::seconds(2);
  auto pause = std::chrono::milliseconds(1);
  AuditConnection* audit = scan.audit;
  while (audit && audit->TargetSessions(&sessions, &error) && !sessions.empty() &&
         Clock::now() < deadline && scan.interrupt->Check() == 0) {
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(10));
  }
  if (audit && error.empty()) leftovers->leaked_sessions = sessions;

  for (pid_t pid : left) kill(pid, SIGKILL);
  scan.fleet->KillAll();
  if (!left.empty())
    scan.history->Record("orphans_killed", std::to_string(left.size()) + " processes");
  if (audit) audit->TerminateSessions();

  // A SIGKILLed instance could not clean up: only the others are judged.
  std::vector<std::string> files;
  bool judged = false;
  for (const InstanceRecord& instance : scan.fleet->Records()) {
    const std::optional<ExitStatus>& exit = instance.exit;
    if (exit && exit->by_signal && exit->value == SIGKILL) continue;
    judged = true;
    std::error_code ec;
    const fs::path tmp = scan.fleet->TmpDirOf(instance.id);
    for (auto it = fs::recursive_directory_iterator(tmp, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (!it->is_directory())
        files.push_back("instance " + std::to_string(instance.id) + ": " +
                        fs::relative(it->path(), tmp).string());
  }
  std::sort(files.begin(), files.end());
  if (judged) leftovers->temp_files = files;
}

}  // namespace lastcall
