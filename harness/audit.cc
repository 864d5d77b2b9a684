#include "audit.h"

#include <pqxx/pqxx>

#include "database.h"

namespace lastcall {

namespace {

constexpr char kAuditName[] = "lastcall-audit";

// `url` with our application_name, so our own sessions are never counted as
// the target's.
std::string AuditUrl(const std::string& url) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") +
         "application_name=" + kAuditName;
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

struct AuditConnection::Session {
  explicit Session(const std::string& url) : connection(AuditUrl(url)) {}
  pqxx::connection connection;
};

AuditConnection::AuditConnection(std::string url) : url_(std::move(url)) {}
AuditConnection::~AuditConnection() = default;

std::unique_ptr<AuditConnection> AuditConnection::Open(const std::string& url,
                                                       std::string* error) {
  std::unique_ptr<AuditConnection> audit(new AuditConnection(url));
  try {
    audit->session_ = std::make_unique<Session>(url);
    return audit;
  } catch (const std::exception& e) {
    *error = PostgresMessage(e);
    return nullptr;
  }
}

template <typename Work>
auto AuditConnection::WithSession(const Work& work) {
  try {
    pqxx::nontransaction tx(session_->connection);
    return work(tx);
  } catch (const pqxx::broken_connection&) {
    session_ = std::make_unique<Session>(url_);
    pqxx::nontransaction tx(session_->connection);
    return work(tx);
  }
}

bool ExecuteSql(const std::string& url, const std::string& sql,
                std::string* error) {
  std::unique_ptr<AuditConnection> audit = AuditConnection::Open(url, error);
  return audit && audit->ExecuteScript(sql, error);
}

bool AuditConnection::ExecuteScript(const std::string& sql, std::string* error) {
  try {
    WithSession([&](pqxx::nontransaction& tx) {
      tx.exec(sql);
      // What a fresh connection would not have seen. (ROLLBACK outside a
      // transaction is a warning, which libpqxx does not print.)
      tx.exec("ROLLBACK");
      tx.exec("DISCARD ALL");
      return true;
    });
    return true;
  } catch (const std::exception& e) {
    *error = PostgresMessage(e);
    // A failed script may leave an aborted transaction block behind.
    try {
      WithSession([](pqxx::nontransaction& tx) { return tx.exec("ROLLBACK"); });
    } catch (const std::exception&) {
    }
    return false;
  }
}

bool AuditConnection::QueryApplied(
    const std::string& sql, KeyCounts* applied, std::string* error,
    const std::string& section) {
  try {
    pqxx::result rows =
        WithSession([&](pqxx::nontransaction& tx) { return tx.exec(sql); });
    if (rows.columns() != 2) {
      *error = section + " must return 2 columns (key, times applied), got " +
               std::to_string(rows.columns());
      return false;
    }
    applied->reserve(rows.size());
    for (const pqxx::row& row : rows) {
      int64_t times = 0;
      if (row[0].is_null() || !row[1].to(times)) {
        *error = section + " returned a row that is not (key, integer): " +
                 JoinRow(row);
        return false;
      }
      applied->emplace_back(row[0].c_str(), times);
    }
    return true;
  } catch (const std::exception& e) {
    *error = section + " failed: " + PostgresMessage(e);
    return false;
  }
}

std::vector<InvariantResult> AuditConnection::QueryInvariants(
    const std::vector<Invariant>& invariants) {
  std::vector<InvariantResult> results;
  for (const Invariant& inv : invariants) {
    InvariantResult result;
    result.name = inv.name;
    try {
      pqxx::result rows =
          WithSession([&](pqxx::nontransaction& tx) { return tx.exec(inv.sql); });
      for (const pqxx::row& row : rows) result.rows.push_back(JoinRow(row));
    } catch (const std::exception& e) {
      result.error = PostgresMessage(e);
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

bool AuditConnection::TargetSessions(const std::string& application_prefix,
                                     std::vector<std::string>* sessions,
                                     std::string* error) {
  try {
    pqxx::result rows = WithSession([&](pqxx::nontransaction& tx) {
      return tx.exec(
          "SELECT pid, application_name, coalesce(state, ''), left(query, 120) "
          "FROM pg_stat_activity WHERE " + StartsWith(tx, application_prefix) +
          " ORDER BY pid");
    });
    sessions->clear();
    for (const pqxx::row& row : rows)
      sessions->push_back("pid " + std::string(row[0].c_str()) + " " +
                          row[1].c_str() + " " + row[2].c_str() + ": " +
                          row[3].c_str());
    return true;
  } catch (const std::exception& e) {
    *error = PostgresMessage(e);
    return false;
  }
}

void AuditConnection::TerminateSessions(const std::string& application_prefix) {
  try {
    WithSession([&](pqxx::nontransaction& tx) {
      return tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE " +
                     StartsWith(tx, application_prefix));
    });
  } catch (const std::exception&) {
    // Best effort: the run database is dropped WITH (FORCE) afterwards anyway.
  }
}

}  // namespace lastcall
