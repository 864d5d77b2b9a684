// Each scenario run's fresh database, cloned from a template that holds the
// scenario's schema, on the embedded server or an existing one (--db URL).
#ifndef LASTCALL_RUN_DATABASES_H_
#define LASTCALL_RUN_DATABASES_H_

#include <memory>
#include <string>
#include <vector>

#include "process/statement_watch.h"

namespace lastcall {

// What a run's database starts with.
struct DatabaseContent {
  std::string schema_sql;  // `database.schema`'s text
  std::string setup_sql;   // `database.setup`
};

// Fresh databases for scenario runs on the server `admin_url` points to (a
// superuser connection to any database of it), each cloned from a template
// database per distinct content (schema and setup), made on first use. So
// that a run waits neither for CREATE DATABASE (a checkpoint and a copy of
// the template's files) nor for DROP DATABASE, a thread of its own keeps
// `spares` clones of every content used so far ready to be renamed, and drops
// the databases the runs give back. Thread-safe.
class RunDatabases {
 public:
  RunDatabases(std::string admin_url, int spares);
  // Drops every database given back and every spare, then stops the thread.
  ~RunDatabases();

  // kTimedOut, kInterrupted: `limits` cancelled the schema or the setup, or
  // the wait for another lastcall making the same template (*error names
  // which, and for kTimedOut says it did not finish).
  enum class Failure { kServer, kSchema, kSetup, kTimedOut, kInterrupted };
  // Makes database `dbname` holding `content`: a spare renamed, else a new
  // clone. The schema and setup ran as the role that owns the database and
  // what they made (no superuser), named in *owner for the target's roles to
  // be members of: a role of the template's own, or `admin_url`'s user when
  // that is no superuser (who cannot make one).
  // Returns true on success; on failure false, *failure says what failed and
  // *error how, e.g. the schema's SQL error with PostgreSQL's message and
  // line.
  bool Create(const std::string& dbname, const DatabaseContent& content, std::string* owner,
              Failure* failure, std::string* error, const StatementLimits& limits = {});
  // Drops `dbname` in the background, first terminating any session still in
  // it, then the `roles` that were made for it (a role cannot go while a
  // database it owns objects in exists); the destructor waits for it. Errors
  // are ignored: the embedded server's cluster is removed anyway.
  void Drop(const std::string& dbname, const std::vector<std::string>& roles = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lastcall

#endif  // LASTCALL_RUN_DATABASES_H_
