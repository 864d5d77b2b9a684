// The database side of the audit: the SQL the scenario gives (setup, applied,
// invariants) and the look at pg_stat_activity for the target's sessions.
// Our sessions are named "lastcall-audit", so the target's sessions (named by
// PGAPPNAME) are never confused with ours.
#ifndef LASTCALL_AUDIT_H_
#define LASTCALL_AUDIT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "checks.h"

namespace lastcall {

// Runs `sql` (any number of statements) on `url`. Returns false and sets
// *error to PostgreSQL's message on failure.
bool ExecuteSql(const std::string& url, const std::string& sql,
                std::string* error);

// One session to a run's database, kept for the whole run: the setup, every
// look at pg_stat_activity while the leftover scan waits for the target's
// sessions to go, and the audit queries. A new connection costs a TCP
// handshake, a SCRAM exchange and a backend fork: 5-10 ms on an idle machine,
// 50-80 ms on a busy one; a run used to open half a dozen. A connection found
// broken (a target that terminates every backend) is made again, once per
// call.
class AuditConnection {
 public:
  // Connects to `url`. Returns nullptr and sets *error to PostgreSQL's
  // message on failure.
  static std::unique_ptr<AuditConnection> Open(const std::string& url,
                                               std::string* error);
  ~AuditConnection();

  // Runs `sql` (any number of statements), then rolls back a transaction it
  // left open and discards what it set (DISCARD ALL), as closing its own
  // connection would. Returns false and sets *error on failure.
  bool ExecuteScript(const std::string& sql, std::string* error);

  // Runs the `audit.applied` query (or `audit.jobs`, named `section` in
  // messages) and appends its rows of (key, times applied) to *applied.
  // Returns false and sets *error when the query fails or does not return
  // two columns with an integer second one.
  bool QueryApplied(const std::string& sql, KeyCounts* applied, std::string* error,
                    const std::string& section = "audit.applied");

  // Runs each invariant; a failing query is reported in its result, not
  // thrown.
  std::vector<InvariantResult> QueryInvariants(
      const std::vector<Invariant>& invariants);

  // The sessions on the server (any database) whose application_name starts
  // with `application_prefix`, one line each ("pid 123 lastcall-ab-1 idle in
  // transaction: UPDATE ..."). Returns false and sets *error if the server
  // cannot be asked.
  bool TargetSessions(const std::string& application_prefix,
                      std::vector<std::string>* sessions, std::string* error);

  // Ends those sessions (pg_terminate_backend), so the run leaves nothing
  // behind. Best effort.
  void TerminateSessions(const std::string& application_prefix);

 private:
  struct Session;  // the libpqxx connection
  explicit AuditConnection(std::string url);
  // Runs `work` on the session; on a broken connection, reconnects and runs
  // it once more. Throws what `work` or connecting throws.
  template <typename Work>
  auto WithSession(const Work& work);

  std::string url_;
  std::unique_ptr<Session> session_;
};

}  // namespace lastcall

#endif  // LASTCALL_AUDIT_H_
