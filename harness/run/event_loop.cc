#include "run/run_case.h"

namespace lastcall {

// How often the socket watch looks at the target's sockets: an `in_flight`
// trigger fires within about this much of the moment.
constexpr std::chrono::microseconds kLookInterval{500};

bool RunCase::StartWebSockets() {
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

void RunCase::Drive() {
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

void RunCase::PublishProgress() {
  status_->ok = load_->attempts_ended(Outcome::kOk);
  status_->failed = load_->attempts_ended(Outcome::kFailed);
  status_->unknown = load_->attempts_ended(Outcome::kUnknown);
  status_->in_flight = load_->in_flight();
  int64_t signals = 0;
  for (const FaultRecord& record : nemesis_->records())
    signals += record.delivery_time >= 0;
  status_->signals = signals;
}

void RunCase::DriveLoop() {
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

}  // namespace lastcall
