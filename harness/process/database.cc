// The embedded PostgreSQL and the per-run databases. See database.h.
//
// Embedded server, per `lastcall run`:
//   1. find the server binaries ($LASTCALL_PG_BINDIR if set, else
//      /usr/lib/postgresql/15/bin, else the newest /usr/lib/postgresql/*/bin,
//      else `pg_config --bindir`);
//   2. initdb once into a cache folder keyed by the major version (under a
//      flock, into a temp folder renamed into place, so that concurrent runs
//      neither race nor see half a cluster);
//   3. copy the cached cluster into the run's folder (a plain recursive copy
//      with copy_file_range; ~40 MB, well under 200 ms) and start `postgres`
//      on it through Subprocess, stderr going to postgres.log;
//   4. wait until postmaster.pid says "ready" and a connection succeeds.
// As root, initdb and postgres run as the `postgres` system user (else
// `nobody`): PostgreSQL refuses to run as root.
#include "process/database.h"
#include "base/errno_text.h"
#include "base/file.h"
#include "base/free_port.h"
#include "base/wait_until.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <libpq-fe.h>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace lastcall {
namespace {

using namespace std::chrono_literals;

constexpr Duration kStartTimeout = 30s;
constexpr Duration kStopTimeout = 10s;
constexpr Duration kInitdbTimeout = 120s;
constexpr int kPortAttempts = 5;
constexpr int kLogTailLines = 20;
constexpr char kDataDir[] = "pgdata";  // the cluster's copy, in the work folder
// pg_advisory_lock(int, int) namespace for template creation: "lc" "tp".
constexpr int kTemplateLockClass = 0x6c637470;


// The environment of the PostgreSQL programs we run: fixed, so that the
// cached cluster and the server do not depend on the harness's locale or
// time zone (the cluster's default time zone is UTC).
std::vector<std::string> PgEnv() {
  return {"PATH=/usr/bin:/bin", "LC_ALL=C", "LANG=C", "TZ=UTC"};
}

// The user PostgreSQL runs as when the harness is root.
struct ServiceUser {
  bool active = false;  // false: not root, run as ourselves
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

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
  *error = "running as root, but neither the 'postgres' nor the 'nobody' user exists "
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

// Runs a short-lived program, collecting its merged stdout/stderr.
struct RunResult {
  bool ok = false;  // started and exited with status 0
  std::string output;
  std::string error;  // why not ok
};

RunResult RunCapture(const SpawnOptions& options, Duration timeout) {
  RunResult r;
  std::unique_ptr<Subprocess> p = Subprocess::Start(options, &r.error);
  if (!p) return r;
  const Clock::time_point deadline = Clock::now() + timeout;
  bool eof = false;
  while (!(eof && p->exited())) {
    Duration left = deadline - Clock::now();
    if (left <= Duration::zero()) {
      p->Signal(SIGKILL, /*to_group=*/true);
      p->Wait(5s);
      r.error = "'" + options.argv[0] + "' did not finish within " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                " s";
      return r;
    }
    struct pollfd fds[2] = {{eof ? -1 : p->output_fd(), POLLIN, 0}, {p->exit_fd(), POLLIN, 0}};
    int ms = static_cast<int>(std::min<int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(left).count() + 1, 1000));
    ::poll(fds, 2, ms);
    if (!eof) {
      char buf[4096];
      ssize_t n = ::read(p->output_fd(), buf, sizeof buf);
      if (n > 0) r.output.append(buf, static_cast<size_t>(n));
      if (n == 0) eof = true;
    }
    p->TryReap();
  }
  const ExitStatus& st = *p->exit_status();
  if (st.by_signal || st.value != 0) {
    r.error = "'" + options.argv[0] + "' " +
              (st.by_signal ? "was killed by signal " + std::to_string(st.value)
                            : "exited with status " + std::to_string(st.value));
    return r;
  }
  r.ok = true;
  return r;
}

// The last `n` lines of `text`, indented for an error message.
std::string Tail(const std::string& text, int n) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  size_t start = end;
  for (int lines = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++lines == n) break;
  }
  std::string out;
  std::istringstream in(text.substr(start, end - start));
  for (std::string line; std::getline(in, line);) out += "\n  " + line;
  return out;
}

bool IsExecutable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

bool HasServerBinaries(const std::string& dir) {
  return IsExecutable(dir + "/postgres") && IsExecutable(dir + "/initdb");
}

struct PgBinaries {
  std::string dir;
  int major = 0;
  std::string version;  // "postgres (PostgreSQL) 15.18 (Debian ...)"
};

