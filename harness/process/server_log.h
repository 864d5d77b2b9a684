// Reading the embedded PostgreSQL's log for what only the server saw: how the
// target's sessions ended. The server logs with log_line_prefix
// '%m [%p] %d %u %a ' (see database.cc), so every line names its session's
// database and role: the run's database is private to the run, and each
// target instance logs in with a role of its own (see run.cc).
#ifndef LASTCALL_SERVER_LOG_H_
#define LASTCALL_SERVER_LOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "history/server_records.h"
#include "process/database.h"

namespace lastcall {

// What tells a run's sessions apart in the server's log.
struct RunSessions {
  std::string database;                   // the run's database: lines of others are not the run's
  std::string role_prefix;                // instance N logs in as role_prefix + N
  std::vector<OwnSessions::Session> own;  // lastcall's, not the target's
  int64_t history_epoch = 0;              // the wall clock (ns since 1970) at history time 0
};

// The unclean disconnects in `log` (the server log's text) of the target's
// sessions: on `run`'s database and not lastcall's own, whatever their role.
// Lines that do not parse as the prefix above are ignored.
std::vector<UncleanDisconnect> FindUncleanDisconnects(const std::string& log,
                                                      const RunSessions& run);

}  // namespace lastcall

#endif  // LASTCALL_SERVER_LOG_H_
