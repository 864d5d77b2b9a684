// Reading the embedded PostgreSQL's log for what only the server saw: how the
// target's sessions ended. The server logs with log_line_prefix
// '%m [%p] %d %a ' (see database.cc), so every line names its session's
// application, which the harness set per target instance (PGAPPNAME).
#ifndef LASTCALL_SERVER_LOG_H_
#define LASTCALL_SERVER_LOG_H_

#include <string>
#include <vector>

namespace lastcall {

// A target session that ended without the protocol's Terminate message.
struct UncleanDisconnect {
  std::string application;    // the session's application_name
  bool open_transaction = false;  // it was inside a transaction
  std::string line;           // the log line, for the report
};

// The unclean disconnects in `log` (the server log's text) of sessions whose
// application_name starts with `application_prefix`.
std::vector<UncleanDisconnect> FindUncleanDisconnects(
    const std::string& log, const std::string& application_prefix);

}  // namespace lastcall

#endif  // LASTCALL_SERVER_LOG_H_
