// For end-to-end tests (binaries that define LASTCALL_SOURCE_DIR): a command
// run from the source folder to its end, its output kept in a file.
#ifndef LASTCALL_EXECUTE_H_
#define LASTCALL_EXECUTE_H_

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "base/file.h"
#include "process/subprocess.h"

namespace lastcall {

// Runs `argv` from the source folder with stdout and stderr into the file
// `log`. Returns its exit ("exit 0"), "timeout" after 170 s, or why it could
// not start.
inline std::string Execute(const std::vector<std::string>& argv, const std::string& log) {
  SpawnOptions options;
  options.argv = argv;
  options.cwd = LASTCALL_SOURCE_DIR;
  for (char** e = environ; *e; ++e) options.env.push_back(*e);
  options.output_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  std::string error;
  std::unique_ptr<Subprocess> process = Subprocess::Start(options, &error);
  close(options.output_fd);
  if (!process) return error;
  if (!process->Wait(std::chrono::seconds(170))) return "timeout";
  return process->exit_status()->ToString();
}

}  // namespace lastcall

#endif  // LASTCALL_EXECUTE_H_
