// The database the target writes to: an embedded PostgreSQL that the harness
// runs itself from the system's binaries, or an existing server (--db URL).
// Either way each scenario run gets a fresh database of its own, cloned from a
// template that holds the scenario's schema.
#ifndef LASTCALL_DATABASE_H_
#define LASTCALL_DATABASE_H_

#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "process/statement_watch.h"
#include "process/subprocess.h"

namespace lastcall {

// One PostgreSQL server per `lastcall run`. initdb runs once into a cache
// folder; each Start() copies that cluster into a private folder and starts a
// server on it listening on 127.0.0.1 at a free port and on a unix socket in
// that folder, with trust authentication (nothing else can reach it), logging
// connections, disconnections and client EOFs with the database, the role
// and the application name in each line's prefix ('%m [%p] %d %u %a '). When the harness runs as root, the server runs as an
// unprivileged system user (`postgres`, else `nobody`), because PostgreSQL
// refuses to run as root.
class EmbeddedPostgres {
 public:
  // Starts the server under `work_dir` (a private folder the caller owns and
  // removes). Returns nullptr and sets *error (with the log's tail) if the
  // binaries are missing or the server does not come up within 30 s.
  static std::unique_ptr<EmbeddedPostgres> Start(const std::string& work_dir,
                                                 std::string* error);

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

// Sets options->uid and gid to the unprivileged user the embedded servers
// (PostgreSQL, Redis) run as when the harness is root: `postgres`, else
// `nobody`. Leaves them unset when not root. Returns false and sets *error
// when root and neither user exists.
bool RunAsServiceUser(SpawnOptions* options, std::string* error);

// What a run's database starts with.
struct DatabaseContent {
  std::string schema_sql;  // `database.schema`'s text
  std::string setup_sql;   // `database.setup`
};

// Fresh databases for scenario runs on the server `admin_url` points to (a
// superuser connection to any database of it), each cloned from a template
// database per distinct content (schema and setup), made on first use. So
// that a run waits neither for CREATE DATABASE (a checkpoint and a copy of
// the template's files) nor for DROP DATABASE, a thread of its own keeps
// `spares` clones of every content used so far ready to be renamed, and drops
// the databases the runs give back. Thread-safe.
class RunDatabases {
 public:
  RunDatabases(std::string admin_url, int spares);
  // Drops every database given back and every spare, then stops the thread.
  ~RunDatabases();

  // kTimedOut, kInterrupted: `limits` cancelled the schema or the setup, or
  // the wait for another lastcall making the same template (*error names
  // which, and for kTimedOut says it did not finish).
  enum class Failure { kServer, kSchema, kSetup, kTimedOut, kInterrupted };
  // Makes database `dbname` holding `content`: a spare renamed, else a new
  // clone. The schema and setup ran as the role that owns the database and
  // what they made (no superuser), named in *owner for the target's roles to
  // be members of: a role of the template's own, or `admin_url`'s user when
  // that is no superuser (who cannot make one).
  // Returns true on success; on failure false, *failure says what failed and
  // *error how, e.g. the schema's SQL error with PostgreSQL's message and
  // line.
  bool Create(const std::string& dbname, const DatabaseContent& content, std::string* owner,
              Failure* failure, std::string* error, const StatementLimits& limits = {});
  // Drops `dbname` in the background, first terminating any session still in
  // it, then the `roles` that were made for it (a role cannot go while a
  // database it owns objects in exists); the destructor waits for it. Errors
  // are ignored: the embedded server's cluster is removed anyway.
  void Drop(const std::string& dbname, const std::vector<std::string>& roles = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// 128 random bits in hex, for a password.
std::string RandomPassword();

// A PostgreSQL or libpqxx error's text without its trailing newline, for
// messages that go on after it.
std::string PostgresMessage(const std::exception& e);

// `url` with its database name replaced by `dbname`.
std::string UrlWithDatabase(const std::string& url, const std::string& dbname);

// `url` (a URI or a keyword/value conninfo) logging in as `user` with
// `password` instead of the user it names.
std::string UrlWithLogin(const std::string& url, const std::string& user,
                         const std::string& password);

// The libpq environment variables (PGHOST, PGPORT, PGDATABASE, PGUSER,
// PGPASSWORD) that say what `url` says, for clients that build their own
// connection string from them (JDBC users do). Only the parts `url` names;
// an unparsable `url` gives none.
std::vector<std::pair<std::string, std::string>> LibpqEnvironment(const std::string& url);

// The sessions lastcall itself opens on a run's database (the audit
// connection, the database watch), so that every other session on it can be
// taken for the target's without trusting a name the target could also
// choose. Each is known by its backend's pid and start time as the server
// reported them (a pid alone may be reused by a later backend). Thread-safe.
class OwnSessions {
 public:
  struct Session {
    int pid = 0;
    std::string backend_start;  // pg_stat_activity.backend_start, as text
    double registered = 0;      // lastcall's wall clock then, in seconds
  };

  // Records a session of lastcall's: the row kOwnSessionSql returned on it.
  void Add(int pid, const std::string& backend_start);
  std::vector<Session> sessions() const;
  // The pids and backend start times as two PostgreSQL array literals, in
  // the same order: the parameters of TargetSessionsSql().
  std::pair<std::string, std::string> ArrayLiterals() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Session> sessions_;
};

// The query a session of lastcall's runs once connected: its pid and
// backend start time, for OwnSessions::Add().
extern const char kOwnSessionSql[];

// The SQL condition on pg_stat_activity (as `a`) that holds for the target's
// sessions: client backends on the current database that are neither the
// asking session nor one of lastcall's (`$pids`, `$starts`: the parameter
// numbers, e.g. "$1", given OwnSessions::ArrayLiterals()).
std::string TargetSessionsCondition(const std::string& pids, const std::string& starts);

}  // namespace lastcall

#endif  // LASTCALL_DATABASE_H_
