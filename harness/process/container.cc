#include "process/container.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <sys/prctl.h>
#include <sys/wait.h>

namespace lastcall {

std::vector<std::string> ContainerCommand(const std::vector<std::string>& argv,
                                          std::string* error) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    *error =
        std::string("container mode: cannot find lastcall's own path: ") + std::strerror(errno);
    return {};
  }
  std::vector<std::string> command = {std::string(self, static_cast<size_t>(n)), kContainerFlag};
  command.insert(command.end(), argv.begin(), argv.end());
  return command;
}

namespace {

bool WriteFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// A new PID namespace for the next child. Root may make one directly; any
// other user first needs a user namespace, in which it is mapped to root.
bool EnterPidNamespace() {
  if (unshare(CLONE_NEWPID) == 0) return true;
  if (errno != EPERM) return false;
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) return false;
  return WriteFile("/proc/self/setgroups", "deny") &&
         WriteFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") &&
         WriteFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
}

// The signals a sender may aim at the target's process group: the parent
// outside the namespace is not the target and must not react to them.
const int kShielded[] = {SIGTERM, SIGINT,  SIGHUP,   SIGQUIT, SIGUSR1, SIGUSR2,
                         SIGALRM, SIGPIPE, SIGWINCH, SIGCONT, SIGTSTP};

}  // namespace

void RunContainerParent(const std::vector<std::string>& argv) {
  // _exit, never return from main: once PID 1 is gone, this process's PID
  // namespace for children is dead and nothing run at exit may fork (the
  // leak checker of a sanitizer build does, and turned every exit into 1).
  if (argv.empty()) {
    std::fprintf(stderr, "lastcall %s: no command\n", kContainerFlag);
    _exit(127);
  }
  if (!EnterPidNamespace()) {
    std::fprintf(stderr,
                 "lastcall: container mode: cannot create a PID namespace: %s "
                 "(needs root, or unprivileged user namespaces: "
                 "sysctl kernel.unprivileged_userns_clone=1)\n",
                 std::strerror(errno));
    _exit(126);
  }
  pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "lastcall: container mode: fork: %s\n", std::strerror(errno));
    _exit(126);
  }
  if (child == 0) {
    // PID 1 of the namespace: dies with its parent, as a container dies
    // with its runtime.
    // (Its parent is outside the namespace: getppid() says 0, so the usual
    // check for a parent that died before this line cannot be made.)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "lastcall: cannot run '%s': %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  for (int signal : kShielded) ::signal(signal, SIG_IGN);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  // Die of the same signal, so the harness sees what PID 1 died of.
  int signal = WTERMSIG(status);
  ::signal(signal, SIG_DFL);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, signal);
  sigprocmask(SIG_UNBLOCK, &only, nullptr);
  kill(getpid(), signal);
  _exit(128 + signal);  // a signal whose default is to continue
}

pid_t ContainerInitPid(pid_t parent) {
  std::ifstream children("/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) +
                         "/children");
  pid_t pid = 0;
  return children >> pid ? pid : 0;
}

}  // namespace lastcall
