// The cached PostgreSQL cluster. See postgres_cluster.h.
//
//   1. find the server binaries ($LASTCALL_PG_BINDIR if set, else
//      /usr/lib/postgresql/15/bin, else the newest /usr/lib/postgresql/*/bin,
//      else `pg_config --bindir`);
//   2. initdb once into a cache folder keyed by the major version (under a
//      flock, into a temp folder renamed into place, so that concurrent runs
//      neither race nor see half a cluster).
// As root, initdb runs as the `postgres` system user (else `nobody`).
#include "process/postgres_cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>

#include <sys/file.h>
#include <sys/stat.h>

#include "base/errno_text.h"
#include "base/file.h"
#include "base/last_lines.h"

namespace fs = std::filesystem;

namespace lastcall {

using namespace std::chrono_literals;

std::vector<std::string> PgEnv() { return {"PATH=/usr/bin:/bin", "LC_ALL=C", "LANG=C", "TZ=UTC"}; }

namespace {

constexpr Duration kInitdbTimeout = 120s;

bool IsExecutable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

bool HasServerBinaries(const std::string& dir) {
  return IsExecutable(dir + "/postgres") && IsExecutable(dir + "/initdb");
}

}  // namespace

bool FindBinaries(PgBinaries* bin, std::string* error) {
  auto try_dir = [&](const std::string& dir) {
    if (!HasServerBinaries(dir)) return false;
    SpawnOptions v;
    v.argv = {dir + "/postgres", "--version"};
    v.env = PgEnv();
    CapturedOutput out = RunCaptured(v, 10s);
    size_t at = out.output.find("(PostgreSQL) ");
    if (!out.ok() || at == std::string::npos) return false;
    bin->dir = dir;
    bin->major = std::atoi(out.output.c_str() + at + 13);
    bin->version = out.output.substr(0, out.output.find('\n'));
    return bin->major > 0;
  };
  // An explicit choice wins, and is not second-guessed.
  if (const char* dir = getenv("LASTCALL_PG_BINDIR"); dir != nullptr && *dir != '\0') {
    if (try_dir(dir)) return true;
    *error = std::string("LASTCALL_PG_BINDIR=") + dir +
             " does not hold working PostgreSQL server binaries (postgres, initdb)";
    return false;
  }
  std::vector<std::string> candidates = {"/usr/lib/postgresql/15/bin"};
  std::vector<std::pair<int, std::string>> others;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
      others.emplace_back(std::stoi(name), entry.path().string() + "/bin");
    }
  }
  std::sort(others.rbegin(), others.rend());  // newest first
  for (const auto& o : others) candidates.push_back(o.second);
  for (const std::string& dir : candidates) {
    if (try_dir(dir)) return true;
  }
  // Elsewhere (a PGDG or source install): ask pg_config.
  SpawnOptions pg_config;
  pg_config.argv = {"pg_config", "--bindir"};
  pg_config.env = {std::string("PATH=") + (getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin")};
  CapturedOutput r = RunCaptured(pg_config, 10s);
  if (r.ok() && try_dir(r.output.substr(0, r.output.find('\n')))) return true;
  *error =
      "PostgreSQL server binaries (postgres, initdb) not found in "
      "/usr/lib/postgresql/*/bin or `pg_config --bindir`; install them with: "
      "apt-get install postgresql-15";
  return false;
}

namespace {

// Where the initdb'd clusters are kept.
std::string CacheRoot() {
  if (const char* c = getenv("LASTCALL_CACHE"); c != nullptr && *c != '\0') return c;
  // As root, the PostgreSQL user must be able to reach the folder (initdb
  // runs as that user); /root is not traversable by others.
  if (::geteuid() == 0) return "/var/cache/lastcall";
  if (const char* x = getenv("XDG_CACHE_HOME"); x != nullptr && *x == '/') {
    return std::string(x) + "/lastcall";
  }
  std::string home;
  if (const char* h = getenv("HOME"); h != nullptr && *h == '/') {
    home = h;
  } else {
    struct passwd pw, *found = nullptr;
    char buf[4096];
    if (::getpwuid_r(::geteuid(), &pw, buf, sizeof buf, &found) == 0 && found) home = pw.pw_dir;
  }
  if (home.empty()) home = "/tmp";
  return home + "/.cache/lastcall";
}

// An flock(2) held for the object's lifetime.
class FileLock {
 public:
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  bool Lock(const std::string& path, std::string* error) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      *error = "cannot open lock file " + path + ": " + ErrnoText(errno);
      return false;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        *error = "cannot lock " + path + ": " + ErrnoText(errno);
        return false;
      }
    }
    return true;
  }

 private:
  int fd_ = -1;
};

// A complete cached cluster has PG_VERSION with its major version; the
// rename that publishes it is atomic, so there is nothing half-made to see.
bool ClusterReady(const std::string& dir, int major) {
  std::string v = ReadFileOrEmpty(dir + "/PG_VERSION");
  return std::atoi(v.c_str()) == major;
}

}  // namespace

bool EnsureCachedCluster(const PgBinaries& bin, const ServiceUser& user, std::string* cluster,
                         Duration* initdb_time, std::string* error) {
  const std::string root = CacheRoot();
  const std::string key = "postgresql-" + std::to_string(bin.major);
  *cluster = root + "/" + key;
  if (ClusterReady(*cluster, bin.major)) return true;

  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) {
    *error = "cannot create the cache folder " + root + ": " + ec.message() +
             " (set LASTCALL_CACHE to a writable folder)";
    return false;
  }
  // Our default as root must be reachable by the server's user, whatever
  // root's umask made of it.
  if (user.active && getenv("LASTCALL_CACHE") == nullptr) ::chmod(root.c_str(), 0755);
  FileLock lock;
  if (!lock.Lock(root + "/" + key + ".lock", error)) return false;
  if (ClusterReady(*cluster, bin.major)) return true;  // another run made it meanwhile

  // Leftovers of a run that died mid-initdb (we hold the lock: nobody else
  // is making one now), and a stale incomplete cluster.
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.path().filename().string().rfind(key + ".tmp-", 0) == 0) {
      fs::remove_all(entry.path(), ec);
    }
  }
  fs::remove_all(*cluster, ec);

  const std::string tmp = root + "/" + key + ".tmp-" + std::to_string(::getpid());
  if (::mkdir(tmp.c_str(), 0700) != 0) {
    *error = "cannot create " + tmp + ": " + ErrnoText(errno);
    return false;
  }
  if (!Chown(tmp, user, error)) return false;

  SpawnOptions o;
  o.argv = {bin.dir + "/initdb", "-D", tmp,    "-A",         "trust",     "-U",
            "postgres",          "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"};
  o.env = PgEnv();
  o.cwd = root;
  ApplyUser(user, &o);
  const auto t0 = Clock::now();
  CapturedOutput r = RunCaptured(o, kInitdbTimeout);
  *initdb_time = Clock::now() - t0;
  if (!r.ok()) {
    fs::remove_all(tmp, ec);
    *error = "initdb failed: " + r.error + LastLines(r.output, kLogTailLines);
    if (user.active) {
      *error += "\n(it runs as '" + user.name + "', who must be able to reach " + root + ")";
    }
    return false;
  }
  if (::rename(tmp.c_str(), cluster->c_str()) != 0) {
    *error = "cannot rename " + tmp + " to " + *cluster + ": " + ErrnoText(errno);
    fs::remove_all(tmp, ec);
    return false;
  }
  return true;
}

}  // namespace lastcall