bool FindBinaries(PgBinaries* bin, std::string* error) {
  auto try_dir = [&](const std::string& dir) {
    if (!HasServerBinaries(dir)) return false;
    SpawnOptions v;
    v.argv = {dir + "/postgres", "--version"};
    v.env = PgEnv();
    RunResult out = RunCapture(v, 10s);
    size_t at = out.output.find("(PostgreSQL) ");
    if (!out.ok || at == std::string::npos) return false;
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
  RunResult r = RunCapture(pg_config, 10s);
  if (r.ok && try_dir(r.output.substr(0, r.output.find('\n')))) return true;
  *error = "PostgreSQL server binaries (postgres, initdb) not found in "
           "/usr/lib/postgresql/*/bin or `pg_config --bindir`; install them with: "
           "apt-get install postgresql-15";
  return false;
}

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

// Returns the cached cluster's folder, running initdb into it first if needed.
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
  o.argv = {bin.dir + "/initdb", "-D", tmp, "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--locale=C", "--no-sync", "--no-instructions"};
  o.env = PgEnv();
  o.cwd = root;
  ApplyUser(user, &o);
  const auto t0 = Clock::now();
  RunResult r = RunCapture(o, kInitdbTimeout);
  *initdb_time = Clock::now() - t0;
  if (!r.ok) {
    fs::remove_all(tmp, ec);
    *error = "initdb failed: " + r.error + Tail(r.output, kLogTailLines);
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

// Copies regular file `from` to `to` (created with `mode`).
bool CopyFile(const std::string& from, const std::string& to, mode_t mode, off_t size,
              std::string* error) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    *error = "cannot read " + from + ": " + ErrnoText(errno);
    return false;
  }
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (out < 0) {
    *error = "cannot create " + to + ": " + ErrnoText(errno);
    ::close(in);
    return false;
  }
  bool ok = true;
  off_t left = size;
  bool fallback = false;
  while (left > 0 && !fallback) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, static_cast<size_t>(left), 0);
    if (n > 0) {
      left -= n;
    } else if (n == 0) {
      break;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) {
      fallback = true;
    } else {
      ok = false;
      break;
    }
  }
  if (ok && fallback) {
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(in, buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        ok = false;
        break;
      }
      for (ssize_t done = 0; done < n;) {
        ssize_t w = ::write(out, buf + done, static_cast<size_t>(n - done));
        if (w < 0) {
          if (errno == EINTR) continue;
          ok = false;
          break;
        }
        done += w;
      }
      if (!ok) break;
    }
  }
  if (!ok) *error = "cannot copy " + from + " to " + to + ": " + ErrnoText(errno);
  ::close(in);
  if (::close(out) != 0 && ok) {
    *error = "cannot write " + to + ": " + ErrnoText(errno);
    ok = false;
  }
  return ok;
}

// Copies the tree at `from` to `to` (which must not exist), keeping modes,
// owned by `user` when root.
bool CopyTree(const std::string& from, const std::string& to, const ServiceUser& user,
              std::string* error) {
  struct stat st;
  if (::lstat(from.c_str(), &st) != 0) {
    *error = "cannot read " + from + ": " + ErrnoText(errno);
    return false;
  }
  const mode_t mode = st.st_mode & 07777;
  if (S_ISDIR(st.st_mode)) {
    if (::mkdir(to.c_str(), mode) != 0 || ::chmod(to.c_str(), mode) != 0) {
      *error = "cannot create " + to + ": " + ErrnoText(errno);
      return false;
    }
    if (!Chown(to, user, error)) return false;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(from, ec)) {
      const std::string name = entry.path().filename().string();
      if (!CopyTree(from + "/" + name, to + "/" + name, user, error)) return false;
    }
    if (ec) {
      *error = "cannot list " + from + ": " + ec.message();
      return false;
    }
    return true;
  }
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    fs::path target = fs::read_symlink(from, ec);
    if (ec || ::symlink(target.c_str(), to.c_str()) != 0) {
      *error = "cannot copy symlink " + from + ": " + (ec ? ec.message() : ErrnoText(errno));
      return false;
    }
    return Chown(to, user, error);
  }
  if (!S_ISREG(st.st_mode)) return true;  // sockets, fifos: not part of a cluster
  if (!CopyFile(from, to, mode, st.st_size, error)) return false;
  return Chown(to, user, error);
}

// Whether `user` can traverse every folder down to `dir` (inclusive).
bool Traversable(const std::string& dir, const ServiceUser& user) {
  if (!user.active) return true;
  fs::path p = fs::absolute(dir);
  for (fs::path cur = p;; cur = cur.parent_path()) {
    struct stat st;
    if (::stat(cur.c_str(), &st) != 0) return false;
    mode_t need = st.st_uid == user.uid ? S_IXUSR : st.st_gid == user.gid ? S_IXGRP : S_IXOTH;
    if ((st.st_mode & need) == 0) return false;
    if (cur == cur.root_path() || cur.parent_path() == cur) break;
  }
  return true;
}

// Line 8 of postmaster.pid is the postmaster's status: "ready" once it
// accepts connections.
bool PostmasterReady(const std::string& data_dir) {
  std::istringstream in(ReadFileOrEmpty(data_dir + "/postmaster.pid"));
  std::string line;
  for (int i = 0; i < 8 && std::getline(in, line); ++i) {
  }
  return line.rfind("ready", 0) == 0;
}

bool BindFailed(const std::string& log) {
  return log.find("could not create any TCP/IP sockets") != std::string::npos ||
         log.find("Address already in use") != std::string::npos;
}

