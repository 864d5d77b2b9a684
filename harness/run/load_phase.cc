// lastcall's own close of the WebSockets still open at the end of a run
// waits this long for the target's close frames.
constexpr std::chrono::seconds kWebSocketCloseTimeout{1};

namespace {

// The load as the event loop drives it.
class LoadInLoop : public LoopLoad {
 public:
  explicit LoadInLoop(Load* load) : load_(load) {}
  bool finished() const override { return load_->finished(); }
  void Hold(bool held) override { load_->Hold(held); }
  void Abandon() override { load_->Abandon(); }

 private:
  Load* load_;
};

}  // namespace

void RunCase::DriveLoop() {
  LoadInLoop load(load_.get());
  EventLoop loop(nemesis_.get(), rollout_.get(), fleet_.get(), &load, &history_);
  EventLoop::End end = loop.Run([this] { PublishProgress(); });
  if (loop.load_end()) load_end_ = *loop.load_end();
  if (loop.start_failure()) Fail(*loop.start_failure());
  if (end == EventLoop::End::kInterrupted)
    Fail(Verdict::kInterrupted,
         "interrupted by " + SignalName(session_->interrupt()->first_signal()));
}

void RunCase::OpenSocketWatch() {
  if (behind_load_balancer()) {
    record_.kernel_view_missing =
        "behind the load balancer, the target's sockets are HAProxy's connections, not the "
        "clients'";
    return;
  }
  kernel_ = KernelWatch::Open(launch_.port, &history_, nemesis_.get(), load_.get(),
                              &record_.kernel, &record_.kernel_view_missing);
}

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
  nemesis_ = std::make_unique<Nemesis>(scenario_.faults, &history_, fleet_.get());
  load_ = Load::Create(scenario_.load, RunVariables(), launch_.port, scenario_.seed,
                       &history_, nemesis_.get(), &error);
  if (!load_) {
    Fail(Verdict::kBadInput, scenario_.file + ": load.request: " + error);
    return;
  }
  fleet_->AttachNemesis(nemesis_.get());
  for (const Fault& fault : scenario_.faults) {
    Trigger::Kind kind = fault.trigger.kind;
    if (fault.kind == Fault::Kind::kSignal &&
        (kind == Trigger::Kind::kDbTransactionsOpen || kind == Trigger::Kind::kSql)) {
      watch_ = std::make_unique<DatabaseWatch>(database_.url(), database_.own_sessions(),
                                               nemesis_.get(), &history_);
      break;
    }
  }
  if (behind_load_balancer() && scenario_.load_balancer.rolling_restart.enabled)
    rollout_ = std::make_unique<RollingRestartDriver>(
        scenario_.load_balancer.rolling_restart, scenario_.target.instances, fleet_.get());
  OpenSocketWatch();
  load_start_ = load_->Start();
  if (kernel_) kernel_->Start();
  if (jobs_) jobs_->Start(load_start_);
  nemesis_->Begin(load_start_);
  if (rollout_) {
    rollout_->Begin(load_start_);
    load_->Hold(true);
  }
  if (load_->own_failure().empty()) DriveLoop();
  if (load_->reached_max_duration()) {
    std::string cut_short = FaultsCutShortByMaxDuration(*nemesis_, load_->completed(),
                                                        MaxDuration(scenario_.load));
    if (!cut_short.empty()) Fail(Verdict::kInfrastructure, cut_short);
  }
  if (jobs_) {
    jobs_->Stop();  // bounded by the load's time as well as by its count
    history_.Record("jobs_enqueued", std::to_string(jobs_->enqueued()) + " jobs");
    if (!jobs_->error().empty() && !record_.failed())
      Fail(Verdict::kInfrastructure, "cannot enqueue jobs: " + jobs_->error());
  }
  if (watch_) {
    std::string watch_error = watch_->error();
    std::optional<size_t> fault = watch_->error_fault();
    watch_.reset();
    if (!watch_error.empty() && !record_.failed())
      Fail(Verdict::kBadInput,
           (fault ? scenario_.faults[*fault].location.ToString() : scenario_.file) +
               ": the database trigger failed: " + watch_error);
  }
  // What lastcall itself lacked is the cause of whatever else went wrong.
  if (std::string lacked = load_->own_failure();
      !lacked.empty() && record_.failure.verdict != Verdict::kInterrupted)
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
