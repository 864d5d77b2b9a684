// The run's database: made on the session's server from the scenario's
// schema and setup, a role of its own for each instance of the target, the
// one connection lastcall keeps to it (roles, session polls, the audit's
// queries), and dropped with its roles when the run ends.
#ifndef LASTCALL_CASE_DATABASE_H_
#define LASTCALL_CASE_DATABASE_H_

#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "process/database.h"
#include "process/statement_watch.h"
#include "run/audit.h"
#include "run/target_fleet.h"

namespace lastcall {

// The run's database, given back to be dropped when the run ends, then the
// roles made for its target.
class RunDatabase {
 public:
  ~RunDatabase() {
    if (databases_) databases_->Drop(name_, roles_);
  }
  void AddRole(const std::string& role) { roles_.push_back(role); }
  bool Create(RunDatabases* databases, const std::string& name, const DatabaseContent& content,
              RunDatabases::Failure* failure, std::string* error, const StatementLimits& limits) {
    *failure = RunDatabases::Failure::kServer;
    if (!databases || !databases->Create(name, content, &owner_, failure, error, limits))
      return false;
    databases_ = databases;
    name_ = name;
    return true;
  }
  // The role that owns the database (RunDatabases::Create()).
  const std::string& owner() const { return owner_; }

 private:
  RunDatabases* databases_ = nullptr;  // owned by the session
  std::string name_, owner_;
  std::vector<std::string> roles_;
};

class CaseDatabase : public InstanceDatabase {
 public:
  // The names of run `run_id`'s database and roles.
  explicit CaseDatabase(const std::string& run_id);
  // Closes the connection, then drops the database and its roles.
  ~CaseDatabase() override = default;

  // Makes the database on the server at `admin_url` (a superuser's), within
  // `limits`, from `content`. Returns false and sets *failure and *error
  // when it could not be made.
  bool Create(RunDatabases* databases, const std::string& admin_url, const DatabaseContent& content,
              const StatementLimits& limits, RunDatabases::Failure* failure, std::string* error);
  // Begins to open the connection in the background.
  void OpenConnection();
  // Takes the connection OpenConnection() began to open. Returns false and
  // sets *failure if it could not be made.
  bool AwaitConnection(RunFailure* failure);
  // InstanceDatabase: the database URL of instance `id`, as a role of its
  // own, made now, else (lastcall may not make roles there) the run's, with
  // the reason in roles_error(). Returns false if the connection that makes
  // roles could not be had.
  bool UrlFor(int id, std::string* url, RunFailure* failure) override;
  // Instance `id`'s URL once its role is made: lastcall's own login (url())
  // goes to nobody else, unless roles could not be made.
  std::string InstanceUrl(int id) const;

  const std::string& name() const { return name_; }
  // lastcall's own login to the run's database.
  const std::string& url() const { return url_; }
  const std::string& role_prefix() const { return role_prefix_; }
  // Why instances have no role of their own; "" when they have.
  const std::string& roles_error() const { return roles_error_; }
  // The target's sessions are all those on the database but these.
  OwnSessions* own_sessions() { return &own_sessions_; }
  // The connection, once AwaitConnection() took it; else null.
  AuditConnection* connection() { return connection_.get(); }

 private:
  const std::string name_, role_prefix_, role_password_;
  std::string url_, roles_error_;
  std::string connection_error_;  // why the connection could not be made
  OwnSessions own_sessions_;      // before the connections that join it
  RunDatabase database_;
  // After database_, so that it is closed before the database is dropped.
  std::future<std::pair<std::unique_ptr<AuditConnection>, std::string>> opening_;
  std::unique_ptr<AuditConnection> connection_;
};

}  // namespace lastcall

#endif  // LASTCALL_CASE_DATABASE_H_
