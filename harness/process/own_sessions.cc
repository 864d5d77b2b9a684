// lastcall's own sessions. See own_sessions.h.
#include "process/own_sessions.h"

#include <chrono>

namespace lastcall {

const char kOwnSessionSql[] =
    "SELECT pid, backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()";

void OwnSessions::Add(int pid, const std::string& backend_start) {
  std::lock_guard<std::mutex> lock(mutex_);
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  sessions_.push_back(Session{pid, backend_start, now});
}

std::vector<OwnSessions::Session> OwnSessions::sessions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_;
}

std::pair<std::string, std::string> OwnSessions::ArrayLiterals() const {
  std::string pids = "{", starts = "{";
  for (const Session& session : sessions()) {
    if (pids.size() > 1) pids += ",", starts += ",";
    pids += std::to_string(session.pid);
    starts += "\"" + session.backend_start + "\"";
  }
  return {pids + "}", starts + "}"};
}

std::string TargetSessionsCondition(const std::string& pids, const std::string& starts) {
  // backend_type: autovacuum workers and a query's parallel workers are on
  // the database too. A pid alone could be a later backend that reused it.
  return "a.datname = current_database() AND a.backend_type = 'client backend' AND "
         "a.pid <> pg_backend_pid() AND (a.pid, a.backend_start) NOT IN "
         "(SELECT * FROM unnest(" +
         pids + "::int[], " + starts + "::timestamptz[]))";
}

}  // namespace lastcall
