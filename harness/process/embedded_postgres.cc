// The embedded PostgreSQL. See embedded_postgres.h.
//
// Per `lastcall run`:
//   1. the cached cluster (postgres_cluster.h), made by initdb on first use;
//   2. copy the cached cluster into the run's folder (a plain recursive copy
//      with copy_file_range; ~40 MB, well under 200 ms) and start `postgres`
//      on it through Subprocess, stderr going to postgres.log;
//   3. wait until postmaster.pid says "ready" and a connection succeeds.
// As root, initdb and postgres run as the `postgres` system user (else
// `nobody`): PostgreSQL refuses to run as root.
#include "process/embedded_postgres.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <pqxx/pqxx>
#include <sys/shm.h>
#include <sys/stat.h>

#include "base/errno_text.h"
#include "base/file.h"
#include "base/free_port.h"
#include "base/last_lines.h"
#include "base/wait_until.h"
#include "process/copy_tree.h"
#include "process/postgres_cluster.h"
#include "process/postgres_url.h"

namespace fs = std::filesystem;

namespace lastcall {
namespace {

using namespace std::chrono_literals;

constexpr Duration kStartTimeout = 30s;
constexpr Duration kStopTimeout = 10s;
constexpr int kPortAttempts = 5;
constexpr char kDataDir[] = "pgdata";  // the cluster's copy, in the work folder

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

// Writes `text` to `path`, owned by `user`.
bool WriteFileAs(const std::string& path, const std::string& text, const ServiceUser& user,
                 std::string* error) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    *error = "cannot write " + path;
    return false;
  }
  return Chown(path, user, error);
}

}  // namespace

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

    int log_fd =
        ::open(pg->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
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
      o.argv = {bin.dir + "/postgres", "-D", data, "-p", std::to_string(port), "-k", sock, "-c",
                "listen_addresses=127.0.0.1",
                // Speed: we never survive a host crash, so no fsync and no
                // full-page images. synchronous_commit stays on: a commit is
                // still in the WAL before it is acknowledged, which is what
                // the audit of a killed *target* relies on.
                "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "log_connections=on", "-c",
                "log_disconnections=on", "-c", "log_min_messages=debug1",
                // The role (%u) names the instance whose session a line is
                // (run.cc gives each its own); the application name only
                // helps a reader, a driver may not set it.
                "-c", "log_line_prefix=%m [%p] %d %u %a ", "-c", "log_timezone=UTC", "-c",
                "max_connections=200",
                // Dynamic shared memory as files in the data folder, not in
                // /dev/shm: a SIGKILLed server's segments go with the folder.
                "-c", "dynamic_shared_memory_type=mmap", "-c", "shared_buffers=64MB"};
      o.env = PgEnv();
      o.cwd = data;
      o.output_fd = log_fd;
      ApplyUser(user, &o);

      const auto t_start = Clock::now();
      pg->server_ = Subprocess::Start(o, error);
      if (!pg->server_) return nullptr;
      pg->port_ = port;
      // Until the password is set, only the private socket lets us in.
      const std::string socket_url =
          "postgresql://postgres@/postgres?host=" + sock + "&port=" + std::to_string(port);

      const auto deadline = t_start + kStartTimeout;
      bool ready = false;
      std::string last_connect_error;
      while (!ready) {
        if (pg->server_->TryReap()) break;
        if (Clock::now() > deadline) break;
        if (PostmasterReady(data)) {
          try {
            std::unique_ptr<pqxx::connection> c =
                ConnectAsLastcall(UrlWithParam(socket_url, "connect_timeout", "5"));
            const std::string password = RandomPassword();
            pqxx::nontransaction tx(*c);
            tx.exec("ALTER ROLE postgres PASSWORD " + tx.quote(password));
            pg->url_base_ =
                "postgresql://postgres:" + password + "@127.0.0.1:" + std::to_string(port) + "/";
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
                 "); the end of " + pg->log_path_ + ":" + LastLines(log, kLogTailLines);
      } else {
        *error = "PostgreSQL did not accept connections within 30 s" +
                 (last_connect_error.empty() ? "" : " (" + last_connect_error + ")") +
                 "; the end of " + pg->log_path_ + ":" + LastLines(log, kLogTailLines);
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

std::string EmbeddedPostgres::UrlFor(const std::string& dbname) const {
  return UrlWithDatabase(url_base_, dbname);
}

}  // namespace lastcall