// 64-bit FNV-1a: stable across builds and machines (template names persist
// on external servers).
uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Hex16(uint64_t v) {
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Turns libpq's error text ("ERROR:  ...\nLINE 3: ...\n        ^\n") into
// "line 3: ERROR:  ..." plus the rest, when it carries a position.
std::string SchemaError(const std::string& what) {
  std::string msg = what;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  size_t at = msg.find("\nLINE ");
  if (at == std::string::npos) return msg;
  int line = std::atoi(msg.c_str() + at + 6);
  if (line <= 0) return msg;
  return "line " + std::to_string(line) + ": " + msg;
}

// Writes `text` to `path`, owned by `user`.
bool WriteFileAs(const std::string& path, const std::string& text,
                 const ServiceUser& user, std::string* error) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    *error = "cannot write " + path;
    return false;
  }
  return Chown(path, user, error);
}

// `url` (a URI or a keyword/value conninfo) with one more parameter.
std::string WithParam(const std::string& url, const std::string& key, const std::string& value) {
  if (url.find("://") == std::string::npos) return url + " " + key + "=" + value;
  size_t hash = url.find('#');
  std::string head = url.substr(0, hash);
  head += (head.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
  return head;
}

// A connection for our own bookkeeping: named "lastcall", so that it can be
// told apart from the target's sessions, and quiet (no NOTICEs on stderr).
std::unique_ptr<pqxx::connection> Connect(const std::string& url) {
  auto c = std::make_unique<pqxx::connection>(WithParam(url, "application_name", "lastcall"));
  pqxx::nontransaction w(*c);
  w.exec("SET client_min_messages = warning");
  return c;
}

}  // namespace

// ---------------------------------------------------------------------------
// EmbeddedPostgres

