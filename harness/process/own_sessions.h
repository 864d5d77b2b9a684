// Telling lastcall's own sessions on a run's database from the target's.
#ifndef LASTCALL_OWN_SESSIONS_H_
#define LASTCALL_OWN_SESSIONS_H_

#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace lastcall {

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

#endif  // LASTCALL_OWN_SESSIONS_H_
