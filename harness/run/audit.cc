#include "run/audit.h"

#include <cctype>
#include <optional>
#include <stdexcept>

#include <pqxx/pqxx>

#include "process/database.h"

namespace lastcall {

namespace {

constexpr char kAuditName[] = "lastcall-audit";

// `url` with our application_name, for a reader of pg_stat_activity (the
// target's sessions are told from ours by OwnSessions, not by this name).
std::string AuditUrl(const std::string& url) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "application_name=" + kAuditName;
}

// Rows at a time from a cursor (StreamRows()): about a megabyte of short
// keys, and as fast as one result (fetching a million two-column rows).
constexpr size_t kStreamBatchRows = 10000;

// A row of audit.applied that is not (key, integer).
struct BadRows : std::runtime_error {
  using std::runtime_error::runtime_error;
};

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

AuditConnection::AuditConnection(std::string url, OwnSessions* own)
    : url_(std::move(url)), own_(own) {}
AuditConnection::~AuditConnection() = default;

void AuditConnection::Connect() {
  session_ = std::make_unique<Session>(url_);
  if (!own_) return;
  pqxx::nontransaction tx(session_->connection);
  pqxx::row me = tx.exec1(kOwnSessionSql);
  own_->Add(me[0].as<int>(), me[1].c_str());
}

std::unique_ptr<AuditConnection> AuditConnection::Open(const std::string& url, std::string* error,
                                                       OwnSessions* own) {
  std::unique_ptr<AuditConnection> audit(new AuditConnection(url, own));
  try {
    audit->Connect();
    return audit;
  } catch (const std::exception& e) {
    *error = PostgresMessage(e);
    return nullptr;
  }
}

template <typename Work>
auto AuditConnection::WithSession(const Work& work) {
  auto run = [&] {
    pqxx::nontransaction tx(session_->connection);
    std::optional<StatementWatch> watch;
    if (interrupt_) watch.emplace(session_->connection, StatementLimits{interrupt_});
    return work(tx);
  };
  try {
    return run();
  } catch (const pqxx::broken_connection&) {
    Connect();
    return run();
  }
}

bool ExecuteSql(const std::string& url, const std::string& sql, std::string* error) {
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

void AuditConnection::StreamRows(const std::string& sql,
                                 const std::function<void(const pqxx::result&)>& batch) {
  // A cursor holds one statement, without the semicolon that may end it.
  std::string query = sql;
  while (!query.empty() &&
         (std::isspace(static_cast<unsigned char>(query.back())) || query.back() == ';'))
    query.pop_back();
  bool streamed = false;
  try {
    WithSession([&](pqxx::nontransaction& tx) {
      if (streamed)  // rows were handed on: running it again would repeat them
        throw pqxx::broken_connection("the connection broke while the query's rows streamed");
      tx.exec("BEGIN");
      // No newline before the query: the server's "LINE n" stays the query's.
      tx.exec("DECLARE lastcall_rows NO SCROLL CURSOR FOR " + query);
      for (;;) {
        pqxx::result rows =
            tx.exec("FETCH FORWARD " + std::to_string(kStreamBatchRows) + " FROM lastcall_rows");
        streamed = true;
        batch(rows);
        if (rows.size() < kStreamBatchRows) break;
      }
      // COMMIT, not ROLLBACK: the query runs as it would on its own.
      return tx.exec("COMMIT");
    });
  } catch (...) {
    // Out of the transaction block the query or `batch` left open.
    try {
      WithSession([](pqxx::nontransaction& tx) { return tx.exec("ROLLBACK"); });
    } catch (const std::exception&) {
    }
    throw;
  }
}

bool AuditConnection::QueryApplied(
    const std::string& sql, const std::function<void(const std::string& key, int64_t times)>& add,
    std::string* error, const std::string& section) {
  try {
    StreamRows(sql, [&](const pqxx::result& rows) {
      if (rows.columns() != 2)
        throw BadRows(section + " must return 2 columns (key, times applied), got " +
                      std::to_string(rows.columns()));
      for (const pqxx::row& row : rows) {
        int64_t times = 0;
        bool integer = false;
        try {
          integer = row[1].to(times);
        } catch (const pqxx::conversion_error&) {
        }
        if (row[0].is_null() || !integer)
          throw BadRows(section + " returned a row that is not (key, integer): " + JoinRow(row));
        add(row[0].c_str(), times);
      }
    });
    return true;
  } catch (const BadRows& e) {
    *error = e.what();
    return false;
  } catch (const std::exception& e) {
    *error = section + " failed: " + PostgresMessage(e);
    return false;
  }
}

bool AuditConnection::QueryInvariant(const Invariant& invariant, size_t listed,
                                     InvariantResult* result, std::string* error) {
  result->name = invariant.name;
  try {
    StreamRows(invariant.sql, [&](const pqxx::result& rows) {
      for (const pqxx::row& row : rows) {
        if (result->rows.size() < listed)
          result->rows.push_back(JoinRow(row));
        else
          ++result->unlisted_rows;
      }
    });
    return true;
  } catch (const std::exception& e) {
    *error = PostgresMessage(e);
    return false;
  }
}

// The target's sessions in pg_stat_activity, as `a`, with `columns`.
pqxx::result AuditConnection::QueryTargetSessions(const std::string& columns) {
  const std::pair<std::string, std::string> own =
      own_ ? own_->ArrayLiterals() : std::make_pair(std::string("{}"), std::string("{}"));
  return WithSession([&](pqxx::nontransaction& tx) {
    return tx.exec_params("SELECT " + columns + " FROM pg_stat_activity a WHERE " +
                              TargetSessionsCondition("$1", "$2") + " ORDER BY a.pid",
                          own.first, own.second);
  });
}

bool AuditConnection::TargetSessions(std::vector<std::string>* sessions, std::string* error) {
  try {
    pqxx::result rows = QueryTargetSessions(
        "a.pid, coalesce(a.usename, ''), coalesce(a.state, ''), left(a.query, 120)");
    sessions->clear();
    for (const pqxx::row& row : rows)
      sessions->push_back("pid " + std::string(row[0].c_str()) + " " + row[1].c_str() + " " +
                          row[2].c_str() + ": " + row[3].c_str());
    return true;
  } catch (const std::exception& e) {
    *error = PostgresMessage(e);
    return false;
  }
}

void AuditConnection::TerminateSessions() {
  try {
    QueryTargetSessions("pg_terminate_backend(a.pid)");
  } catch (const std::exception&) {
    // Best effort: the run database is dropped WITH (FORCE) afterwards anyway.
  }
}

bool AuditConnection::CreateRole(const std::string& role, const std::string& password,
                                 const std::string& member_of, std::string* error) {
  // No superuser: what the target may do is what the owner of its database
  // may, so that it cannot reach lastcall's own login, other databases or
  // the server's settings.
  try {
    WithSession([&](pqxx::nontransaction& tx) {
      return tx.exec("CREATE ROLE " + tx.quote_name(role) +
                     " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT PASSWORD " +
                     tx.quote(password) +
                     (member_of.empty() ? "" : " IN ROLE " + tx.quote_name(member_of)));
    });
    return true;
  } catch (const std::exception& e) {
    *error = PostgresMessage(e);
    return false;
  }
}

}  // namespace lastcall
