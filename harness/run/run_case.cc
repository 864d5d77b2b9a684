#include "run/run_case.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "base/file.h"
#include "base/free_port.h"
#include "run/control.h"
#include "run/event_loop.h"
#include "run/launch.h"
#include "run/leftovers.h"
#include "run/run_audit.h"

namespace lastcall {

using Clock = std::chrono::steady_clock;

namespace {

std::string NewRunId() {
  std::random_device random;
  char id[16];
  std::snprintf(id, sizeof id, "%08x", random());
  return id;
}

size_t FileSize(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<size_t>(size);
}

}  // namespace

RunCase::RunCase(const Scenario& scenario, Session* session, const std::string& report_name,
                 RunStatus* status)
    : scenario_(scenario),
      session_(session),
      report_name_(report_name),
      status_(status ? status : &unwatched_),
      record_(scenario.load.clients),
      history_(record_.history),
      run_id_(NewRunId()),
      database_(run_id_) {
  if (session->options().seed) scenario_.seed = *session->options().seed;
  DrawRandomTriggers(scenario_.seed, &scenario_.faults);
  AddRollingRestartFaults();
}

RunCase::~RunCase() {
  load_phase_.reset();
  jobs_.reset();
  redis_.reset();  // before its folder in the workspace goes
}

TemplateVariables RunCase::RunVariables() const {
  TemplateVariables variables;
  variables.constants = {
      {"port", std::to_string(launch_.port)},     {"ws_port", std::to_string(ws_port_)},
      {"database_url", database_.InstanceUrl(1)}, {"run_dir", workspace_.run_dir()},
      {"seed", std::to_string(scenario_.seed)},   {"redis_url", redis_url_}};
  return variables;
}

bool RunCase::Expand(const std::string& text, std::string* out) {
  RunFailure failure;
  return ExpandTemplate(scenario_, text, RunVariables(), out, &failure) || Fail(failure);
}

bool RunCase::Prepare() {
  // Instance N's sessions are named app_name_ + N, for a reader of the
  // server's log; what tells the instances apart is their roles.
  app_name_ = "lastcall-" + run_id_ + "-";
  record_.run_id = run_id_;
  record_.seed = scenario_.seed;
  RunFailure folder_failure;
  const bool made = workspace_.Make(session_->options().reports_dir, report_name_,
                                    session_->work_dir(), run_id_, &folder_failure);
  record_.report_dir = workspace_.report_dir();
  if (!made) return Fail(folder_failure);

  Clock::time_point db_start = Clock::now();
  if (!PrepareDatabase()) return false;
  record_.timings.database = SecondsBetween(db_start, Clock::now());
  if (scenario_.uses_redis && !PrepareRedis()) return false;

  std::string error;
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
  const RunIdentity run{launch_.port, database_.url(), app_name_, workspace_.run_dir(), run_id_};
  RunFailure failure;
  if (!RunLaunch(scenario_, RunVariables(), run, &launch_, &failure)) return Fail(failure);
  return MakeFleet();
}

bool RunCase::PrepareDatabase() {
  std::string error;
  const std::string admin_url = session_->AdminUrl(&error);
  if (admin_url.empty()) return Fail(Verdict::kInfrastructure, error);
  if (!session_->ServerLog().empty()) server_log_offset_ = FileSize(session_->ServerLog());
  std::string schema;
  if (!scenario_.database.schema_path.empty())
    schema = ReadFileOrEmpty(scenario_.database.schema_path);
  RunDatabases::Failure failure;
  const StatementLimits limits{session_->interrupt(), Clock::now() + scenario_.database.timeout};
  if (!database_.Create(session_->Databases(&error), admin_url,
                        DatabaseContent{schema, scenario_.database.setup_sql}, limits, &failure,
                        &error)) {
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
                    scenario_.file + ": " + error +
                        " (database.timeout: " + DurationText(scenario_.database.timeout) + ")");
      case RunDatabases::Failure::kSchema:
        return Fail(Verdict::kBadInput, scenario_.database.schema_path + ": " + error);
      case RunDatabases::Failure::kSetup:
        return Fail(Verdict::kBadInput, scenario_.file + ": " + error);
    }
  }
  // A signal while the server started, or the spare was renamed, stops the
  // run here, not when the target starts.
  if (FailIfInterrupted("the database's preparation")) return false;
  database_.OpenConnection();
  return true;
}

bool RunCase::MakeFleet() {
  FleetSetup setup;
  setup.scenario = &scenario_;
  setup.history = &history_;
  setup.interrupt = session_->interrupt();
  setup.database = &database_;
  setup.run_id = run_id_;
  setup.app_name = app_name_;
  setup.run_dir = workspace_.run_dir();
  setup.launch = launch_;
  setup.variables = RunVariables();
  setup.slot_ports = slot_ports_;
  setup.first_rollout_fault = first_rollout_fault_;
  fleet_ = std::make_unique<TargetFleet>(std::move(setup));
  fleet_->OnDrainVisible([this](int64_t time) {
    if (load_phase_ && load_phase_->kernel()) load_phase_->kernel()->DrainVisible(time);
  });
  // The load phase goes first when the run ends: a signal a client thread
  // sends after that has no look to keep.
  fleet_->OnGracefulSignal([this] {
    if (load_phase_ && load_phase_->kernel()) load_phase_->kernel()->SnapshotAtSignal();
  });
  const std::string& report_dir = workspace_.report_dir();
  if (!fleet_->OpenLog(report_dir + "/target.log.partial"))
    return Fail(Verdict::kBadInput, "cannot write " + report_dir + "/target.log");
  return true;
}

