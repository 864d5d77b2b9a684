#include "run/run.h"
#include "base/file.h"
#include "base/free_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/file.h>
#include <sys/stat.h>
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

#include "run/audit.h"
#include "check/causes.h"
#include "run/control.h"
#include "run/database_watch.h"
#include "client/job_queue.h"
#include "client/load.h"
#include "process/load_balancer.h"
#include "run/nemesis.h"
#include "process/proc_scan.h"
#include "run/rolling_restart.h"
#include "report/saved_report.h"
#include "process/server_log.h"
#include "process/socket_watch.h"
#include "scenario/substitution.h"
#include "run/target.h"
#include "client/websocket_load.h"

extern char** environ;

namespace lastcall {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

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

std::unique_ptr<Session> Session::Open(const RunOptions& options,
                                       Interrupt* interrupt,
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
    *error = "the reports folder " + options_.reports_dir +
             " is in use by another lastcall (pid " + std::to_string(pid) +
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
        server_error_ = "cannot reach the database server " + options_.db_url + ": " + server_error_;
    } else {
      postgres_ = EmbeddedPostgres::Start(work_dir_ + "/" + kServerDir, &server_error_);
      if (postgres_) admin_url_ = postgres_->UrlFor("postgres");
    }
    if (!admin_url_.empty())
      databases_ = std::make_unique<RunDatabases>(admin_url_, options_.jobs);
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

// --- One scenario run -----------------------------------------------------

namespace {

std::string NewRunId() {
  std::random_device random;
  char id[16];
  std::snprintf(id, sizeof id, "%08x", random());
  return id;
}

// `t` on the wall clock, in seconds since 1970.
double WallClockSeconds(Clock::time_point t) {
  auto wall = std::chrono::system_clock::now() - (Clock::now() - t);
  return std::chrono::duration<double>(wall.time_since_epoch()).count();
}

double SecondsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

size_t FileSize(const std::string& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? 0 : static_cast<size_t>(size);
}

// An eventfd the client threads use to wake the event loop.
class Waker {
 public:
  Waker() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~Waker() { close(fd_); }
  void Wake() {
    uint64_t one = 1;
    (void)!write(fd_, &one, sizeof one);
  }
  void Drain() {
    uint64_t n;
    (void)!read(fd_, &n, sizeof n);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

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

class ScenarioRun : public TargetControl, public RolloutControl {
 public:
  ScenarioRun(const Scenario& scenario, Session* session,
              const std::string& report_name, RunStatus* status)
      : scenario_(scenario), session_(session), report_name_(report_name),
        status_(status ? status : &unwatched_), history_(scenario.load.clients) {
    if (session->options().seed) scenario_.seed = *session->options().seed;
    DrawRandomTriggers(scenario_.seed, &scenario_.faults);
    AddRollingRestartFaults();
  }
  ~ScenarioRun() override;

  ScenarioResult Run();

  // TargetControl, called from client threads and the event loop.
  int Deliver(int instance, int signal, Recipient to) override;
  void Wake() override { waker_.Wake(); }
  void DrainVisible(int64_t time) override { drain_visible_at_ = time; }

  // RolloutControl, called from the event loop.
  void SignalSlot(int slot) override;
  void Deregister(int slot) override;
  void Readmit(int slot) override;
  bool StartReplacement(int slot) override;
  bool SlotUp(int slot) override;

 private:
  // Run()'s phases, from the database to the audit.
  void RunPhases();
  bool Prepare();
  // Redis, embedded or redis.url, and the job generator with fresh lists.
  bool PrepareRedis();
  // audit.jobs and the Redis lists, into in->jobs.
  bool AuditJobs(AuditInputs* in);
  // ${port}, ${database_url}, ${run_dir}, ${seed}.
  TemplateVariables RunVariables() const;
  bool Expand(const std::string& text, std::string* out);
  // Starts an instance and waits until it is ready; behind the load
  // balancer, the one serving `slot`, on the slot's port.
  bool StartInstance(int slot = 0);
  // The database URL of instance `id`: as a role of its own, made now, else
  // (lastcall may not make roles there) the run's, with the reason in
  // roles_error_. Returns false (and fails the run) if the audit connection
  // that makes roles could not be had.
  bool InstanceDatabaseUrl(int id, std::string* url);
  // Instance `id`'s URL once its role is made: lastcall's own login (db_url_)
  // goes to nobody else, unless roles could not be made.
  std::string InstanceUrl(int id) const {
    return roles_error_.empty() ? UrlWithLogin(db_url_, role_prefix_ + std::to_string(id),
                                               role_password_)
                                : db_url_;
  }
  // The first instance, or behind the load balancer one per slot, then
  // HAProxy, waiting until it reports every slot UP.
  bool StartTarget();
  bool behind_load_balancer() const { return scenario_.load_balancer.enabled; }
  // The rolling restart's signals are faults of the scenario, one per slot
  // after the scenario's own, so that every check judges them as any other.
  void AddRollingRestartFaults();
  // Behind the load balancer: N more free ports, one per slot.
  bool ChooseSlotPorts(std::string* error);
  // launch_ for the instance serving `slot` (0 without a load balancer):
  // its port in ${port} and PORT, its `database_url` in ${database_url},
  // DATABASE_URL and the PG* variables.
  bool SlotLaunch(int slot, const std::string& database_url, TargetLaunch* out);
  // Sets the slot's server `state` through HAProxy's runtime API and records
  // `event` ("<server> <what>"), or the error.
  void SetSlotState(int slot, const std::string& state, const std::string& event,
                    const std::string& what);
  // Lets the nemesis see the instance's output lines.
  void WatchInstance(TargetInstance* instance) {
    instance->set_line_observer(
        [this](const std::string& line) { nemesis_->OnOutputLine(line); });
  }
  void Drive();
  // Drive()'s event loop: until the load is over and no fault is pending.
  void DriveLoop();
  void OnInstanceExit(TargetInstance* instance);
  void StopTarget();
  void StopInstance(TargetInstance* target);
  // The WebSocket clients of load.websockets, connected before the load.
  bool StartWebSockets();
  // Opens the kernel's view of the target's port, or notes why it cannot:
  // it is what tells a dropped request from one never accepted, and what
  // counts `in_flight`.
  void OpenSocketWatch();
  // The look's count of requests the target has read and not answered.
  void CountInFlight(const LiveTable& live);
  // Before a graceful signal goes out: what the target has read by then.
  // Requires target_mutex_.
  void SnapshotAtSignal();
  // After the load and the target: the destroy events of every socket,
  // then the watch stops; its records go to the audit.
  void CloseSocketWatch();
  void CollectLeftovers();
  void Audit();
  // Gives every attempt its cause (causes.h), from the socket watch's
  // records; notes the kernel view's figures, or why there was none.
  void ClassifyCauses(AuditInputs* in);
  void AttemptsOfOffendingKeys();
  void WriteReports();
  // Takes the connection Prepare() began to open. Returns false (and fails
  // the run) if it could not be made.
  bool AwaitAuditConnection();
  bool Fail(Verdict verdict, const std::string& message) {
    result_.verdict = verdict;
    result_.message = message;
    return false;
  }
  std::string TmpDirOf(int instance) const {
    return run_dir_ + "/tmp/" + std::to_string(instance);
  }
  TargetInstance* current() {
    return instances_.empty() ? nullptr : instances_.back().get();
  }
  bool interrupted() { return session_->interrupt()->Check() > 0; }
  // If the harness has been interrupted, fails the run so, naming `phase`,
  // and returns true.
  bool FailIfInterrupted(const std::string& phase) {
    if (!interrupted()) return false;
    Fail(Verdict::kInterrupted, "interrupted by " +
                                    SignalName(session_->interrupt()->first_signal()) +
                                    " during " + phase);
    return true;
  }
  // An audit query that failed: cancelled by an interrupt (the run is
  // interrupted), else bad input, as `message` says.
  void FailAuditQuery(const std::string& message) {
    if (!FailIfInterrupted("the audit")) Fail(Verdict::kBadInput, message);
  }

  // The live counters for the console, from the load and the nemesis.
  void PublishProgress();

  Scenario scenario_;
  Session* session_;
  std::string report_name_;
  RunStatus unwatched_;  // when nobody watches
  RunStatus* status_;
  ScenarioResult result_;
  History history_;
  Waker waker_;
  std::string run_id_, app_name_, report_dir_, run_dir_, admin_url_, db_url_;
  // The target's sessions are all those on the run's database but lastcall's
  // own (own_sessions_); instance N logs in as role_prefix_ + N, with
  // role_password_, unless roles_error_ says why it could not be made.
  std::string db_name_, role_prefix_, role_password_, roles_error_;
  OwnSessions own_sessions_;  // before the connections that join it
  RunDatabase database_;
  // Setup, session polls and audit queries: one connection for the run.
  // After database_, so that it is closed before the database is dropped.
  // Opened by Prepare() in the background, taken by AwaitAuditConnection().
  std::future<std::pair<std::unique_ptr<AuditConnection>, std::string>> audit_opening_;
  std::unique_ptr<AuditConnection> audit_;
  // When the scenario uses Redis; released before the database, and the
  // generator (which talks to it) before the server.
  std::unique_ptr<EmbeddedRedis> redis_;
  std::string redis_url_;
  std::unique_ptr<JobGenerator> jobs_;
  size_t server_log_offset_ = 0;
  TargetLaunch launch_;
  std::ofstream target_log_;
  std::mutex target_mutex_;  // guards instances_ against reaping while signalling
  std::vector<std::unique_ptr<TargetInstance>> instances_;
  // Behind the load balancer: each slot's port and the instance serving it.
  std::vector<int> slot_ports_;
  std::vector<TargetInstance*> slots_;
  size_t first_rollout_fault_ = 0;  // index of slot 0's fault in faults
  std::unique_ptr<LoadBalancer> load_balancer_;  // after instances_: stopped first
  std::unique_ptr<RollingRestartDriver> rollout_;
  std::unique_ptr<Nemesis> nemesis_;
  std::unique_ptr<Load> load_;  // after nemesis_: destroyed first, it calls it
  std::unique_ptr<DatabaseWatch> watch_;  // the same
  // The kernel's view of the target's sockets; it calls the load and the
  // nemesis, so it stops before they go.
  std::unique_ptr<SocketWatch> sockets_;
  std::string kernel_view_missing_;  // why there is no sockets_, if so
  // What the kernel showed: the looks at graceful signals (guarded by
  // target_mutex_, which Deliver() holds), the looks after drains became
  // visible (guarded by kernel_mutex_), and, once the watch has stopped,
  // every socket.
  KernelRecords kernel_;
  std::mutex kernel_mutex_;
  // When a drain became visible, while the look that follows has not been
  // kept yet; -1 otherwise.
  std::atomic<int64_t> drain_visible_at_{-1};
  std::optional<Clock::time_point> restart_at_;
  AuditInputs leftovers_;  // sessions, processes and files left behind
  Clock::time_point load_start_, load_end_;
  int ws_port_ = 0;  // ${ws_port}
  std::unique_ptr<WebSocketLoad> websockets_;
};

ScenarioRun::~ScenarioRun() {
  sockets_.reset();
  load_.reset();
  jobs_.reset();
  redis_.reset();  // before its folder in run_dir_ goes
  std::error_code ignored;
  if (!run_dir_.empty()) fs::remove_all(run_dir_, ignored);
}

int ScenarioRun::Deliver(int instance, int signal, Recipient to) {
  std::lock_guard<std::mutex> lock(target_mutex_);
  TargetInstance* target =
      instance == 0 ? current()
                    : (instance <= static_cast<int>(instances_.size())
                           ? instances_[instance - 1].get()
                           : nullptr);
  if (!target || target->process().exited()) return 0;
  if (sockets_ && signal != 0 && IsGraceful(signal)) SnapshotAtSignal();
  std::vector<pid_t> pids;
  switch (to) {
    case Recipient::kProcess:
      pids = {target->MainPid()};
      break;
    case Recipient::kGroup:
      return target->process().Signal(signal, true) ? target->id() : 0;
    case Recipient::kTree:
      pids = ProcessTree(target->MainPid());
      break;
    case Recipient::kAll:
      pids = ProcessesWithEnvironment("LASTCALL_RUN_ID", run_id_);
      break;
  }
  bool sent = false;
  for (pid_t pid : pids) sent = (pid > 0 && kill(pid, signal) == 0) || sent;
  return sent ? target->id() : 0;
}

TemplateVariables ScenarioRun::RunVariables() const {
  TemplateVariables variables;
  variables.constants = {{"port", std::to_string(launch_.port)},
                         {"ws_port", std::to_string(ws_port_)},
                         {"database_url", InstanceUrl(1)},
                         {"run_dir", run_dir_},
                         {"seed", std::to_string(scenario_.seed)},
                         {"redis_url", redis_url_}};
  return variables;
}

bool ScenarioRun::Expand(const std::string& text, std::string* out) {
  std::string error;
  std::optional<Template> t = Template::Compile(text, RunVariables(), &error);
  if (!t) return Fail(Verdict::kBadInput, scenario_.file + ": " + error);
  out->clear();
  t->Render({}, out);
  return true;
}

bool ScenarioRun::Prepare() {
  run_id_ = NewRunId();
  // Instance N's sessions are named app_name_ + N, for a reader of the
  // server's log; what tells the instances apart is their roles.
  app_name_ = "lastcall-" + run_id_ + "-";
  role_prefix_ = "lastcall_" + run_id_ + "_";
  role_password_ = RandomPassword();
  result_.run_id = run_id_;
  result_.seed = scenario_.seed;
  std::string folder_error;
  switch (MakeRunFolder(session_->options().reports_dir, report_name_, &folder_error)) {
    case RunFolder::kReady: break;
    case RunFolder::kCannotMake: return Fail(Verdict::kBadInput, folder_error);
    case RunFolder::kSymbolicLink: return Fail(Verdict::kInfrastructure, folder_error);
  }
  report_dir_ = session_->options().reports_dir + "/" + report_name_;
  result_.report_dir = report_dir_;
  std::error_code ec;
  run_dir_ = session_->work_dir() + "/" + run_id_;
  fs::create_directories(run_dir_, ec);
  if (ec) return Fail(Verdict::kInfrastructure, "cannot create " + run_dir_ + ": " + ec.message());

  Clock::time_point db_start = Clock::now();
  std::string error;
  admin_url_ = session_->AdminUrl(&error);
  if (admin_url_.empty()) return Fail(Verdict::kInfrastructure, error);
  if (!session_->ServerLog().empty()) server_log_offset_ = FileSize(session_->ServerLog());
  std::string schema;
  if (!scenario_.database.schema_path.empty())
    schema = ReadFileOrEmpty(scenario_.database.schema_path);
  db_name_ = "lastcall_run_" + run_id_;
  RunDatabases::Failure failure;
  const StatementLimits limits{session_->interrupt(), Clock::now() + scenario_.database.timeout};
  if (!database_.Create(session_->Databases(&error), db_name_,
                        DatabaseContent{schema, scenario_.database.setup_sql}, &failure,
                        &error, limits)) {
    switch (failure) {
      case RunDatabases::Failure::kServer:
        return Fail(Verdict::kInfrastructure, error);
      case RunDatabases::Failure::kInterrupted:
        FailIfInterrupted(error);  // the watch counted the signal: this fails
        return false;
      case RunDatabases::Failure::kTimedOut:
        // Like a target that is not ready in time: the limit is the
        // scenario's, the slowness may be the machine's.
        return Fail(Verdict::kInfrastructure,
                    scenario_.file + ": " + error + " (database.timeout: " +
                        DurationText(scenario_.database.timeout) + ")");
      case RunDatabases::Failure::kSchema:
        return Fail(Verdict::kBadInput, scenario_.database.schema_path + ": " + error);
      case RunDatabases::Failure::kSetup:
        return Fail(Verdict::kBadInput, scenario_.file + ": " + error);
    }
  }
  // A signal while the server started, or the spare was renamed, stops the
  // run here, not when the target starts.
  if (FailIfInterrupted("the database's preparation")) return false;
  db_url_ = UrlWithDatabase(admin_url_, db_name_);
  // A connection costs a server backend's start (60-170 ms on a busy
  // machine): it is made while the rest is prepared; the first instance's
  // role waits for it.
  audit_opening_ = std::async(std::launch::async, [url = db_url_, own = &own_sessions_] {
    std::string error;
    std::unique_ptr<AuditConnection> audit = AuditConnection::Open(url, &error, own);
    return std::make_pair(std::move(audit), error);
  });
  result_.database = SecondsBetween(db_start, Clock::now());
  if (scenario_.uses_redis && !PrepareRedis()) return false;

  // Behind a load balancer, the port the clients use is HAProxy's.
  launch_.port = FreeLoopbackPort(&error);
  if (launch_.port == 0) return Fail(Verdict::kInfrastructure, error);
  // ${ws_port}, for a second listener (the reference target's WebSocket
  // feed); bind(0) may hand out the same port twice in a row, rarely.
  ws_port_ = FreeLoopbackPort(&error);
  if (ws_port_ == launch_.port) ws_port_ = FreeLoopbackPort(&error);
  if (ws_port_ == 0) return Fail(Verdict::kInfrastructure, error);
  if (behind_load_balancer() && !ChooseSlotPorts(&error))
    return Fail(Verdict::kInfrastructure, error);
  launch_.cwd = scenario_.target.cwd;
  launch_.container = scenario_.target.container;
  launch_.ready = scenario_.target.ready;
  for (const std::string& arg : scenario_.target.command) {
    launch_.argv.emplace_back();
    if (!Expand(arg, &launch_.argv.back())) return false;
  }
  // The harness's environment, then what the target needs to know, then
  // the scenario's own variables, which may override any of it.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    size_t eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  env["PORT"] = std::to_string(launch_.port);
  // DATABASE_URL and the PG* variables are each instance's (StartInstance()).
  env["DATABASE_URL"] = db_url_;
  for (const auto& [name, value] : LibpqEnvironment(db_url_)) env[name] = value;
  env["PGAPPNAME"] = app_name_ + "1";  // see StartInstance()
  env["TMPDIR"] = run_dir_ + "/tmp/1";  // see StartInstance()
  env["LASTCALL_RUN_ID"] = run_id_;
  for (const auto& [name, value] : scenario_.target.env)
    if (!Expand(value, &env[name])) return false;
  for (const auto& [name, value] : env) launch_.env.push_back(name + "=" + value);

  const std::string target_log = report_dir_ + "/target.log.partial";
  unlink(target_log.c_str());  // a symbolic link left there is not written through
  target_log_.open(target_log, std::ios::trunc);
  if (!target_log_)
    return Fail(Verdict::kBadInput, "cannot write " + report_dir_ + "/target.log");
  return true;
}

bool ScenarioRun::StartInstance(int slot) {
  std::string error;
  int id = static_cast<int>(instances_.size()) + 1;
  // Each instance has its own database role and TMPDIR, so that what one
  // left behind is told apart from what another did (a SIGKILLed instance
  // cannot clean up; the next one must not be blamed for it).
  TargetLaunch launch;
  std::string database_url;
  if (!InstanceDatabaseUrl(id, &database_url) || !SlotLaunch(slot, database_url, &launch))
    return false;
  std::string tmpdir = TmpDirOf(id);
  std::error_code ec;
  fs::create_directories(tmpdir, ec);
  for (std::string& entry : launch.env) {
    if (entry.rfind("PGAPPNAME=", 0) == 0) entry = "PGAPPNAME=" + app_name_ + std::to_string(id);
    if (entry.rfind("TMPDIR=", 0) == 0) entry = "TMPDIR=" + tmpdir;
  }
  std::unique_ptr<TargetInstance> instance =
      TargetInstance::Start(id, launch, &history_, &target_log_, &error);
  if (!instance) return Fail(Verdict::kBadInput, scenario_.file + ": target.command: " + error);
  TargetInstance* started = instance.get();
  {
    std::lock_guard<std::mutex> lock(target_mutex_);
    instances_.push_back(std::move(instance));
    if (behind_load_balancer()) slots_[slot] = started;
  }
  if (nemesis_) WatchInstance(started);
  switch (started->WaitReady(session_->interrupt())) {
    case TargetInstance::Readiness::kReady:
      started->MainPid();  // known from now on, even after the exit
      if (nemesis_) nemesis_->OnTargetReady(id, Clock::now());
      return true;
    case TargetInstance::Readiness::kInterrupted:
      return Fail(Verdict::kInterrupted, "interrupted while the target was starting");
    case TargetInstance::Readiness::kExited:
      return Fail(Verdict::kInfrastructure,
                  "the target exited before it was ready (" +
                      started->process().exit_status()->ToString() +
                      "); its last output:\n" + started->Tail(20));
    case TargetInstance::Readiness::kTimedOut:
      break;
  }
  return Fail(Verdict::kInfrastructure,
              "the target was not ready within " + DurationText(launch_.ready.timeout) +
                  "; its last output:\n" + started->Tail(20));
}

void ScenarioRun::AddRollingRestartFaults() {
  const LoadBalancerSpec& lb = scenario_.load_balancer;
  first_rollout_fault_ = scenario_.faults.size();
  if (!lb.enabled || !lb.rolling_restart.enabled) return;
  for (int slot = 0; slot < scenario_.target.instances; ++slot) {
    Fault fault;
    fault.trigger.kind = Trigger::Kind::kRollingRestart;
    fault.trigger.count = slot + 1;
    fault.signal = lb.rolling_restart.signal;
    fault.grace = lb.rolling_restart.grace;
    fault.location = SourceLocation{scenario_.file, 0, 0};
    scenario_.faults.push_back(fault);
  }
}

bool ScenarioRun::ChooseSlotPorts(std::string* error) {
  // bind(0) hands out ports at random; a repeat is rare but possible.
  while (static_cast<int>(slot_ports_.size()) < scenario_.target.instances) {
    int port = FreeLoopbackPort(error);
    if (port == 0) return false;
    if (port != launch_.port && port != ws_port_ &&
        std::find(slot_ports_.begin(), slot_ports_.end(), port) == slot_ports_.end())
      slot_ports_.push_back(port);
  }
  slots_.assign(slot_ports_.size(), nullptr);
  return true;
}

bool ScenarioRun::InstanceDatabaseUrl(int id, std::string* url) {
  *url = db_url_;
  if (!roles_error_.empty()) return true;  // no use trying again
  if (!AwaitAuditConnection()) return false;
  const std::string role = role_prefix_ + std::to_string(id);
  if (!audit_->CreateRole(role, role_password_, database_.owner(), &roles_error_)) return true;
  database_.AddRole(role);
  *url = InstanceUrl(id);
  return true;
}

bool ScenarioRun::SlotLaunch(int slot, const std::string& database_url, TargetLaunch* out) {
  TemplateVariables variables = RunVariables();
  *out = launch_;
  if (behind_load_balancer()) out->port = slot_ports_[slot];
  variables.constants["port"] = std::to_string(out->port);
  variables.constants["database_url"] = database_url;
  std::map<std::string, std::string> own = {{"PORT", std::to_string(out->port)},
                                            {"DATABASE_URL", database_url}};
  for (const auto& [name, value] : LibpqEnvironment(database_url)) own[name] = value;
  std::string error;
  auto render = [&](const std::string& text, std::string* rendered) {
    std::optional<Template> t = Template::Compile(text, variables, &error);
    if (!t) return Fail(Verdict::kBadInput, scenario_.file + ": " + error);
    rendered->clear();
    t->Render({}, rendered);
    return true;
  };
  for (size_t i = 0; i < scenario_.target.command.size(); ++i)
    if (!render(scenario_.target.command[i], &out->argv[i])) return false;
  for (std::string& entry : out->env) {
    std::string name = entry.substr(0, entry.find('='));
    auto templated = scenario_.target.env.find(name);
    auto instance_value = own.find(name);
    std::string value;
    if (templated != scenario_.target.env.end()) {
      if (!render(templated->second, &value)) return false;
    } else if (instance_value != own.end()) {
      value = instance_value->second;
    } else {
      continue;
    }
    entry = name + "=" + value;
  }
  return true;
}

bool ScenarioRun::StartTarget() {
  if (!behind_load_balancer()) return StartInstance();
  for (int slot = 0; slot < scenario_.target.instances; ++slot)
    if (!StartInstance(slot)) return false;
  std::string error;
  load_balancer_ = LoadBalancer::Start(scenario_.load_balancer, launch_.port,
                                       slot_ports_, run_dir_, &error);
  if (!load_balancer_) return Fail(Verdict::kInfrastructure, error);
  history_.Record("load_balancer_start",
                  "HAProxy pid " + std::to_string(load_balancer_->pid()) + " on port " +
                      std::to_string(launch_.port));
  // Its health checks must have seen every instance before the load begins.
  Clock::time_point deadline = Clock::now() + launch_.ready.timeout;
  for (int slot = 0; slot < scenario_.target.instances; ++slot) {
    while (!load_balancer_->Up(slot)) {
      if (interrupted()) return Fail(Verdict::kInterrupted, "interrupted while HAProxy was starting");
      if (Clock::now() > deadline)
        return Fail(Verdict::kInfrastructure,
                    "HAProxy did not report " + BackendServerName(slot) + " UP within " +
                        DurationText(launch_.ready.timeout) + " (status " +
                        load_balancer_->Status(slot, &error) + ")");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return true;
}

void ScenarioRun::SignalSlot(int slot) {
  nemesis_->FireRollingRestart(first_rollout_fault_ + slot, slots_[slot]->id());
}

void ScenarioRun::SetSlotState(int slot, const std::string& state,
                               const std::string& event, const std::string& what) {
  std::string error;
  if (load_balancer_->SetState(slot, state, &error))
    history_.Record(event, BackendServerName(slot) + " " + what, slots_[slot]->id());
  else
    history_.Record("load_balancer_error", error);
}

void ScenarioRun::Deregister(int slot) {
  SetSlotState(slot, "maint", "deregister", "out of rotation");
}

void ScenarioRun::Readmit(int slot) {
  SetSlotState(slot, "ready", "readmit", "back in rotation");
}

bool ScenarioRun::StartReplacement(int slot) {
  history_.Record("restart", "starting instance " + std::to_string(instances_.size() + 1) +
                                 " for " + BackendServerName(slot));
  return StartInstance(slot);
}

bool ScenarioRun::SlotUp(int slot) {
  if (!load_balancer_->Up(slot)) return false;
  history_.Record("load_balancer_up", BackendServerName(slot) + " is UP", slots_[slot]->id());
  return true;
}

void ScenarioRun::OnInstanceExit(TargetInstance* instance) {
  if (behind_load_balancer()) {
    // Another slot serves meanwhile; only the rolling restart replaces it.
    nemesis_->OnTargetExit(instance->id(), instance->exit_time());
    for (size_t slot = 0; slot < slots_.size(); ++slot)
      if (rollout_ && slots_[slot] == instance) rollout_->OnSlotExit(static_cast<int>(slot));
    return;
  }
  std::optional<Duration> delay =
      nemesis_->OnTargetExit(instance->id(), instance->exit_time());
  if (!delay) {
    // Gone for good: retrying against a closed port proves nothing.
    load_->Abandon();
    return;
  }
  restart_at_ = Clock::now() + *delay;
}

// How often the socket watch looks at the target's sockets: an `in_flight`
// trigger fires within about this much of the moment.
constexpr std::chrono::microseconds kLookInterval{500};

// lastcall's own close of the WebSockets still open at the end of a run
// waits this long for the target's close frames.
constexpr std::chrono::seconds kWebSocketCloseTimeout{1};

bool ScenarioRun::StartWebSockets() {
  const WebSocketSpec& spec = scenario_.load.websockets;
  std::string port, path;
  if (!Expand(spec.port, &port) || !Expand(spec.path, &path)) return false;
  int number = 0;
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      (number = std::atoi(port.c_str())) < 1 || number > 65535)
    return Fail(Verdict::kBadInput, spec.port_location.ToString() +
                                        ": load.websockets.port must be a port number "
                                        "(1-65535), got \"" + port + "\"");
  websockets_ = WebSocketLoad::Start(spec.clients, number, path, &history_,
                                     scenario_.load.request.timeout);
  return true;
}

void ScenarioRun::Drive() {
  std::string error;
  if (scenario_.load.websockets.clients > 0 && !StartWebSockets()) return;
  nemesis_ = std::make_unique<Nemesis>(scenario_.faults, &history_, this);
  load_ = Load::Create(scenario_.load, RunVariables(), launch_.port, scenario_.seed,
                       &history_, nemesis_.get(), &error);
  if (!load_) {
    Fail(Verdict::kBadInput, scenario_.file + ": load.request: " + error);
    return;
  }
  if (TargetInstance* target = current()) WatchInstance(target);
  for (const Fault& fault : scenario_.faults) {
    Trigger::Kind kind = fault.trigger.kind;
    if (fault.kind == Fault::Kind::kSignal &&
        (kind == Trigger::Kind::kDbTransactionsOpen || kind == Trigger::Kind::kSql)) {
      watch_ = std::make_unique<DatabaseWatch>(db_url_, &own_sessions_, nemesis_.get(),
                                               &history_);
      break;
    }
  }
  if (behind_load_balancer() && scenario_.load_balancer.rolling_restart.enabled)
    rollout_ = std::make_unique<RollingRestartDriver>(
        scenario_.load_balancer.rolling_restart, scenario_.target.instances, this);
  OpenSocketWatch();
  load_start_ = load_->Start();
  if (sockets_)
    sockets_->Start(
        kLookInterval, [this](const LiveTable& live) { CountInFlight(live); },
        [this](std::vector<uint16_t>* ports) { load_->ConnectionPorts(ports); });
  if (jobs_) jobs_->Start(load_start_);
  nemesis_->Begin(load_start_);
  if (rollout_) {
    rollout_->Begin(load_start_);
    load_->Hold(true);
  }
  if (load_->own_failure().empty()) DriveLoop();
  if (load_->reached_max_duration()) {
    // A count the load did not reach in time says nothing of the target's
    // shutdown: no verdict may come of it.
    std::vector<std::string> unfired = nemesis_->UnfiredCountFaults(load_->completed());
    std::string list;
    for (const std::string& fault : unfired) list += (list.empty() ? "" : "; ") + fault;
    if (!unfired.empty())
      Fail(Verdict::kInfrastructure,
           "the load was held until load.max_duration (" +
               DurationText(MaxDuration(scenario_.load)) + ") and a fault never fired: " + list);
  }
  if (jobs_) {
    jobs_->Stop();  // bounded by the load's time as well as by its count
    history_.Record("jobs_enqueued", std::to_string(jobs_->enqueued()) + " jobs");
    if (!jobs_->error().empty() && result_.message.empty())
      Fail(Verdict::kInfrastructure, "cannot enqueue jobs: " + jobs_->error());
  }
  if (watch_) {
    std::string watch_error = watch_->error();
    std::optional<size_t> fault = watch_->error_fault();
    watch_.reset();
    if (!watch_error.empty() && result_.message.empty())
      Fail(Verdict::kBadInput,
           (fault ? scenario_.faults[*fault].location.ToString() : scenario_.file) +
               ": the database trigger failed: " + watch_error);
  }
  // What lastcall itself lacked is the cause of whatever else went wrong.
  if (std::string lacked = load_->own_failure();
      !lacked.empty() && result_.verdict != Verdict::kInterrupted)
    Fail(Verdict::kInfrastructure, lacked);
}

void ScenarioRun::OpenSocketWatch() {
  if (behind_load_balancer()) {
    kernel_view_missing_ =
        "behind the load balancer, the target's sockets are HAProxy's connections, not the "
        "clients'";
    return;
  }
  sockets_ = SocketWatch::Open(launch_.port, &history_, &kernel_view_missing_);
  if (sockets_) nemesis_->CountInFlightByKernel();
}

namespace {
// The look the socket watch thread is handling, while it counts in_flight:
// a signal that count fires is delivered on that thread, and that look is
// the moment's snapshot.
thread_local const LiveTable* look_in_hand = nullptr;
}  // namespace

void ScenarioRun::CountInFlight(const LiveTable& live) {
  // A listener gone is a drain begun; the first look from the moment a
  // drain became visible is kept.
  if (!live.listening) nemesis_->OnTurnedAway(live.time);
  int64_t visible = drain_visible_at_.load();
  if (visible >= 0 && live.time >= visible && drain_visible_at_.compare_exchange_strong(visible, -1)) {
    std::lock_guard<std::mutex> lock(kernel_mutex_);
    kernel_.drains_visible.push_back({live.time, live});
  }
  look_in_hand = &live;
  nemesis_->OnInFlight(load_->CountOutstanding([&](uint16_t port, uint64_t request_end) {
    const LiveSocket* s = live.Find(port);
    return s && HasRead(*s, request_end);
  }));
  look_in_hand = nullptr;
}

void ScenarioRun::SnapshotAtSignal() {
  SignalSnapshot snapshot;
  snapshot.time = history_.Now();
  if (look_in_hand) {
    snapshot.live = *look_in_hand;
  } else {
    std::vector<uint16_t> ports;
    load_->ConnectionPorts(&ports);
    sockets_->LookAt(ports, &snapshot.live);
  }
  kernel_.at_signals.push_back(std::move(snapshot));
}

void ScenarioRun::CloseSocketWatch() {
  if (!sockets_) return;
  if (!sockets_->AwaitDestroyEvents(Clock::now() + std::chrono::seconds(1)))
    history_.Record("socket_watch", "some sockets' destroy events never came");
  sockets_->Stop();
}

void ScenarioRun::PublishProgress() {
  status_->ok = load_->attempts_ended(Outcome::kOk);
  status_->failed = load_->attempts_ended(Outcome::kFailed);
  status_->unknown = load_->attempts_ended(Outcome::kUnknown);
  status_->in_flight = load_->in_flight();
  int64_t signals = 0;
  for (const FaultRecord& record : nemesis_->records())
    signals += record.delivery_time >= 0;
  status_->signals = signals;
}

void ScenarioRun::DriveLoop() {
  bool load_done_seen = false;
  for (;;) {
    // Several instances run at once behind the load balancer; otherwise
    // only the current one can.
    bool target_running = false;
    std::vector<pollfd> fds = {{session_->interrupt()->fd(), POLLIN, 0},
                               {waker_.fd(), POLLIN, 0}};
    for (const auto& instance : instances_) {
      bool running = !instance->process().exited();
      target_running = target_running || running;
      fds.push_back({running ? instance->process().exit_fd() : -1, POLLIN, 0});
      fds.push_back({instance->output_fd(), POLLIN, 0});
    }
    bool load_running = !load_->finished();
    if (!load_running && !load_done_seen) {
      load_done_seen = true;
      load_end_ = Clock::now();
    }
    bool deploying = rollout_ && !rollout_->done() && load_running;
    if (!load_running && !restart_at_ && !deploying &&
        !nemesis_->Pending(load_running, target_running))
      return;
    Clock::time_point wake = std::min(nemesis_->NextDeadline(),
                                      Clock::now() + std::chrono::milliseconds(100));
    if (restart_at_) wake = std::min(wake, *restart_at_);
    if (deploying) wake = std::min(wake, rollout_->NextDeadline());
    // ppoll, not poll: an `at` trigger is due to the nanosecond, not the
    // next whole millisecond.
    int64_t wait_ns = std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::nanoseconds>(wake - Clock::now()).count());
    timespec timeout{static_cast<time_t>(wait_ns / 1000000000),
                     static_cast<long>(wait_ns % 1000000000)};
    ppoll(fds.data(), fds.size(), &timeout, nullptr);
    if (interrupted()) {
      Fail(Verdict::kInterrupted, "interrupted by " + SignalName(session_->interrupt()->first_signal()));
      return;
    }
    waker_.Drain();
    // By index: a restart below adds instances.
    for (size_t i = 0; i < instances_.size(); ++i) {
      TargetInstance* target = instances_[i].get();
      target->PumpOutput();
      if (target->process().exited()) continue;
      bool exited;
      {
        std::lock_guard<std::mutex> lock(target_mutex_);
        exited = target->TryReap();
      }
      if (exited) OnInstanceExit(target);
    }
    nemesis_->OnTick();
    if (deploying && !rollout_->Tick(Clock::now())) {
      history_.Record("restart_failed", result_.message);
      load_->Abandon();
      if (result_.verdict == Verdict::kInterrupted) return;
    }
    if (rollout_ && rollout_->done()) load_->Hold(false);
    PublishProgress();
    if (restart_at_ && Clock::now() >= *restart_at_) {
      restart_at_.reset();
      history_.Record("restart", "starting instance " + std::to_string(instances_.size() + 1));
      if (!StartInstance()) {
        history_.Record("restart_failed", result_.message);
        load_->Abandon();
        if (result_.verdict == Verdict::kInterrupted) return;
      }
    }
  }
}

// The harness's own stop at the end of a run (not a fault: no check judges
// it): SIGTERM to the target's group, SIGKILL if it is still there after 10 s
// or at a second interrupt.
void ScenarioRun::StopTarget() {
  // Behind the load balancer every slot's instance is still up.
  for (size_t i = 0; i < instances_.size(); ++i) StopInstance(instances_[i].get());
}

void ScenarioRun::StopInstance(TargetInstance* target) {
  if (target->process().exited()) return;
  history_.Record("teardown", "TERM to group", target->id());
  target->mark_stopped_by_harness();
  target->process().Signal(SIGTERM, true);
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(10);
  int interrupts = session_->interrupt()->count();
  while (Clock::now() < deadline && session_->interrupt()->Check() == interrupts) {
    pollfd fds[3] = {{session_->interrupt()->fd(), POLLIN, 0},
                     {target->process().exit_fd(), POLLIN, 0},
                     {target->output_fd(), POLLIN, 0}};
    poll(fds, 3, 100);
    target->PumpOutput();
    std::lock_guard<std::mutex> lock(target_mutex_);
    if (target->TryReap()) return;
  }
  history_.Record("teardown", "KILL to group", target->id());
  target->process().Signal(SIGKILL, true);
  std::lock_guard<std::mutex> lock(target_mutex_);
  target->process().Wait(std::chrono::seconds(5));
  target->TryReap();
}

// What the target left behind, looked at as systemd would: after its main
// process is gone, wait (for the rest of the grace period, at least 2 s)
// until no process carrying the run's id is left; what is left then is an
// orphan. Sessions still open then (an orphan's included) are leaks. Then
// the orphans are killed, and the private TMPDIR is listed.
void ScenarioRun::CollectLeftovers() {
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(2);
  const std::vector<FaultRecord> records =
      nemesis_ ? nemesis_->records() : std::vector<FaultRecord>{};
  for (size_t i = 0; i < records.size(); ++i) {
    const FaultRecord& r = records[i];
    if (r.delivery_time >= 0 && scenario_.faults[i].kind == Fault::Kind::kSignal &&
        IsGraceful(scenario_.faults[i].signal))
      deadline = std::max(deadline, history_.epoch() +
                                        std::chrono::nanoseconds(r.delivery_time) +
                                        scenario_.faults[i].grace);
  }
  auto wait = std::chrono::microseconds(500);
  std::vector<pid_t> left;
  // No event says "the last process with this environment is gone": poll.
  while (!(left = ProcessesWithEnvironment("LASTCALL_RUN_ID", run_id_)).empty() &&
         Clock::now() < deadline && !interrupted()) {
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 2, std::chrono::microseconds(50000));
  }
  std::vector<std::string> orphans;
  for (pid_t pid : left) orphans.push_back(DescribeProcess(pid));
  leftovers_.orphans = orphans;

  // A session of a process that just died takes a moment to be noticed by
  // the server; a leak is what is still there after 2 s. A look costs a
  // query on the open connection (well under a millisecond), so look often.
  std::string error;
  std::vector<std::string> sessions;
  deadline = Clock::now() + std::chrono::seconds(2);
  auto pause = std::chrono::milliseconds(1);
  while (audit_ && audit_->TargetSessions(&sessions, &error) &&
         !sessions.empty() && Clock::now() < deadline && !interrupted()) {
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(10));
  }
  if (audit_ && error.empty()) leftovers_.leaked_sessions = sessions;

