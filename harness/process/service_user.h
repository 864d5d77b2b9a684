// The unprivileged system user the embedded servers (PostgreSQL, Redis) run
// as when the harness is root: PostgreSQL refuses to run as root.
#ifndef LASTCALL_SERVICE_USER_H_
#define LASTCALL_SERVICE_USER_H_

#include <string>

#include <sys/types.h>

#include "process/subprocess.h"

namespace lastcall {

// The user PostgreSQL runs as when the harness is root.
struct ServiceUser {
  bool active = false;  // false: not root, run as ourselves
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

// Sets *user to `postgres`, else `nobody`, when root; leaves it inactive
// when not. Returns false and sets *error when root and neither user exists.
bool LookupServiceUser(ServiceUser* user, std::string* error);

// Makes `o` run as `user` (nothing when it is inactive).
void ApplyUser(const ServiceUser& user, SpawnOptions* o);

// Gives `path` (a symbolic link itself, not what it points to) to `user`,
// for a server that must write there; nothing when `user` is inactive.
bool Chown(const std::string& path, const ServiceUser& user, std::string* error);

}  // namespace lastcall

#endif  // LASTCALL_SERVICE_USER_H_