std::unique_ptr<EmbeddedPostgres> EmbeddedPostgres::Start(const std::string& work_dir,
                                                          std::string* error) {
  // Owned from the first step: whatever fails, the destructor stops what was
  // started and removes what was made.
  std::unique_ptr<EmbeddedPostgres> pg(new EmbeddedPostgres());
  try {
    PgBinaries bin;
    if (!FindBinaries(&bin, error)) return nullptr;
    ServiceUser user;
    if (!LookupServiceUser(&user, error)) return nullptr;

    std::string cluster;
    if (!EnsureCachedCluster(bin, user, &cluster, &pg->timings_.initdb, error)) return nullptr;

    const std::string work = fs::absolute(work_dir).string();
    std::error_code ec;
    fs::create_directories(work, ec);
    struct stat st;
    if (::stat(work.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      *error = "cannot use work folder " + work + ": " + ErrnoText(errno);
      return nullptr;
    }
    pg->log_path_ = work + "/postgres.log";

    // The folder for the cluster and the socket: the work folder, made
    // traversable; unless the server's user cannot reach it (e.g. under
    // /root), or a socket path there would be too long (108 bytes).
    std::string base = work;
    if (user.active) ::chmod(work.c_str(), (st.st_mode & 07777) | 0711);
    if (!Traversable(base, user) || base.size() + sizeof("/pgsock/.s.PGSQL.65535.lock") > 100) {
      char tmpl[] = "/tmp/lastcall-pg-XXXXXX";
      if (::mkdtemp(tmpl) == nullptr) {
        *error = std::string("cannot create a folder in /tmp: ") + ErrnoText(errno);
        return nullptr;
      }
      base = tmpl;
      pg->remove_dirs_.push_back(base);
      ::chmod(base.c_str(), 0711);
    }

    const std::string data = base + "/" + kDataDir;
    const std::string sock = base + "/pgsock";
    fs::remove_all(data, ec);
    fs::remove_all(sock, ec);
    const auto t_copy = Clock::now();
    pg->data_dir_ = data;  // from here on, the destructor removes it
    if (!CopyTree(cluster, data, user, error)) return nullptr;
    // A cluster outside the work folder is found from it, should this
    // process be SIGKILLed (ReleaseStaleCluster).
    if (base != work) fs::create_directory_symlink(data, work + "/" + kDataDir, ec);
    pg->timings_.copy = Clock::now() - t_copy;
    // Only the server's user (and root) may use the socket: local
    // connections are trusted, so the folder's mode is their guard. TCP on
    // loopback takes this run's password (scram-sha-256).
    if (!WriteFileAs(data + "/pg_hba.conf",
                     "local all all trust\n"
                     "host all all 127.0.0.1/32 scram-sha-256\n",
                     user, error))
      return nullptr;
    if (::mkdir(sock.c_str(), 0700) != 0) {
      *error = "cannot create " + sock + ": " + ErrnoText(errno);
      return nullptr;
    }
    pg->remove_dirs_.push_back(sock);
    if (!Chown(sock, user, error)) return nullptr;

    int log_fd = ::open(pg->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                        0644);
    if (log_fd < 0) {
      *error = "cannot create " + pg->log_path_ + ": " + ErrnoText(errno);
      return nullptr;
    }
    struct LogFd {
      int fd;
      ~LogFd() { ::close(fd); }
    } log_guard{log_fd};

    for (int attempt = 1;; ++attempt) {
      // Someone may take the port before postgres binds it; Start retries then.
      const int port = FreeLoopbackPort(error);
      if (port == 0) return nullptr;
      const std::streamoff log_start = ::lseek(log_fd, 0, SEEK_END);

      SpawnOptions o;
      o.argv = {bin.dir + "/postgres",
                "-D", data,
                "-p", std::to_string(port),
                "-k", sock,
                "-c", "listen_addresses=127.0.0.1",
                // Speed: we never survive a host crash, so no fsync and no
                // full-page images. synchronous_commit stays on: a commit is
                // still in the WAL before it is acknowledged, which is what
                // the audit of a killed *target* relies on.
                "-c", "fsync=off",
                "-c", "full_page_writes=off",
                "-c", "log_connections=on",
                "-c", "log_disconnections=on",
                "-c", "log_min_messages=debug1",
                // The role (%u) names the instance whose session a line is
                // (run.cc gives each its own); the application name only
                // helps a reader, a driver may not set it.
                "-c", "log_line_prefix=%m [%p] %d %u %a ",
                "-c", "log_timezone=UTC",
                "-c", "max_connections=200",
                // Dynamic shared memory as files in the data folder, not in
                // /dev/shm: a SIGKILLed server's segments go with the folder.
                "-c", "dynamic_shared_memory_type=mmap",
                "-c", "shared_buffers=64MB"};
      o.env = PgEnv();
      o.cwd = data;
      o.output_fd = log_fd;
      ApplyUser(user, &o);

      const auto t_start = Clock::now();
      pg->server_ = Subprocess::Start(o, error);
      if (!pg->server_) return nullptr;
      pg->port_ = port;
      // Until the password is set, only the private socket lets us in.
      const std::string socket_url = "postgresql://postgres@/postgres?host=" + sock +
                                     "&port=" + std::to_string(port);

      const auto deadline = t_start + kStartTimeout;
      bool ready = false;
      std::string last_connect_error;
      while (!ready) {
        if (pg->server_->TryReap()) break;
        if (Clock::now() > deadline) break;
        if (PostmasterReady(data)) {
          try {
            std::unique_ptr<pqxx::connection> c =
                Connect(WithParam(socket_url, "connect_timeout", "5"));
            const std::string password = RandomPassword();
            pqxx::nontransaction tx(*c);
            tx.exec("ALTER ROLE postgres PASSWORD " + tx.quote(password));
            pg->url_base_ = "postgresql://postgres:" + password + "@127.0.0.1:" +
                            std::to_string(port) + "/";
            ready = true;
            break;
          } catch (const std::exception& e) {
            last_connect_error = e.what();
          }
        }
        pg->server_->Wait(10ms);  // wakes at once if the server exits
      }
      if (ready) {
        pg->timings_.start = Clock::now() - t_start;
        return pg;
      }

      const std::string log = ReadFileOrEmpty(pg->log_path_, log_start);
      if (pg->server_->exited()) {
        if (BindFailed(log) && attempt < kPortAttempts) {
          pg->server_.reset();
          continue;  // someone took the port: try another
        }
        const ExitStatus& s = *pg->server_->exit_status();
        *error = std::string("PostgreSQL exited during start-up (") +
                 (s.by_signal ? "signal " : "status ") + std::to_string(s.value) +
                 "); the end of " + pg->log_path_ + ":" + Tail(log, kLogTailLines);
      } else {
        *error = "PostgreSQL did not accept connections within 30 s" +
                 (last_connect_error.empty() ? "" : " (" + last_connect_error + ")") +
                 "; the end of " + pg->log_path_ + ":" + Tail(log, kLogTailLines);
      }
      return nullptr;  // ~EmbeddedPostgres stops the server
    }
  } catch (const std::exception& e) {
    *error = std::string("cannot start PostgreSQL: ") + e.what();
    return nullptr;
  }
}

void EmbeddedPostgres::Stop() {
  if (!server_) return;
  if (!server_->exited()) {
    // SIGINT: fast shutdown (sessions are disconnected, no checkpoint wait
    // beyond the shutdown checkpoint).
    server_->Signal(SIGINT, /*to_group=*/false);
    if (!server_->Wait(kStopTimeout)) {
      server_->Signal(SIGKILL, /*to_group=*/true);
      server_->Wait(10s);
    }
  }
  // Backends left behind by a crashed postmaster (normally they follow it).
  if (server_->exited() && ProcessGroupAlive(server_->pgid())) {
    server_->Signal(SIGKILL, /*to_group=*/true);
  }
  server_.reset();  // SIGKILLs the group and reaps, if still running
}

EmbeddedPostgres::~EmbeddedPostgres() {
  Stop();
  std::error_code ec;
  if (!data_dir_.empty()) fs::remove_all(data_dir_, ec);
  for (auto it = remove_dirs_.rbegin(); it != remove_dirs_.rend(); ++it) {
    fs::remove_all(*it, ec);
  }
}

bool ReleaseStaleCluster(const std::string& work_dir, Duration patience) {
  // postmaster.pid: line 1 the postmaster's pid, line 7 "<key> <shmid>".
  const fs::path data = fs::path(work_dir) / kDataDir;
  std::istringstream in(ReadFileOrEmpty((data / "postmaster.pid").string()));
  std::string line;
  pid_t postmaster = 0;
  long key = 0;
  int shmid = -1;
  for (int i = 1; std::getline(in, line) && i <= 7; ++i) {
    if (i == 1) postmaster = static_cast<pid_t>(std::atol(line.c_str()));
    if (i == 7) std::istringstream(line) >> key >> shmid;
  }
  // Only the segment that postmaster made: the id may have been reused
  // since. It is in use while the postmaster is there (a zombie, or still
  // shutting down) or any process is attached (its backends, which follow
  // it within moments).
  struct shmid_ds info;
  auto segment_ours = [&] {
    return postmaster > 0 && shmid >= 0 && ::shmctl(shmid, IPC_STAT, &info) == 0 &&
           info.shm_cpid == postmaster;
  };
  auto in_use = [&] {
    return segment_ours() &&
           ((::kill(postmaster, 0) == 0 || errno != ESRCH) || info.shm_nattch > 0);
  };
  if (!WaitUntil([&] { return !in_use(); }, patience)) return false;
  if (segment_ours()) ::shmctl(shmid, IPC_RMID, nullptr);
  std::error_code ec;
  if (fs::is_symlink(data, ec))  // the cluster was in a folder of /tmp
    fs::remove_all(fs::read_symlink(data, ec).parent_path(), ec);
  return true;
}

bool RunAsServiceUser(SpawnOptions* options, std::string* error) {
  ServiceUser user;
  if (!LookupServiceUser(&user, error)) return false;
  ApplyUser(user, options);
  return true;
}

std::string EmbeddedPostgres::UrlFor(const std::string& dbname) const {
  return UrlWithDatabase(url_base_, dbname);
}

// ---------------------------------------------------------------------------
// Per-run databases

namespace {

// DROP DATABASE ... WITH (FORCE) needs PostgreSQL 13.
std::string ForceClause(pqxx::connection& admin) {
  return admin.server_version() >= 130000 ? " WITH (FORCE)" : "";
}

// Runs `sql` (any number of statements) as one simple-protocol query: they
// run as one implicit transaction, and an error's position is an offset into
// the whole text, which libpq turns into "LINE n:". Returns "" on success,
// else the error with its line.
std::string ExecuteScript(pqxx::connection& c, const std::string& sql) {
  if (sql.empty()) return "";
  try {
    pqxx::nontransaction(c).exec(sql);
    return "";
  } catch (const pqxx::sql_error& e) {
    return SchemaError(e.what());
  }
}

// One statement each: a role that still owns objects (in another database)
// must not keep the others.
void DropRoles(pqxx::connection& admin, const std::vector<std::string>& roles) {
  for (const std::string& role : roles) {
    try {
      pqxx::nontransaction(admin).exec("DROP ROLE IF EXISTS " + admin.quote_name(role));
    } catch (const pqxx::sql_error&) {
    }
  }
}

// Whether `admin` logs in as a superuser: only then does lastcall give a
// template (and so each run's database) an owner role of its own.
bool IsSuperuser(pqxx::connection& admin) {
  return pqxx::nontransaction(admin)
             .exec("SELECT current_setting('is_superuser')")[0][0]
             .as<std::string>() == "on";
}

// The role that owns template `tpl` and what its schema made: the
// template's own, or the user without superuser rights who made it; ""
// for a superuser, whom no target's role may be a member of (SET ROLE would
// make it one).
std::string TemplateOwner(pqxx::connection& admin, const std::string& tpl) {
  pqxx::nontransaction w(admin);
  pqxx::result r = w.exec("SELECT r.rolname, r.rolsuper FROM pg_database d JOIN pg_roles r ON "
                          "r.oid = d.datdba WHERE d.datname = " + w.quote(tpl));
  return r.empty() || r[0][1].as<bool>() ? "" : r[0][0].as<std::string>();
}

// When `watch` cancelled what `what` names: sets *failure and *error so and
// returns true.
bool StoppedBy(const StatementWatch& watch, const std::string& what,
               RunDatabases::Failure* failure, std::string* error) {
  switch (watch.stop()) {
    case StatementWatch::Stop::kNone:
      return false;
    case StatementWatch::Stop::kInterrupted:
      *failure = RunDatabases::Failure::kInterrupted;
      *error = what;
      return true;
    case StatementWatch::Stop::kTimedOut:
      *failure = RunDatabases::Failure::kTimedOut;
      *error = what + " did not finish in the time allowed";
      return true;
  }
  return false;
}

// Makes template database `tpl` with `content` applied, unless it exists.
// The schema and the setup run logged in as a role of the template's own,
// `tpl` (no superuser, no CREATEDB, no CREATEROLE), which owns the template
// and, through it, each run's database and everything the schema made: a
// schema that alters roles or the server fails, its own run alone. Without
// a superuser login, they run as `admin_url`'s user.
bool EnsureTemplate(pqxx::connection& admin, const std::string& admin_url,
                    const std::string& tpl, const DatabaseContent& content,
                    const StatementLimits& limits, RunDatabases::Failure* failure,
                    std::string* error) {
  const std::string q_tpl = admin.quote_name(tpl);
  const bool owned = IsSuperuser(admin);
  {
    pqxx::nontransaction w(admin);
    pqxx::result r = w.exec("SELECT datistemplate FROM pg_database WHERE datname = " +
                            w.quote(tpl));
    if (!r.empty()) {
      if (r[0][0].as<bool>()) return true;
      // Half-made by a run that died while applying the schema.
      w.exec("DROP DATABASE " + q_tpl + ForceClause(admin));
    }
    if (owned && w.exec("SELECT 1 FROM pg_roles WHERE rolname = " + w.quote(tpl)).empty())
      w.exec("CREATE ROLE " + q_tpl + " NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE");
    w.exec("CREATE DATABASE " + q_tpl + " TEMPLATE template0" +
           (owned ? " OWNER " + q_tpl : ""));
  }
  std::string url = UrlWithDatabase(admin_url, tpl);
  if (owned) {
    // It logs in only for this: a role that is SET to could RESET back.
    const std::string password = RandomPassword();
    pqxx::nontransaction(admin).exec("ALTER ROLE " + q_tpl + " LOGIN PASSWORD " +
                                     admin.quote(password));
    url = UrlWithLogin(url, tpl, password);
  }
  std::string failed;
  {
    auto c = Connect(url);
    StatementWatch watch(*c, limits);
    failed = ExecuteScript(*c, content.schema_sql);
    if (!failed.empty()) {
      *failure = RunDatabases::Failure::kSchema;
      *error = "the schema failed: " + failed;
      StoppedBy(watch, "the schema", failure, error);
    } else if (!(failed = ExecuteScript(*c, content.setup_sql)).empty()) {
      *failure = RunDatabases::Failure::kSetup;
      *error = "database.setup failed: " + failed;
      StoppedBy(watch, "database.setup", failure, error);
    }
  }
  {
    pqxx::nontransaction w(admin);
    if (owned) w.exec("ALTER ROLE " + q_tpl + " NOLOGIN PASSWORD NULL");
    if (failed.empty()) {
      // No connections: CREATE DATABASE refuses a template someone is connected to.
      w.exec("ALTER DATABASE " + q_tpl + " WITH IS_TEMPLATE true ALLOW_CONNECTIONS false");
      return true;
    }
    w.exec("DROP DATABASE " + q_tpl + ForceClause(admin));
  }
  if (owned) DropRoles(admin, {tpl});
  return false;
}

// EnsureTemplate() under an advisory lock: two lastcalls (or two runs) may
// want the same new template at once; one makes it, the other waits and then
// finds it. (Advisory locks are per database: callers share the lock when
// their admin URLs name the same one.)
bool EnsureTemplateLocked(pqxx::connection& admin, const std::string& admin_url,
                          const std::string& tpl, uint64_t hash,
                          const DatabaseContent& content, const StatementLimits& limits,
                          RunDatabases::Failure* failure, std::string* error) {
  const std::string key = std::to_string(kTemplateLockClass) + ", " +
                          std::to_string(static_cast<int32_t>(hash & 0x7fffffff));
  {
    StatementWatch watch(admin, limits);
    try {
      pqxx::nontransaction(admin).exec("SELECT pg_advisory_lock(" + key + ")");
    } catch (const pqxx::sql_error&) {
      if (StoppedBy(watch, "the wait for another lastcall making the same schema", failure,
                    error))
        return false;
      throw;
    }
  }
  bool ok = EnsureTemplate(admin, admin_url, tpl, content, limits, failure, error);
  pqxx::nontransaction(admin).exec("SELECT pg_advisory_unlock(" + key + ")");
  return ok;
}

// Makes database `dbname` a copy of template `tpl`, owned as the template is
// (its objects keep their owner; the database itself would be admin's).
// Returns that owner (TemplateOwner()).
std::string CloneTemplate(pqxx::connection& admin, const std::string& tpl,
                          const std::string& dbname) {
  std::string owner = TemplateOwner(admin, tpl);
  pqxx::nontransaction w(admin);
  // PG15 copies a template either through the WAL (WAL_LOG, the default)
  // or by copying its files between two checkpoints (FILE_COPY). Measured
  // with a two-table schema on PG15: with fsync=off (the embedded server)
  // FILE_COPY is as fast or a little faster; with fsync=on its checkpoints
  // make it slower (~210-275 ms against ~60-170 ms) and they flush the
  // whole cluster, which a shared external server would feel.
  std::string strategy;
  if (admin.server_version() >= 150000 &&
      w.exec("SELECT current_setting('fsync')")[0][0].as<std::string>() == "off") {
    strategy = " STRATEGY = FILE_COPY";
  }
  w.exec("CREATE DATABASE " + admin.quote_name(dbname) + " TEMPLATE " +
         admin.quote_name(tpl) + strategy +
         (owner.empty() ? "" : " OWNER " + admin.quote_name(owner)));
  return owner;
}

void DropDatabase(pqxx::connection& admin, const std::string& dbname) {
  pqxx::nontransaction w(admin);
  if (admin.server_version() < 130000) {
    w.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " +
           w.quote(dbname) + " AND pid <> pg_backend_pid()");
  }
  w.exec("DROP DATABASE IF EXISTS " + admin.quote_name(dbname) + ForceClause(admin));
}

// An open admin connection, made again if the last one broke (a server
// restart, a terminated session).
pqxx::connection& AdminConnection(std::unique_ptr<pqxx::connection>* admin,
                                  const std::string& admin_url) {
  if (!*admin || !(*admin)->is_open()) *admin = Connect(admin_url);
  return **admin;
}

}  // namespace

