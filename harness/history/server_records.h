// What the database server alone saw of the target's sessions, as records:
// process/server_log.h reads them from the server's log; the checks judge
// them.
#ifndef LASTCALL_HISTORY_SERVER_RECORDS_H_
#define LASTCALL_HISTORY_SERVER_RECORDS_H_

#include <cstdint>
#include <string>

namespace lastcall {

// A target session that ended without the protocol's Terminate message.
struct UncleanDisconnect {
  std::string role;               // the role it logged in as
  int instance = 0;               // the instance whose role that is; 0: none's
  int64_t connected = -1;         // history time (ns) it connected; -1 unknown
  bool open_transaction = false;  // it was inside a transaction
  std::string line;               // the log line, for the report
};

}  // namespace lastcall

#endif  // LASTCALL_HISTORY_SERVER_RECORDS_H_
