// The PostgreSQL cluster every embedded server starts from: the system's
// server binaries found, and initdb run once into a cache folder.
#ifndef LASTCALL_POSTGRES_CLUSTER_H_
#define LASTCALL_POSTGRES_CLUSTER_H_

#include <string>
#include <vector>

#include "base/duration.h"
#include "process/service_user.h"

namespace lastcall {

// Lines of initdb's output or the server's log in an error message.
constexpr size_t kLogTailLines = 20;

// The environment of the PostgreSQL programs we run: fixed, so that the
// cached cluster and the server do not depend on the harness's locale or
// time zone (the cluster's default time zone is UTC).
std::vector<std::string> PgEnv();

struct PgBinaries {
  std::string dir;
  int major = 0;
  std::string version;  // "postgres (PostgreSQL) 15.18 (Debian ...)"
};

bool FindBinaries(PgBinaries* bin, std::string* error);

// Returns the cached cluster's folder, running initdb into it first if needed.
bool EnsureCachedCluster(const PgBinaries& bin, const ServiceUser& user, std::string* cluster,
                         Duration* initdb_time, std::string* error);

}  // namespace lastcall

#endif  // LASTCALL_POSTGRES_CLUSTER_H_