struct RunDatabases::Impl {
  std::string admin_url;
  int spares = 0;

  std::mutex create_mutex;  // serializes Create(); guards `creator`
  std::unique_ptr<pqxx::connection> creator;

  std::mutex mutex;  // guards everything below
  std::condition_variable wake;
  std::map<std::string, std::vector<std::string>> ready;  // template -> spare names
  std::map<std::string, int> making;    // template -> spares being cloned
  std::set<std::string> broken;         // templates a spare could not be cloned from
  // A database to drop, then the roles made for it.
  struct Dropped {
    std::string dbname;
    std::vector<std::string> roles;
  };
  std::deque<Dropped> to_drop;
  int spares_made = 0;                  // for unique spare names
  bool stopping = false;
  std::thread worker;  // last: started once the members above exist

  // The template that wants another spare, or "" (with `mutex` held).
  std::string TemplateWantingSpare() const {
    for (const auto& [tpl, names] : ready) {
      auto it = making.find(tpl);
      int pending = it == making.end() ? 0 : it->second;
      if (!broken.count(tpl) && static_cast<int>(names.size()) + pending < spares) return tpl;
    }
    return "";
  }

  // The worker: clones spares ahead of need and drops what runs gave back,
  // then at the end drops the spares too.
  void Work() {
    std::unique_ptr<pqxx::connection> admin;
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      wake.wait(lock, [&] {
        return stopping || !to_drop.empty() || !TemplateWantingSpare().empty();
      });
      std::string tpl = stopping ? "" : TemplateWantingSpare();
      if (!tpl.empty()) {
        std::string name = "lastcall_spare_" + std::to_string(getpid()) + "_" +
                           std::to_string(++spares_made);
        ++making[tpl];
        lock.unlock();
        bool made = Try([&] { CloneTemplate(AdminConnection(&admin, admin_url), tpl, name); });
        lock.lock();
        --making[tpl];
        if (!made) {
          broken.insert(tpl);
        } else if (stopping) {
          to_drop.push_back({name, {}});
        } else {
          ready[tpl].push_back(name);
        }
        continue;
      }
      if (to_drop.empty() && stopping) {
        for (auto& [unused, names] : ready)
          for (std::string& name : names) to_drop.push_back({std::move(name), {}});
        ready.clear();
        if (to_drop.empty()) return;
      }
      Dropped dropped = std::move(to_drop.front());
      to_drop.pop_front();
      lock.unlock();
      // The roles even if the database would not go: those that own
      // objects in it then stay, the others do not.
      Try([&] { DropDatabase(AdminConnection(&admin, admin_url), dropped.dbname); });
      Try([&] { DropRoles(AdminConnection(&admin, admin_url), dropped.roles); });
      lock.lock();
    }
  }

  // Runs `step`; false if it threw (a database step of the worker, whose
  // failure only costs a run the time it would have saved).
  template <typename Step>
  static bool Try(Step step) {
    try {
      step();
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
};

RunDatabases::RunDatabases(std::string admin_url, int spares) : impl_(new Impl) {
  impl_->admin_url = std::move(admin_url);
  impl_->spares = spares;
  impl_->worker = std::thread([this] { impl_->Work(); });
}

RunDatabases::~RunDatabases() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->worker.join();
}

