// PostgreSQL connection strings, passwords and error texts, and lastcall's
// own connections.
#ifndef LASTCALL_POSTGRES_URL_H_
#define LASTCALL_POSTGRES_URL_H_

#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

namespace lastcall {

// 128 random bits in hex, for a password.
std::string RandomPassword();

// A PostgreSQL or libpqxx error's text without its trailing newline, for
// messages that go on after it.
std::string PostgresMessage(const std::exception& e);

// `url` with its database name replaced by `dbname`.
std::string UrlWithDatabase(const std::string& url, const std::string& dbname);

// `url` (a URI or a keyword/value conninfo) logging in as `user` with
// `password` instead of the user it names.
std::string UrlWithLogin(const std::string& url, const std::string& user,
                         const std::string& password);

// `url` (a URI or a keyword/value conninfo) with one more parameter.
std::string UrlWithParam(const std::string& url, const std::string& key, const std::string& value);

// A connection for our own bookkeeping: named "lastcall", so that it can be
// told apart from the target's sessions, and quiet (no NOTICEs on stderr).
std::unique_ptr<pqxx::connection> ConnectAsLastcall(const std::string& url);

// The libpq environment variables (PGHOST, PGPORT, PGDATABASE, PGUSER,
// PGPASSWORD) that say what `url` says, for clients that build their own
// connection string from them (JDBC users do). Only the parts `url` names;
// an unparsable `url` gives none.
std::vector<std::pair<std::string, std::string>> LibpqEnvironment(const std::string& url);

}  // namespace lastcall

#endif  // LASTCALL_POSTGRES_URL_H_
