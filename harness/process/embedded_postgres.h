// The embedded PostgreSQL server the harness runs itself from the system's
// binaries, one per `lastcall run`.
#ifndef LASTCALL_EMBEDDED_POSTGRES_H_
#define LASTCALL_EMBEDDED_POSTGRES_H_

#include <memory>
#include <string>
#include <vector>

#include "process/subprocess.h"

namespace lastcall {

// One PostgreSQL server per `lastcall run`. initdb runs once into a cache
// folder; each Start() copies that cluster into a private folder and starts a
// server on it listening on 127.0.0.1 at a free port and on a unix socket in
// that folder, with trust authentication (nothing else can reach it), logging
// connections, disconnections and client EOFs with the database, the role
// and the application name in each line's prefix ('%m [%p] %d %u %a '). When the harness runs as
// root, the server runs as an unprivileged system user (`postgres`, else `nobody`), because
// PostgreSQL refuses to run as root.
class EmbeddedPostgres {
 public:
  // Starts the server under `work_dir` (a private folder the caller owns and
  // removes). Returns nullptr and sets *error (with the log's tail) if the
  // binaries are missing or the server does not come up within 30 s.
  static std::unique_ptr<EmbeddedPostgres> Start(const std::string& work_dir, std::string* error);

  // Stops the server (fast shutdown: SIGINT, then SIGKILL after 10 s) and
  // removes its data folder.
  ~EmbeddedPostgres();

  // postgresql://... URL of database `dbname` as the superuser.
  std::string UrlFor(const std::string& dbname) const;
  const std::string& log_path() const { return log_path_; }
  int port() const { return port_; }
  // The postmaster's pid (its process group holds every backend).
  pid_t server_pid() const { return server_ ? server_->pid() : -1; }
  // The server's private copy of the cluster; removed by the destructor.
  const std::string& data_dir() const { return data_dir_; }

  // Where Start() spent its time, for reports and tuning.
  struct StartTimings {
    Duration initdb{0};  // zero when the cached cluster was used
    Duration copy{0};    // copying the cached cluster into the data folder
    Duration start{0};   // from spawning postgres to accepting a connection
  };
  const StartTimings& start_timings() const { return timings_; }

 private:
  EmbeddedPostgres() = default;
  void Stop();
  std::unique_ptr<Subprocess> server_;
  std::string data_dir_;
  std::string log_path_;
  std::string url_base_;
  int port_ = 0;
  std::vector<std::string> remove_dirs_;  // data and socket folders we made
  StartTimings timings_;
};

// Releases what a postmaster that was SIGKILLed (with the lastcall that ran
// it) left outside `work_dir`, the folder EmbeddedPostgres::Start was given:
// its System V shared memory segment, named in its postmaster.pid, and its
// cluster's folder in /tmp if the server's user could not reach `work_dir`.
// The segment is in use while that postmaster is still there (a zombie, or
// shutting down) or a process is attached; this waits up to `patience` for
// them to go. Returns true when nothing is left in use (the segment, if
// there was one, removed): the caller may remove `work_dir`. False when
// something still is: `work_dir` must stay, since it is what names the
// segment, for a later run to release it. Dynamic shared memory needs
// nothing: the server keeps it in its data folder
// (dynamic_shared_memory_type=mmap).
bool ReleaseStaleCluster(const std::string& work_dir, Duration patience);

}  // namespace lastcall

#endif  // LASTCALL_EMBEDDED_POSTGRES_H_