bool RunDatabases::Create(const std::string& dbname, const DatabaseContent& content,
                          std::string* owner, Failure* failure, std::string* error,
                          const StatementLimits& limits) {
  // v2: the setup is applied to the template too; v3: as the template's own
  // role. The setup's length keeps one schema + setup pair from hashing like
  // another split elsewhere.
  const uint64_t hash = Fnv1a("lastcall template v3\n" +
                              std::to_string(content.setup_sql.size()) + "\n" +
                              content.setup_sql + content.schema_sql);
  const std::string tpl = "lastcall_tpl_" + Hex16(hash);
  std::string spare;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto it = impl_->ready.find(tpl);
    if (it != impl_->ready.end() && !it->second.empty()) {
      spare = std::move(it->second.back());
      it->second.pop_back();
    }
  }
  try {
    std::lock_guard<std::mutex> lock(impl_->create_mutex);
    pqxx::connection& admin = AdminConnection(&impl_->creator, impl_->admin_url);
    if (!spare.empty()) {
      // A rename is a catalogue update: milliseconds, where a clone is a
      // checkpoint and a copy of the template's files.
      pqxx::nontransaction(admin).exec("ALTER DATABASE " + admin.quote_name(spare) +
                                       " RENAME TO " + admin.quote_name(dbname));
      *owner = TemplateOwner(admin, tpl);
    } else {
      if (!EnsureTemplateLocked(admin, impl_->admin_url, tpl, hash, content, limits, failure,
                                error))
        return false;
      *owner = CloneTemplate(admin, tpl, dbname);
    }
  } catch (const std::exception& e) {
    *failure = Failure::kServer;
    *error = "cannot create database " + dbname + ": " + PostgresMessage(e);
    return false;
  }
  {
    // The template exists: from now on the worker keeps spares of it.
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->ready[tpl];
  }
  impl_->wake.notify_all();
  return true;
}

