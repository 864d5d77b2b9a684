// The session: what every scenario run of one `lastcall run` shares: a
// private work folder, the PostgreSQL server, the interrupt watch.
#ifndef LASTCALL_SESSION_H_
#define LASTCALL_SESSION_H_

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/interrupt.h"
#include "process/database.h"
#include "report/report.h"

namespace lastcall {

struct RunOptions {
  std::string reports_dir = "reports";
  std::string db_url;                  // --db: an existing server; empty: embedded
  std::optional<uint64_t> seed;        // --seed: overrides every scenario's seed
  ConsoleStyle console;                // --quiet, --verbose; colour on a terminal
  std::vector<std::string> overrides;  // --set KEY=VALUE, applied to every file
  int jobs = 1;                        // --jobs: scenario runs side by side
};

class Session {
 public:
  // Makes the private work folder and takes the reports folder for this
  // process (a lock file in it: two lastcalls writing the same reports would
  // mix them). Returns nullptr and sets *error on failure, or when another
  // live lastcall holds the reports folder.
  static std::unique_ptr<Session> Open(const RunOptions& options, Interrupt* interrupt,
                                       std::string* error);
  // Stops the embedded server (if started), then removes the work folder:
  // the reverse of the order they were made in.
  ~Session();

  // Starts the embedded PostgreSQL on first use (or checks --db). Returns the
  // admin URL (a superuser connection to database "postgres"), or "" and
  // *error; a server that failed to start is not tried again. Thread-safe:
  // the first caller starts the server, the others wait for it. The server
  // dies with the thread that started it (parent-death signal): with --jobs,
  // call it first from the thread that outlives the runs.
  std::string AdminUrl(std::string* error);
  // The server's log file, "" for an external server.
  std::string ServerLog() const;
  // Where runs get their databases, made with the server on first use (see
  // AdminUrl()). Returns nullptr and *error if the server is not there.
  // Owned by the session.
  RunDatabases* Databases(std::string* error);

  const RunOptions& options() const { return options_; }
  Interrupt* interrupt() { return interrupt_; }
  const std::string& work_dir() const { return work_dir_; }

 private:
  Session() = default;
  // Locks options_.reports_dir/.lastcall.lock until the session ends. A
  // folder that cannot be made or written is not an error here: each run
  // reports it.
  bool LockReports(std::string* error);
  RunOptions options_;
  Interrupt* interrupt_ = nullptr;
  std::string work_dir_;
  int reports_lock_ = -1;            // flock()ed; released by the kernel even on SIGKILL
  mutable std::mutex server_mutex_;  // guards postgres_, admin_url_, server_error_
  std::unique_ptr<EmbeddedPostgres> postgres_;
  std::string admin_url_;
  std::unique_ptr<RunDatabases> databases_;  // with admin_url_; before the server goes
  std::string server_error_;                 // why the server could not be started or reached
};

}  // namespace lastcall

#endif  // LASTCALL_SESSION_H_
