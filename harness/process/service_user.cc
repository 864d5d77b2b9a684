// The unprivileged user the embedded servers run as. See service_user.h.
#include "process/service_user.h"

#include <errno.h>
#include <pwd.h>
#include <unistd.h>

#include "base/errno_text.h"

namespace lastcall {

bool LookupServiceUser(ServiceUser* user, std::string* error) {
  if (::geteuid() != 0) return true;
  for (const char* name : {"postgres", "nobody"}) {
    struct passwd pw, *found = nullptr;
    char buf[4096];
    if (::getpwnam_r(name, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
      user->active = true;
      user->uid = pw.pw_uid;
      user->gid = pw.pw_gid;
      user->name = name;
      return true;
    }
  }
  *error =
      "running as root, but neither the 'postgres' nor the 'nobody' user exists "
      "to run PostgreSQL as (it refuses to run as root)";
  return false;
}

void ApplyUser(const ServiceUser& user, SpawnOptions* o) {
  if (!user.active) return;
  o->uid = user.uid;
  o->gid = user.gid;
}

bool Chown(const std::string& path, const ServiceUser& user, std::string* error) {
  if (!user.active) return true;
  if (::lchown(path.c_str(), user.uid, user.gid) == 0) return true;
  *error = "cannot chown " + path + " to " + user.name + ": " + ErrnoText(errno);
  return false;
}

}  // namespace lastcall