  for (pid_t pid : left) kill(pid, SIGKILL);
  for (const auto& instance : instances_) instance->process().Signal(SIGKILL, true);
  if (!left.empty()) history_.Record("orphans_killed", std::to_string(left.size()) + " processes");
  if (audit_) audit_->TerminateSessions();

  // A SIGKILLed instance could not clean up: only the others are judged.
  std::vector<std::string> files;
  bool judged = false;
  for (const auto& instance : instances_) {
    const std::optional<ExitStatus>& exit = instance->process().exit_status();
    if (exit && exit->by_signal && exit->value == SIGKILL) continue;
    judged = true;
    std::error_code ec;
    const fs::path tmp = TmpDirOf(instance->id());
    for (auto it = fs::recursive_directory_iterator(tmp, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (!it->is_directory())
        files.push_back("instance " + std::to_string(instance->id()) + ": " +
                        fs::relative(it->path(), tmp).string());
  }
  std::sort(files.begin(), files.end());
  if (judged) leftovers_.temp_files = files;
}

// The rows of each invariant kept for the reports; the others are counted.
constexpr size_t kRowsListedPerInvariant = 1000;

void ScenarioRun::Audit() {
  std::string error;
  AuditInputs in = leftovers_;
  in.scenario = &scenario_;
  in.history = &history_;
  in.faults = nemesis_->records();
  if (rollout_ && rollout_->started()) {
    in.deploy_start = history_.Since(*rollout_->started());
    if (rollout_->finished()) {
      in.deploy_end = history_.Since(*rollout_->finished());
      result_.rolling_restart = SecondsBetween(*rollout_->started(), *rollout_->finished());
    }
  }
  for (const auto& instance : instances_) {
    InstanceRecord record;
    record.id = instance->id();
    record.pid = instance->MainPid();
    record.stopped_by_harness = instance->stopped_by_harness();
    record.start_time = instance->start_time();
    record.ready_time = instance->ready_time();
    record.exit_time = instance->exit_time();
    record.exit = instance->process().exit_status();
    result_.instances.push_back(record);
  }
  in.instances = result_.instances;
  AppliedFold applied(scenario_.seed, history_.KeyOutcomes().size(), &in.applied, &in.unkept);
  // A query that runs long gives way to Ctrl-C, and is then no error of it.
  audit_->CancelOnInterrupt(session_->interrupt());
  if (!audit_->QueryApplied(
          scenario_.audit.applied_sql,
          [&](const std::string& key, int64_t times) { applied.Add(key, times); }, &error)) {
    FailAuditQuery(scenario_.audit.applied_location.ToString() + ": " + error);
    return;
  }
  // A query that fails is bad input, whatever the expectation: not a
  // violation, which `expect: {fail: [invariants]}` would take for a pass.
  for (const Invariant& invariant : scenario_.audit.invariants) {
    in.invariants.emplace_back();
    if (!audit_->QueryInvariant(invariant, kRowsListedPerInvariant, &in.invariants.back(),
                                &error)) {
      FailAuditQuery(invariant.location.ToString() + ": audit.invariants \"" +
                     invariant.name + "\" failed: " + error);
      return;
    }
  }
  if (FailIfInterrupted("the audit") || (jobs_ && !AuditJobs(&in))) return;
  if (!session_->ServerLog().empty())
    in.unclean_disconnects = FindUncleanDisconnects(
        ReadFileOrEmpty(session_->ServerLog(), server_log_offset_),
        RunSessions{db_name_, role_prefix_, own_sessions_.sessions(),
                    static_cast<int64_t>(WallClockSeconds(history_.epoch()) * 1e9)});
  in.roles_error = roles_error_;
  result_.faults = in.faults;
  ClassifyCauses(&in);
  result_.checks = RunChecks(in);
  std::string why;
  bool met = ExpectationMet(scenario_.expect, result_.checks, &why);
  result_.verdict = met ? Verdict::kMet : Verdict::kNotMet;
  result_.message = met ? (scenario_.expect.pass ? "every check passed"
                                                 : "the expected checks failed")
                        : why;
}

void ScenarioRun::ClassifyCauses(AuditInputs* in) {
  in->kernel_view_missing = kernel_view_missing_;
  result_.kernel_view_missing = kernel_view_missing_;
  if (sockets_) {
    kernel_.sockets = sockets_->Sockets();
    result_.kernel_view = sockets_->stats();
  }
  ClassifyAttempts(sockets_ ? &kernel_ : nullptr, DrainWindowsOf(*in), &history_);
}

bool ScenarioRun::PrepareRedis() {
  std::string error;
  if (!scenario_.redis_url.empty()) {
    if (!Expand(scenario_.redis_url, &redis_url_)) return false;
  } else {
    redis_ = EmbeddedRedis::Start(run_dir_ + "/redis", &error);
    if (!redis_) return Fail(Verdict::kInfrastructure, "cannot start Redis: " + error);
    redis_url_ = redis_->url();
  }
  if (!scenario_.jobs.enabled) return true;
  jobs_ = JobGenerator::Create(redis_url_, scenario_.jobs, scenario_.seed, &error);
  if (!jobs_) return Fail(Verdict::kInfrastructure, error);
  return true;
}

bool ScenarioRun::AuditJobs(AuditInputs* in) {
  std::string error;
  JobsAudit jobs;
  jobs.processing_list = scenario_.jobs.processing;
  for (int64_t n = 0; n < jobs_->enqueued(); ++n) jobs.enqueued.push_back(JobId(scenario_.seed, n));
  if (!audit_->QueryApplied(
          scenario_.audit.jobs_sql,
          [&](const std::string& id, int64_t times) { jobs.done[id] += times; }, &error,
          "audit.jobs")) {
    FailAuditQuery(scenario_.audit.jobs_location.ToString() + ": " + error);
    return false;
  }
  JobLists lists;
  if (!jobs_->ReadLists(&lists, &error))
    return Fail(Verdict::kInfrastructure, "cannot read the job lists: " + error);
  jobs.queue = std::move(lists.queue);
  jobs.processing = std::move(lists.processing);
  in->jobs = std::move(jobs);
  return true;
}

// For the report: the attempts of the first offending keys of each failed
// check, so a reader sees what the client saw without opening the history.
void ScenarioRun::AttemptsOfOffendingKeys() {
  std::map<std::string, std::vector<const Attempt*>> wanted;
  for (const CheckResult& c : result_.checks) {
    if (c.status != CheckStatus::kFail) continue;
    for (size_t i = 0; i < c.offending.size() && i < 20; ++i) {
      std::string key = KeyOf(c.offending[i]);
      if (!key.empty()) wanted[key];
    }
  }
  if (wanted.empty()) return;
  for (const auto& client : history_.all_attempts())
    for (const Attempt& a : client) {
      auto it = wanted.find(History::KeyFor(scenario_.seed, a.seq));
      if (it != wanted.end()) it->second.push_back(&a);
    }
  for (auto& [key, attempts] : wanted) {
    std::sort(attempts.begin(), attempts.end(),
              [](const Attempt* a, const Attempt* b) { return a->attempt < b->attempt; });
    for (const Attempt* a : attempts) {
      char line[256];
      std::snprintf(line, sizeof line, "attempt %d on connection %lld at %.6fs: %s, %s after %.1f ms%s%s%s",
                    a->attempt, static_cast<long long>(a->connection),
                    static_cast<double>(a->send_start) / 1e9,
                    a->status ? ("HTTP " + std::to_string(a->status)).c_str()
                              : NetErrorName(a->error),
                    OutcomeName(a->outcome),
                    static_cast<double>(a->done - a->send_start) / 1e6,
                    a->cause == Cause::kNone ? "" : " (", a->cause == Cause::kNone ? "" : CauseName(a->cause),
                    a->cause == Cause::kNone ? "" : ")");
      result_.attempts_of[key].push_back(line);
    }
  }
}

bool ScenarioRun::AwaitAuditConnection() {
  if (!audit_opening_.valid()) return audit_ != nullptr;  // taken before
  auto [audit, error] = audit_opening_.get();
  audit_ = std::move(audit);
  if (!audit_)
    return Fail(Verdict::kInfrastructure, "cannot connect to the run's database: " + error);
  return true;
}

void ScenarioRun::WriteReports() {
  CountRequests(history_, &result_);
  AttemptsOfOffendingKeys();
  std::string error;
  bool ok = WriteFileAtomically(
      report_dir_ + "/history.jsonl",
      [&](std::ostream& out) { history_.WriteJsonl(out, scenario_.seed); }, &error);
  if (target_log_.is_open()) {
    for (const auto& instance : instances_) instance->PumpOutput();
    target_log_.close();
    // A short write (a full disk) must not replace the previous target.log,
    // nor may a complete one stand beside a previous, unrelated history.
    const std::string partial = report_dir_ + "/target.log.partial";
    if (ok && target_log_) {
      std::rename(partial.c_str(), (report_dir_ + "/target.log").c_str());
    } else {
      if (ok) error = "cannot write " + report_dir_ + "/target.log: " + std::strerror(errno);
      ok = false;
      unlink(partial.c_str());
    }
  }
  if (!session_->ServerLog().empty())
    ok = ok && WriteFileAtomically(report_dir_ + "/postgres.log",
                                   ReadFileOrEmpty(session_->ServerLog(), server_log_offset_),
                                   &error);
  ok = ok && CapOffending(report_dir_, &result_.checks, &error);
  ok = ok && WriteFileAtomically(report_dir_ + "/result.json",
                                 ResultJson(result_, scenario_), &error);
  ok = ok && WriteRenderedReports(SavedReport::Of(result_, scenario_.expect, history_), &error);
  if (!ok && result_.verdict == Verdict::kMet) Fail(Verdict::kInfrastructure, error);
}

ScenarioResult ScenarioRun::Run() {
  Clock::time_point start = Clock::now();
  try {
    RunPhases();
  } catch (const std::exception& e) {
    // lastcall itself lacked something (a thread, memory, a descriptor)
    // where it had no better answer: the run cannot be judged, and what it
    // started must still stop before the reports are written.
    const std::string lacked = load_ ? load_->own_failure() : "";
    Fail(Verdict::kInfrastructure,
         !lacked.empty() ? lacked
                         : std::string("lastcall could not get a resource it needed: ") + e.what());
    if (load_) {
      load_->Abandon();
      load_->Join();
    }
    if (websockets_) websockets_->Stop(kWebSocketCloseTimeout);
    StopTarget();
  }
  result_.total = SecondsBetween(start, Clock::now());
  status_->phase = "reports";
  if (!report_dir_.empty() && access(report_dir_.c_str(), W_OK) == 0) WriteReports();
  return result_;
}

void ScenarioRun::RunPhases() {
  result_.name = scenario_.name;
  result_.file = scenario_.file;
  result_.matrix = scenario_.matrix;
  for (const Fault& f : scenario_.faults)
    result_.fault_signals.push_back(f.kind == Fault::Kind::kSignal ? f.signal : 0);
  status_->phase = "database";
  if (Prepare()) {
    Clock::time_point target_start = Clock::now();
    status_->phase = "starting";
    bool ready = StartTarget();
    if (ready) result_.target_ready = SecondsBetween(target_start, Clock::now());
    if (AwaitAuditConnection() && ready) {
      status_->phase = "load";
      Drive();
      // A control run's teardown must not cut short what it would judge.
      if (scenario_.rest_before_teardown.count() > 0 && result_.message.empty())
        history_.Record("rest", AwaitTargetAtRest(db_url_, &own_sessions_,
                                                  scenario_.rest_before_teardown,
                                                  session_->interrupt()));
    }
    bool failed = !result_.message.empty();
    Clock::time_point teardown_start = Clock::now();
    status_->phase = "teardown";
    if (load_) {
      load_->Stop();
      if (failed) load_->Abandon();
    }
    // Before the target's teardown: a close by the teardown is not judged.
    if (websockets_) websockets_->Stop(kWebSocketCloseTimeout);
    StopTarget();
    if (load_) load_->Join();
    CloseSocketWatch();
    // The clients are done: HAProxy goes before the leftovers are judged.
    load_balancer_.reset();
    if (load_ && load_end_ == Clock::time_point()) load_end_ = Clock::now();
    if (load_) {
      result_.load = SecondsBetween(load_start_, load_end_);
      result_.load_started_at = WallClockSeconds(load_start_);
    }
    CollectLeftovers();
    result_.teardown = SecondsBetween(teardown_start, Clock::now());
    if (!failed && nemesis_) {
      status_->phase = "audit";
      Clock::time_point audit_start = Clock::now();
      Audit();
      result_.audit = SecondsBetween(audit_start, Clock::now());
    }
  }
}

}  // namespace

namespace {

// The port of a run is chosen free (bind to port 0) and released for the
// target to bind; another process may take it in between. The target then
// fails to start with EADDRINUSE, and the run is made again from scratch
// with a new port, up to this many times.
constexpr int kPortAttempts = 3;

// True when the target exited before it was ready saying its address was
// in use (strerror(EADDRINUSE), as C, Go, Python, Java and Node print it).
bool TargetFoundPortTaken(const ScenarioResult& result) {
  if (result.verdict != Verdict::kInfrastructure ||
      result.message.find("exited before it was ready") == std::string::npos)
    return false;
  std::string message = result.message;
  std::transform(message.begin(), message.end(), message.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return message.find("address already in use") != std::string::npos ||
         message.find("eaddrinuse") != std::string::npos;
}

}  // namespace

ScenarioResult RunScenario(const Scenario& scenario, Session* session,
                           const std::string& report_name, RunStatus* status) {
  for (int attempt = 1;; ++attempt) {
    ScenarioResult result = ScenarioRun(scenario, session, report_name, status).Run();
    if (!TargetFoundPortTaken(result)) return result;
    if (attempt == kPortAttempts) {
      result.message = "the target could not bind its port, " +
                       std::to_string(kPortAttempts) +
                       " times with a new free port each time: " + result.message;
      return result;
    }
  }
}

}  // namespace lastcall
