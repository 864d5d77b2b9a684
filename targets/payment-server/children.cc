#include "children.h"

#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <pqxx/pqxx>

#include "log.h"

extern char** environ;

namespace {

std::string self_path() {
  char path[PATH_MAX];
  ssize_t length = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  return length > 0 ? std::string(path, static_cast<size_t>(length)) : "payment-server";
}

// Quotes `word` for /bin/sh.
std::string shell_quote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'')
      quoted += "'\\''";  // Close, escaped quote, reopen.
    else
      quoted += c;
  }
  return quoted + "'";
}

}  // namespace

void start_reconciler() {
  std::string self = self_path();
  char* argv[] = {self.data(), const_cast<char*>("--reconciler"), nullptr};
  // The child would inherit our blocked SIGTERM and SIGINT: unblock them.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int error = ::posix_spawn(&pid, self.c_str(), nullptr, &attributes, argv, environ);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) log_line("cannot start reconciler: " + std::string(strerror(error)));
}

int run_reconciler(const Config& config) {
  try {
    pqxx::connection db(config.database_url);
    log_line("reconciler started");
    for (;;) {
      pqxx::work tx(db);
      tx.exec("SELECT count(*), coalesce(sum(amount), 0) FROM ledger");
      tx.commit();
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  } catch (const std::exception& e) {
    log_line(std::string("reconciler: ") + e.what());
    return 1;
  }
}

void exec_through_shell(const std::vector<std::string>& args) {
  std::string command = shell_quote(self_path());
  for (const std::string& arg : args) command += " " + shell_quote(arg);
  command += "; echo \"payment-server exited with status $?\" >&2";
  ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
  log_line("cannot run /bin/sh: " + std::string(strerror(errno)));
}
