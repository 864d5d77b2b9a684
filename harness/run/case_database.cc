#include "run/case_database.h"

namespace lastcall {

CaseDatabase::CaseDatabase(const std::string& run_id)
    : name_("lastcall_run_" + run_id),
      role_prefix_("lastcall_" + run_id + "_"),
      role_password_(RandomPassword()) {}

bool CaseDatabase::Create(RunDatabases* databases, const std::string& admin_url,
                          const DatabaseContent& content, const StatementLimits& limits,
                          RunDatabases::Failure* failure, std::string* error) {
  if (!database_.Create(databases, name_, content, failure, error, limits)) return false;
  url_ = UrlWithDatabase(admin_url, name_);
  return true;
}

void CaseDatabase::OpenConnection() {
  // A connection costs a server backend's start (60-170 ms on a busy
  // machine): it is made while the rest is prepared; the first instance's
  // role waits for it.
  opening_ = std::async(std::launch::async, [url = url_, own = &own_sessions_] {
    std::string error;
    std::unique_ptr<AuditConnection> connection = AuditConnection::Open(url, &error, own);
    return std::make_pair(std::move(connection), error);
  });
}

bool CaseDatabase::AwaitConnection(RunFailure* failure) {
  if (!opening_.valid()) {  // taken before
    if (connection_) return true;
  } else {
    auto [connection, error] = opening_.get();
    connection_ = std::move(connection);
    if (connection_) return true;
    connection_error_ = "cannot connect to the run's database: " + error;
  }
  *failure = {Verdict::kInfrastructure, connection_error_};
  return false;
}

bool CaseDatabase::UrlFor(int id, std::string* url, RunFailure* failure) {
  *url = url_;
  if (!roles_error_.empty()) return true;  // no use trying again
  if (!AwaitConnection(failure)) return false;
  const std::string role = role_prefix_ + std::to_string(id);
  if (!connection_->CreateRole(role, role_password_, database_.owner(), &roles_error_)) return true;
  database_.AddRole(role);
  *url = InstanceUrl(id);
  return true;
}

std::string CaseDatabase::InstanceUrl(int id) const {
  return roles_error_.empty()
             ? UrlWithLogin(url_, role_prefix_ + std::to_string(id), role_password_)
             : url_;
}

}  // namespace lastcall
