#include "run/session.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "base/file.h"
#include "base/free_port.h"
#include "check/causes.h"
#include "client/job_queue.h"
#include "client/load.h"
#include "client/websocket_load.h"
#include "process/load_balancer.h"
#include "process/proc_scan.h"
#include "process/server_log.h"
#include "process/socket_watch.h"
#include "report/saved_report.h"
#include "run/audit.h"
#include "run/control.h"
#include "run/database_watch.h"
#include "run/nemesis.h"
#include "run/rolling_restart.h"
#include "run/target.h"
#include "scenario/substitution.h"

extern char** environ;

namespace lastcall {

namespace fs = std::filesystem;

// --- Session ---------------------------------------------------------------

namespace {

constexpr char kOwnerFile[] = "lastcall.pid";
constexpr char kServerDir[] = "postgres";  // the embedded server's folder in it
// How long a dead lastcall's server may take to finish dying (its backends
// follow the postmaster within moments) before its folder is left for the
// next run.
constexpr auto kStaleClusterPatience = std::chrono::seconds(2);

// Removes the work folders of lastcall runs that died without cleaning up
// (SIGKILL, a crash): their children died with them (parent-death signal),
// but the folders, with a database cluster inside, and the server's System V
// shared memory segment stayed. A folder counts as stale when the pid it
// names is gone; ours to remove only if we own it, and only once its server
// has let go of the segment (else the next run tries again).
void RemoveStaleWorkDirs(const std::string& tmp) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(tmp, ec)) {
    const std::string name = entry.path().filename().string();
    struct stat st;
    if (name.rfind("lastcall-", 0) != 0 || !entry.is_directory(ec) ||
        stat(entry.path().c_str(), &st) != 0 || st.st_uid != geteuid())
      continue;
    std::ifstream owner(entry.path() / kOwnerFile);
    pid_t pid = 0;
    if (!(owner >> pid) || pid <= 0) continue;
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
    // Without the folder nothing would name the segment any more.
    if (ReleaseStaleCluster((entry.path() / kServerDir).string(), kStaleClusterPatience))
      fs::remove_all(entry.path(), ec);
  }
}

}  // namespace

std::unique_ptr<Session> Session::Open(const RunOptions& options, Interrupt* interrupt,
                                       std::string* error) {
  std::unique_ptr<Session> session(new Session);
  session->options_ = options;
  session->interrupt_ = interrupt;
  const char* tmp_env = std::getenv("TMPDIR");
  const std::string tmp = tmp_env && *tmp_env ? tmp_env : "/tmp";
  RemoveStaleWorkDirs(tmp);
  std::string pattern = tmp + "/lastcall-XXXXXX";
  if (!mkdtemp(pattern.data())) {
    *error = "cannot create a work folder in " + pattern + ": " + std::strerror(errno);
    return nullptr;
  }
  session->work_dir_ = pattern;
  std::ofstream(pattern + "/" + kOwnerFile) << getpid() << "\n";
  // The PostgreSQL server may run as another user: it must be able to reach
  // its own folder inside this one, but not list it.
  chmod(pattern.c_str(), 0711);
  if (!session->LockReports(error)) return nullptr;
  return session;
}

bool Session::LockReports(std::string* error) {
  std::error_code ec;
  fs::create_directories(options_.reports_dir, ec);
  const std::string path = options_.reports_dir + "/.lastcall.lock";
  reports_lock_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (reports_lock_ < 0) return true;
  if (flock(reports_lock_, LOCK_EX | LOCK_NB) != 0) {
    std::ifstream holder(path);
    pid_t pid = 0;
    holder >> pid;
    *error = "the reports folder " + options_.reports_dir + " is in use by another lastcall (pid " +
             std::to_string(pid) +
             "); wait for it to finish, or give this run its own --reports DIR";
    return false;
  }
  // The pid only serves the message above.
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(reports_lock_, 0) == 0) (void)!write(reports_lock_, pid.data(), pid.size());
  return true;
}

Session::~Session() {
  databases_.reset();
  postgres_.reset();
  std::error_code ignored;
  fs::remove_all(work_dir_, ignored);
  if (reports_lock_ >= 0) close(reports_lock_);
}

std::string Session::AdminUrl(std::string* error) {
  std::lock_guard<std::mutex> lock(server_mutex_);
  if (admin_url_.empty() && server_error_.empty()) {
    if (!options_.db_url.empty()) {
      if (ExecuteSql(options_.db_url, "SELECT 1", &server_error_))
        admin_url_ = options_.db_url;
      else
        server_error_ =
            "cannot reach the database server " + options_.db_url + ": " + server_error_;
    } else {
      postgres_ = EmbeddedPostgres::Start(work_dir_ + "/" + kServerDir, &server_error_);
      if (postgres_) admin_url_ = postgres_->UrlFor("postgres");
    }
    if (!admin_url_.empty()) databases_ = std::make_unique<RunDatabases>(admin_url_, options_.jobs);
  }
  if (admin_url_.empty()) *error = server_error_;
  return admin_url_;
}

RunDatabases* Session::Databases(std::string* error) {
  if (AdminUrl(error).empty()) return nullptr;
  return databases_.get();
}

std::string Session::ServerLog() const {
  std::lock_guard<std::mutex> lock(server_mutex_);
  return postgres_ ? postgres_->log_path() : "";
}

}  // namespace lastcall
