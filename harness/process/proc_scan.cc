#include "process/proc_scan.h"

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "base/file.h"

namespace lastcall {

namespace {

std::string ReadProcFile(pid_t pid, const char* name) {
  return ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/" + name);
}

// The state letter of /proc/PID/stat; 'Z' for a zombie. The command name in
// parentheses may itself contain spaces and parentheses, hence rfind.
char StateOf(pid_t pid) {
  std::string stat = ReadProcFile(pid, "stat");
  size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

}  // namespace

std::vector<pid_t> ProcessesWithEnvironment(const std::string& name, const std::string& value) {
  // environ is NUL-separated; match a whole entry, not a prefix of one.
  std::string entry = name + "=" + value;
  entry.push_back('\0');
  std::vector<pid_t> found;
  DIR* proc = opendir("/proc");
  if (!proc) return found;
  while (dirent* d = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(d->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    std::string env = ReadProcFile(static_cast<pid_t>(pid), "environ");
    env.insert(env.begin(), '\0');
    if (env.find(std::string(1, '\0') + entry) == std::string::npos) continue;
    if (StateOf(static_cast<pid_t>(pid)) == 'Z') continue;
    found.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return found;
}

std::vector<pid_t> ProcessTree(pid_t root) {
  std::vector<pid_t> tree{root};
  for (size_t i = 0; i < tree.size(); ++i) {
    // A child is listed under the thread that forked it.
    std::string tasks_path = "/proc/" + std::to_string(tree[i]) + "/task";
    DIR* tasks = opendir(tasks_path.c_str());
    if (!tasks) continue;
    while (dirent* d = readdir(tasks)) {
      if (d->d_name[0] == '.') continue;
      std::ifstream children(tasks_path + "/" + d->d_name + "/children");
      for (pid_t child; children >> child;) tree.push_back(child);
    }
    closedir(tasks);
  }
  return tree;
}

std::string DescribeProcess(pid_t pid) {
  std::string cmdline = ReadProcFile(pid, "cmdline");
  for (char& c : cmdline)
    if (c == '\0') c = ' ';
  while (!cmdline.empty() && cmdline.back() == ' ') cmdline.pop_back();
  return std::to_string(pid) + (cmdline.empty() ? "" : " " + cmdline);
}

}  // namespace lastcall
