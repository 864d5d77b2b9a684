// The database side of the audit: the SQL the scenario gives (setup, applied,
// invariants) and the look at pg_stat_activity for the target's sessions.
// Every function opens its own short connection named "lastcall-audit", so
// the target's sessions (named by PGAPPNAME) are never confused with ours.
#ifndef LASTCALL_AUDIT_H_
#define LASTCALL_AUDIT_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "checks.h"

namespace lastcall {

// Runs `sql` (any number of statements) on `url`. Returns false and sets
// *error to PostgreSQL's message on failure.
bool ExecuteSql(const std::string& url, const std::string& sql,
                std::string* error);

// Runs the `audit.applied` query: rows of (key, times applied). Returns false
// and sets *error when the query fails or does not return two columns with
// an integer second one.
bool QueryApplied(const std::string& url, const std::string& sql,
                  std::unordered_map<std::string, int64_t>* applied,
                  std::string* error);

// Runs each invariant; a failing query is reported in its result, not thrown.
std::vector<InvariantResult> QueryInvariants(
    const std::string& url, const std::vector<Invariant>& invariants);

// The sessions on the server whose application_name starts with
// `application_prefix`, one line each ("pid 123 lastcall-ab-1 idle in
// transaction: UPDATE ..."). Returns false and sets *error if the server
// cannot be asked.
bool TargetSessions(const std::string& url, const std::string& application_prefix,
                    std::vector<std::string>* sessions, std::string* error);

// Ends those sessions (pg_terminate_backend), so the run leaves nothing behind.
void TerminateSessions(const std::string& url,
                       const std::string& application_prefix);

}  // namespace lastcall

#endif  // LASTCALL_AUDIT_H_