void RunDatabases::Drop(const std::string& dbname, const std::vector<std::string>& roles) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->to_drop.push_back({dbname, roles});
  }
  impl_->wake.notify_all();
}

namespace {

// Percent-encodes a URI path segment.
std::string PercentEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// Quotes a keyword/value conninfo value.
std::string ConninfoQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

}  // namespace

std::string RandomPassword() {
  std::random_device random;
  std::string password;
  char hex[9];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(hex, sizeof hex, "%08x", random());
    password += hex;
  }
  return password;
}

const char kOwnSessionSql[] =
    "SELECT pid, backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()";

void OwnSessions::Add(int pid, const std::string& backend_start) {
  std::lock_guard<std::mutex> lock(mutex_);
  double now = std::chrono::duration<double>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
  sessions_.push_back(Session{pid, backend_start, now});
}

std::vector<OwnSessions::Session> OwnSessions::sessions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_;
}

std::pair<std::string, std::string> OwnSessions::ArrayLiterals() const {
  std::string pids = "{", starts = "{";
  for (const Session& session : sessions()) {
    if (pids.size() > 1) pids += ",", starts += ",";
    pids += std::to_string(session.pid);
    starts += "\"" + session.backend_start + "\"";
  }
  return {pids + "}", starts + "}"};
}

