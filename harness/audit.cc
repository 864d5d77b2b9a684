#include "audit.h"

#include <pqxx/pqxx>

namespace lastcall {

namespace {

constexpr char kAuditName[] = "lastcall-audit";

// `url` with our application_name, so our own sessions are never counted as
// the target's.
std::string AuditUrl(const std::string& url) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") +
         "application_name=" + kAuditName;
}

// PostgreSQL's message without the trailing newline.
std::string Message(const std::exception& e) {
  std::string text = e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

std::string JoinRow(const pqxx::row& row) {
  std::string text;
  for (const pqxx::field& f : row) {
    if (!text.empty()) text += ", ";
    text += f.is_null() ? "NULL" : f.c_str();
  }
  return text;
}

}  // namespace

bool ExecuteSql(const std::string& url, const std::string& sql,
                std::string* error) {
  try {
    pqxx::connection c(AuditUrl(url));
    pqxx::nontransaction tx(c);
    tx.exec(sql);
    return true;
  } catch (const std::exception& e) {
    *error = Message(e);
    return false;
  }
}

bool QueryApplied(const std::string& url, const std::string& sql,
                  std::unordered_map<std::string, int64_t>* applied,
                  std::string* error) {
  try {
    pqxx::connection c(AuditUrl(url));
    pqxx::nontransaction tx(c);
    pqxx::result rows = tx.exec(sql);
    if (rows.columns() != 2) {
      *error = "audit.applied must return 2 columns (key, times applied), got " +
               std::to_string(rows.columns());
      return false;
    }
    applied->reserve(rows.size());
    for (const pqxx::row& row : rows) {
      int64_t times = 0;
      if (row[0].is_null() || !row[1].to(times)) {
        *error = "audit.applied returned a row that is not (key, integer): " +
                 JoinRow(row);
        return false;
      }
      (*applied)[row[0].c_str()] += times;
    }
    return true;
  } catch (const std::exception& e) {
    *error = "audit.applied failed: " + Message(e);
    return false;
  }
}

std::vector<InvariantResult> QueryInvariants(
    const std::string& url, const std::vector<Invariant>& invariants) {
  std::vector<InvariantResult> results;
  for (const Invariant& inv : invariants) {
    InvariantResult result;
    result.name = inv.name;
    try {
      pqxx::connection c(AuditUrl(url));
      pqxx::nontransaction tx(c);
      for (const pqxx::row& row : tx.exec(inv.sql))
        result.rows.push_back(JoinRow(row));
    } catch (const std::exception& e) {
      result.error = Message(e);
    }
    results.push_back(std::move(result));
  }
  return results;
}

namespace {

// The SQL condition "application_name starts with `prefix`" (no LIKE: the
// prefix is data, its _ and % must not be wildcards).
std::string StartsWith(pqxx::transaction_base& tx, const std::string& prefix) {
  return "left(application_name, " + std::to_string(prefix.size()) + ") = " +
         tx.quote(prefix);
}

}  // namespace

bool TargetSessions(const std::string& url, const std::string& application_prefix,
                    std::vector<std::string>* sessions, std::string* error) {
  try {
    pqxx::connection c(AuditUrl(url));
    pqxx::nontransaction tx(c);
    pqxx::result rows = tx.exec(
        "SELECT pid, application_name, coalesce(state, ''), left(query, 120) "
        "FROM pg_stat_activity WHERE " + StartsWith(tx, application_prefix) +
        " ORDER BY pid");
    sessions->clear();
    for (const pqxx::row& row : rows)
      sessions->push_back("pid " + std::string(row[0].c_str()) + " " +
                          row[1].c_str() + " " + row[2].c_str() + ": " +
                          row[3].c_str());
    return true;
  } catch (const std::exception& e) {
    *error = Message(e);
    return false;
  }
}

void TerminateSessions(const std::string& url,
                       const std::string& application_prefix) {
  try {
    pqxx::connection c(AuditUrl(url));
    pqxx::nontransaction tx(c);
    tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE " +
            StartsWith(tx, application_prefix));
  } catch (const std::exception&) {
    // Best effort: the run database is dropped WITH (FORCE) afterwards anyway.
  }
}

}  // namespace lastcall
