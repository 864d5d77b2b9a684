// The run's database: made on the session's server, dropped with its roles
// when the run ends.
#ifndef LASTCALL_CASE_DATABASE_H_
#define LASTCALL_CASE_DATABASE_H_

#include <string>
#include <vector>

#include "process/database.h"
#include "process/statement_watch.h"

namespace lastcall {

// The run's database, given back to be dropped when the run ends, then the
// roles made for its target.
class RunDatabase {
 public:
  ~RunDatabase() {
    if (databases_) databases_->Drop(name_, roles_);
  }
  void AddRole(const std::string& role) { roles_.push_back(role); }
  bool Create(RunDatabases* databases, const std::string& name,
              const DatabaseContent& content, RunDatabases::Failure* failure,
              std::string* error, const StatementLimits& limits) {
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

}  // namespace lastcall

#endif  // LASTCALL_CASE_DATABASE_H_
