#include "process/proc_scan.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/wait_until.h"
#include "process/subprocess.h"

using namespace lastcall;

TEST_CASE("a run's processes are found by environment, even after setsid") {
  const std::string run = "scan-" + std::to_string(getpid());
  SpawnOptions options;
  // The child starts a grandchild in a session of its own, then exits.
  options.argv = {"/bin/sh", "-c", "setsid sleep 30 </dev/null >/dev/null 2>&1 & echo started"};
  options.env = {"PATH=/usr/bin:/bin", "LASTCALL_RUN_ID=" + run};
  std::string error;
  std::unique_ptr<Subprocess> shell = Subprocess::Start(options, &error);
  REQUIRE(shell);
  REQUIRE(shell->Wait(std::chrono::seconds(10)));

  // Until setsid has made its session and become sleep.
  std::vector<pid_t> found;
  auto settled = [&] {
    found = ProcessesWithEnvironment("LASTCALL_RUN_ID", run);
    return found.size() == 1 && DescribeProcess(found[0]) == std::to_string(found[0]) + " sleep 30";
  };
  REQUIRE(WaitUntil(settled));
  CHECK(getpgid(found[0]) != shell->pgid());  // it left the target's group
  CHECK(DescribeProcess(found[0]) == std::to_string(found[0]) + " sleep 30");
  CHECK(getsid(found[0]) == found[0]);
  // A longer value with the same prefix is another run.
  CHECK(ProcessesWithEnvironment("LASTCALL_RUN_ID", run.substr(0, run.size() - 1)).empty());

  kill(found[0], SIGKILL);
  CHECK(WaitUntil([&] { return ProcessesWithEnvironment("LASTCALL_RUN_ID", run).empty(); }));
}

TEST_CASE("a process tree has children and grandchildren but not the reparented") {
  SpawnOptions options;
  // sh starts a child sh that starts a sleep (a grandchild), and a sleep
  // that leaves the tree (double fork: its parent exits at once).
  options.argv = {"/bin/sh", "-c", "sh -c 'sleep 30 & wait' & (sleep 31 &) ; echo started; wait"};
  options.env = {"PATH=/usr/bin:/bin"};
  std::string error;
  std::unique_ptr<Subprocess> shell = Subprocess::Start(options, &error);
  REQUIRE(shell);
  std::vector<pid_t> tree;
  auto described = [&] {
    std::vector<std::string> names;
    for (pid_t pid : tree) {
      std::string text = DescribeProcess(pid);
      names.push_back(text.substr(text.find(' ') + 1));
    }
    return names;
  };
  REQUIRE(WaitUntil([&] {
    tree = ProcessTree(shell->pid());
    return tree.size() == 3 && described().back() == "sleep 30";
  }));
  CHECK(tree[0] == shell->pid());
  for (const std::string& name : described()) CHECK(name != "sleep 31");
  shell->Signal(SIGKILL, true);
  REQUIRE(shell->Wait(std::chrono::seconds(10)));
}