void RunCase::AddRollingRestartFaults() {
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

bool RunCase::PrepareRedis() {
  std::string error;
  if (!scenario_.redis_url.empty()) {
    if (!Expand(scenario_.redis_url, &redis_url_)) return false;
  } else {
    redis_ = EmbeddedRedis::Start(workspace_.run_dir() + "/redis", &error);
    if (!redis_) return Fail(Verdict::kInfrastructure, "cannot start Redis: " + error);
    redis_url_ = redis_->url();
  }
  if (!scenario_.jobs.enabled) return true;
  jobs_ = JobGenerator::Create(redis_url_, scenario_.jobs, scenario_.seed, &error);
  if (!jobs_) return Fail(Verdict::kInfrastructure, error);
  return true;
}

bool RunCase::ChooseSlotPorts(std::string* error) {
  // bind(0) hands out ports at random; a repeat is rare but possible.
  while (static_cast<int>(slot_ports_.size()) < scenario_.target.instances) {
    int port = FreeLoopbackPort(error);
    if (port == 0) return false;
    if (port != launch_.port && port != ws_port_ &&
        std::find(slot_ports_.begin(), slot_ports_.end(), port) == slot_ports_.end())
      slot_ports_.push_back(port);
  }
  return true;
}

void RunCase::Drive() {
  LoadPhaseSetup setup;
  setup.scenario = &scenario_;
  setup.history = &history_;
  setup.interrupt = session_->interrupt();
  setup.database = &database_;
  setup.fleet = fleet_.get();
  setup.jobs = jobs_.get();
  setup.status = status_;
  setup.record = &record_;
  setup.variables = RunVariables();
  setup.port = launch_.port;
  load_phase_ = std::make_unique<LoadPhase>(std::move(setup));
  load_phase_->Drive();
}

RunRecord& RunCase::Run() {
  Clock::time_point start = Clock::now();
  try {
    RunPhases();
  } catch (const std::exception& e) {
    // lastcall itself lacked something (a thread, memory, a descriptor)
    // where it had no better answer: the run cannot be judged, and what it
    // started must still stop before the reports are written.
    const std::string lacked = load_phase_ ? load_phase_->own_failure() : "";
    Fail(Verdict::kInfrastructure,
         !lacked.empty() ? lacked
                         : std::string("lastcall could not get a resource it needed: ") + e.what());
    if (load_phase_) load_phase_->Abandon();
    if (fleet_) fleet_->StopAll();
  }
  record_.timings.total = SecondsBetween(start, Clock::now());
  return record_;
}

void RunCase::Audit() {
  AuditInputs& in = record_.audit;  // the leftovers are in already
  record_.faults = load_phase_->nemesis()->records();
  if (const RollingRestartDriver* rollout = load_phase_->rollout(); rollout && rollout->started()) {
    in.deploy_start = history_.Since(*rollout->started());
    if (rollout->finished()) {
      in.deploy_end = history_.Since(*rollout->finished());
      record_.timings.rolling_restart = SecondsBetween(*rollout->started(), *rollout->finished());
    }
  }
  record_.instances = fleet_->Records();
  const AuditSources sources{&scenario_,        &history_,
                             &database_,        session_->interrupt(),
                             jobs_.get(),       session_->ServerLog(),
                             server_log_offset_};
  RunFailure failure;
  if (!QueryAudit(sources, &in, &failure)) {
    Fail(failure);
    return;
  }
  if (KernelWatch* kernel = load_phase_->kernel()) record_.kernel_view = kernel->KeepSockets();
  record_.audited = true;
}

ReportSources RunCase::report_sources() {
  ReportSources sources;
  if (fleet_ && fleet_->log_open())
    sources.finish_target_log = [this] { return fleet_->CloseLog(); };
  sources.server_log = session_->ServerLog();
  sources.server_log_offset = server_log_offset_;
  return sources;
}

void RunCase::RunPhases() {
  status_->phase = "database";
  if (Prepare()) {
    Clock::time_point target_start = Clock::now();
    status_->phase = "starting";
    RunFailure failure;
    bool ready = fleet_->Start(&failure);
    if (!ready) Fail(failure);
    if (ready) record_.timings.target_ready = SecondsBetween(target_start, Clock::now());
    if (AwaitAuditConnection() && ready) {
      status_->phase = "load";
      Drive();
      // A control run's teardown must not cut short what it would judge.
      if (scenario_.rest_before_teardown.count() > 0 && !record_.failed())
        history_.Record("rest",
                        AwaitTargetAtRest(database_.url(), database_.own_sessions(),
                                          scenario_.rest_before_teardown, session_->interrupt()));
    }
    bool failed = record_.failed();
    Clock::time_point teardown_start = Clock::now();
    status_->phase = "teardown";
    // Before the target's teardown: a close by the teardown is not judged.
    if (load_phase_) load_phase_->StopClients(failed);
    fleet_->StopAll();
    if (load_phase_) load_phase_->JoinClients();
    // The clients are done: HAProxy goes before the leftovers are judged.
    fleet_->StopLoadBalancer();
    if (load_phase_) load_phase_->RecordLoadTimes();
    const Nemesis* nemesis = load_phase_ ? load_phase_->nemesis() : nullptr;
    LeftoverScan scan{
        &scenario_,  {}, &history_, run_id_, session_->interrupt(), database_.connection(),
        fleet_.get()};
    if (nemesis) scan.fault_records = nemesis->records();
    CollectLeftovers(scan, &record_.audit);
    record_.timings.teardown = SecondsBetween(teardown_start, Clock::now());
    if (!failed && nemesis) {
      status_->phase = "audit";
      Clock::time_point audit_start = Clock::now();
      Audit();
      record_.timings.audit = SecondsBetween(audit_start, Clock::now());
    }
  }
}

}  // namespace lastcall