std::string TargetSessionsCondition(const std::string& pids, const std::string& starts) {
  // backend_type: autovacuum workers and a query's parallel workers are on
  // the database too. A pid alone could be a later backend that reused it.
  return "a.datname = current_database() AND a.backend_type = 'client backend' AND "
         "a.pid <> pg_backend_pid() AND (a.pid, a.backend_start) NOT IN "
         "(SELECT * FROM unnest(" + pids + "::int[], " + starts + "::timestamptz[]))";
}

std::string PostgresMessage(const std::exception& e) {
  std::string text = e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string UrlWithDatabase(const std::string& url, const std::string& dbname) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    // A keyword/value conninfo ("host=... dbname=..."): a later dbname wins.
    return url + (url.empty() ? "" : " ") + "dbname=" + ConninfoQuote(dbname);
  }
  // postgresql://[userinfo@][host][:port][,...][/dbname][?params][#...]
  const size_t authority = scheme + 3;
  size_t path = url.find_first_of("/?#", authority);
  std::string head = url.substr(0, path == std::string::npos ? url.size() : path);
  std::string rest;
  if (path != std::string::npos) {
    size_t params = url.find_first_of("?#", path);
    if (params != std::string::npos) rest = url.substr(params);
  }
  return head + "/" + PercentEncode(dbname) + rest;
}

namespace {

// `query` ("?a=1&b=2", or "") without its user and password parameters,
// which would win over the userinfo.
std::string WithoutLoginParams(const std::string& query) {
  std::string kept;
  std::istringstream params(query.empty() ? "" : query.substr(1));
  for (std::string param; std::getline(params, param, '&');) {
    std::string key = param.substr(0, param.find('='));
    if (key == "user" || key == "password" || param.empty()) continue;
    kept += (kept.empty() ? "?" : "&") + param;
  }
  return kept;
}

}  // namespace

std::string UrlWithLogin(const std::string& url, const std::string& user,
                         const std::string& password) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    // A keyword/value conninfo: later keywords win.
    return url + (url.empty() ? "" : " ") + "user=" + ConninfoQuote(user) +
           " password=" + ConninfoQuote(password);
  }
  const size_t authority = scheme + 3;
  const size_t path = std::min(url.find_first_of("/?#", authority), url.size());
  // The userinfo ends at the authority's last '@' (a password may hold one).
  const size_t at = url.rfind('@', path == 0 ? 0 : path - 1);
  const size_t hosts = at != std::string::npos && at >= authority ? at + 1 : authority;
  const size_t params = std::min(url.find_first_of("?#", path), url.size());
  const size_t fragment = std::min(url.find('#', params), url.size());
  return url.substr(0, authority) + PercentEncode(user) + ":" + PercentEncode(password) +
         "@" + url.substr(hosts, params - hosts) +
         WithoutLoginParams(url.substr(params, fragment - params)) + url.substr(fragment);
}

std::vector<std::pair<std::string, std::string>> LibpqEnvironment(const std::string& url) {
  static const std::map<std::string, std::string> kVariables = {
      {"host", "PGHOST"}, {"port", "PGPORT"}, {"dbname", "PGDATABASE"},
      {"user", "PGUSER"}, {"password", "PGPASSWORD"}};
  std::vector<std::pair<std::string, std::string>> env;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return env;
  }
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    auto variable = kVariables.find(o->keyword);
    if (variable != kVariables.end() && o->val != nullptr && *o->val != '\0')
      env.emplace_back(variable->second, o->val);
  }
  PQconninfoFree(options);
  return env;
}

}  // namespace lastcall
