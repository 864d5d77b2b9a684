// The database side of the audit: the SQL the scenario gives (setup, applied,
// invariants) and the look at pg_stat_activity for the target's sessions.
// The run's database is private to the run, so every session on it that is
// not lastcall's own (OwnSessions: known by backend pid and start time, not
// by a name the target could also set) is the target's.
#ifndef LASTCALL_AUDIT_H_
#define LASTCALL_AUDIT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "check/checks.h"
#include "process/database.h"

namespace pqxx {
class result;
}

namespace lastcall {

// Runs `sql` (any number of statements) on `url`. Returns false and sets
// *error to PostgreSQL's message on failure.
bool ExecuteSql(const std::string& url, const std::string& sql, std::string* error);

// One session to a run's database, kept for the whole run: the setup, every
// look at pg_stat_activity while the leftover scan waits for the target's
// sessions to go, and the audit queries. A new connection costs a TCP
// handshake, a SCRAM exchange and a backend fork: 5-10 ms on an idle machine,
// 50-80 ms on a busy one; a run used to open half a dozen. A connection found
// broken (a target that terminates every backend) is made again, once per
// call.
class AuditConnection {
 public:
  // Connects to `url`, recording the session (and any made again later) in
  // `own` when given; `own` must outlive the connection. Returns nullptr and
  // sets *error to PostgreSQL's message on failure.
  static std::unique_ptr<AuditConnection> Open(const std::string& url, std::string* error,
                                               OwnSessions* own = nullptr);
  ~AuditConnection();

  // From now on, each statement is cancelled when `interrupt` reports a
  // signal (and fails as a cancelled statement does).
  void CancelOnInterrupt(Interrupt* interrupt) { interrupt_ = interrupt; }

  // Runs `sql` (any number of statements), then rolls back a transaction it
  // left open and discards what it set (DISCARD ALL), as closing its own
  // connection would. Returns false and sets *error on failure.
  bool ExecuteScript(const std::string& sql, std::string* error);

  // Runs the `audit.applied` query (or `audit.jobs`, named `section` in
  // messages) and hands `add` each row of (key, times applied) as it
  // streams in (see StreamRows()). Returns false and sets *error when the
  // query fails or does not return two columns with an integer second one.
  bool QueryApplied(const std::string& sql,
                    const std::function<void(const std::string& key, int64_t times)>& add,
                    std::string* error, const std::string& section = "audit.applied");

  // Runs `invariant`'s query: its first `listed` rows go to result->rows,
  // the others are only counted in result->unlisted_rows. Returns false and
  // sets *error to PostgreSQL's message when the query fails: bad input,
  // not a violation.
  bool QueryInvariant(const Invariant& invariant, size_t listed, InvariantResult* result,
                      std::string* error);

  // The target's sessions: those on this connection's database that are not
  // lastcall's own (the OwnSessions given to Open()), under whatever role,
  // one line each ("pid 123 lastcall_ab_1 idle in transaction: UPDATE ...",
  // the second word the session's role). Returns false and sets *error if
  // the server cannot be asked.
  bool TargetSessions(std::vector<std::string>* sessions, std::string* error);

  // Ends those sessions (pg_terminate_backend), so the run leaves nothing
  // behind. Best effort.
  void TerminateSessions();

  // Creates role `role` (LOGIN with `password`, no superuser, inheriting
  // what `member_of` may do: the owner of the run's database and of what
  // its schema made; no role when ""). Returns false and sets *error to
  // PostgreSQL's message when it cannot (an external server where lastcall
  // may not create roles).
  bool CreateRole(const std::string& role, const std::string& password,
                  const std::string& member_of, std::string* error);

 private:
  struct Session;  // the libpqxx connection
  AuditConnection(std::string url, OwnSessions* own);
  // Connects, and records the session in own_.
  void Connect();
  // The target's sessions (see TargetSessions()) in pg_stat_activity, as
  // `a`: the `columns` given. Throws what the query throws.
  pqxx::result QueryTargetSessions(const std::string& columns);
  // Runs `work` on the session; on a broken connection, reconnects and runs
  // it once more. Throws what `work` or connecting throws.
  template <typename Work>
  auto WithSession(const Work& work);
  // Runs `sql`, one query, through a cursor, and hands `batch` its rows a
  // few thousand at a time: a query that returns millions of rows costs one
  // batch of memory, not all of them. Throws what the query or `batch`
  // throws.
  void StreamRows(const std::string& sql, const std::function<void(const pqxx::result&)>& batch);

  std::string url_;
  OwnSessions* own_;  // may be null
  std::unique_ptr<Session> session_;
  Interrupt* interrupt_ = nullptr;
};

}  // namespace lastcall

#endif  // LASTCALL_AUDIT_H_
