// Finding a run's processes through /proc: every process the harness starts
// for a target carries LASTCALL_RUN_ID in its environment, and children
// inherit it, so processes that left the target's process group (setsid,
// double fork) are found too, as systemd finds them in a control group.
#ifndef LASTCALL_PROC_SCAN_H_
#define LASTCALL_PROC_SCAN_H_

#include <string>
#include <vector>

#include <sys/types.h>

namespace lastcall {

// Live processes (zombies excluded) whose environment contains exactly the
// entry `name=value`. Processes that vanish or cannot be read are skipped.
std::vector<pid_t> ProcessesWithEnvironment(const std::string& name, const std::string& value);

// `root` and every live descendant of it, parents before children, as PM2's
// treekill finds them (a process that was reparented is no longer found).
std::vector<pid_t> ProcessTree(pid_t root);

// "1234 payment-server --worker" for the report; "1234" if unreadable.
std::string DescribeProcess(pid_t pid);

}  // namespace lastcall

#endif  // LASTCALL_PROC_SCAN_H_
