#include "run/load_phase.h"

#include <chrono>
#include <cstdlib>

#include "run/control.h"
#include "run/event_loop.h"
#include "run/launch.h"

namespace lastcall {

using Clock = std::chrono::steady_clock;

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

LoadPhase::~LoadPhase() {
  kernel_.reset();
  load_.reset();
}

bool LoadPhase::Expand(const std::string& text, std::string* out) {
  RunFailure failure;
  return ExpandTemplate(scenario_, text, setup_.variables, out, &failure) || Fail(failure);
}

void LoadPhase::StopClients(bool abandon) {
  if (load_) {
    load_->Stop();
    if (abandon) load_->Abandon();
  }
  if (websockets_) websockets_->Stop(kWebSocketCloseTimeout);
}

void LoadPhase::JoinClients() {
  if (load_) load_->Join();
  if (kernel_) kernel_->Close();
}

void LoadPhase::RecordLoadTimes() {
  if (!load_) return;
  if (load_end_ == Clock::time_point()) load_end_ = Clock::now();
  record_.timings.load = SecondsBetween(load_start_, load_end_);
  record_.timings.load_started_at = WallClockSeconds(load_start_);
}

void LoadPhase::Abandon() {
  if (load_) {
    load_->Abandon();
    load_->Join();
  }
  if (websockets_) websockets_->Stop(kWebSocketCloseTimeout);
}

void LoadPhase::DriveLoop() {
  LoadInLoop load(load_.get());
  EventLoop loop(nemesis_.get(), rollout_.get(), setup_.fleet, &load, &history_);
  EventLoop::End end = loop.Run([this] { PublishProgress(); });
  if (loop.load_end()) load_end_ = *loop.load_end();
  if (loop.start_failure()) Fail(*loop.start_failure());
  if (end == EventLoop::End::kInterrupted)
    Fail(Verdict::kInterrupted, "interrupted by " + SignalName(setup_.interrupt->first_signal()));
}

void LoadPhase::OpenSocketWatch() {
  if (scenario_.load_balancer.enabled) {
    record_.kernel_view_missing =
        "behind the load balancer, the target's sockets are HAProxy's connections, not the "
        "clients'";
    return;
  }
  kernel_ = KernelWatch::Open(setup_.port, &history_, nemesis_.get(), load_.get(), &record_.kernel,
                              &record_.kernel_view_missing);
}

bool LoadPhase::StartWebSockets() {
  const WebSocketSpec& spec = scenario_.load.websockets;
  std::string port, path;
  if (!Expand(spec.port, &port) || !Expand(spec.path, &path)) return false;
  int number = 0;
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos ||
      (number = std::atoi(port.c_str())) < 1 || number > 65535)
    return Fail(Verdict::kBadInput, spec.port_location.ToString() +
                                        ": load.websockets.port must be a port number "
                                        "(1-65535), got \"" +
                                        port + "\"");
  websockets_ =
      WebSocketLoad::Start(spec.clients, number, path, &history_, scenario_.load.request.timeout);
  return true;
}

void LoadPhase::Drive() {
  std::string error;
  if (scenario_.load.websockets.clients > 0 && !StartWebSockets()) return;
  nemesis_ = std::make_unique<Nemesis>(scenario_.faults, &history_, setup_.fleet);
  load_ = Load::Create(scenario_.load, setup_.variables, setup_.port, scenario_.seed, &history_,
                       nemesis_.get(), &error);
  if (!load_) {
    Fail(Verdict::kBadInput, scenario_.file + ": load.request: " + error);
    return;
  }
  setup_.fleet->AttachNemesis(nemesis_.get());
  for (const Fault& fault : scenario_.faults) {
    Trigger::Kind kind = fault.trigger.kind;
    if (fault.kind == Fault::Kind::kSignal &&
        (kind == Trigger::Kind::kDbTransactionsOpen || kind == Trigger::Kind::kSql)) {
      watch_ = std::make_unique<DatabaseWatch>(
          setup_.database->url(), setup_.database->own_sessions(), nemesis_.get(), &history_);
      break;
    }
  }
  if (scenario_.load_balancer.enabled && scenario_.load_balancer.rolling_restart.enabled)
    rollout_ = std::make_unique<RollingRestartDriver>(scenario_.load_balancer.rolling_restart,
                                                      scenario_.target.instances, setup_.fleet);
  OpenSocketWatch();
  load_start_ = load_->Start();
  if (kernel_) kernel_->Start();
  if (setup_.jobs) setup_.jobs->Start(load_start_);
  nemesis_->Begin(load_start_);
  if (rollout_) {
    rollout_->Begin(load_start_);
    load_->Hold(true);
  }
  if (load_->own_failure().empty()) DriveLoop();
  if (load_->reached_max_duration()) {
    std::string cut_short =
        FaultsCutShortByMaxDuration(*nemesis_, load_->completed(), MaxDuration(scenario_.load));
    if (!cut_short.empty()) Fail(Verdict::kInfrastructure, cut_short);
  }
  if (setup_.jobs) {
    setup_.jobs->Stop();  // bounded by the load's time as well as by its count
    history_.Record("jobs_enqueued", std::to_string(setup_.jobs->enqueued()) + " jobs");
    if (!setup_.jobs->error().empty() && !record_.failed())
      Fail(Verdict::kInfrastructure, "cannot enqueue jobs: " + setup_.jobs->error());
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

void LoadPhase::PublishProgress() {
  setup_.status->ok = load_->attempts_ended(Outcome::kOk);
  setup_.status->failed = load_->attempts_ended(Outcome::kFailed);
  setup_.status->unknown = load_->attempts_ended(Outcome::kUnknown);
  setup_.status->in_flight = load_->in_flight();
  int64_t signals = 0;
  for (const FaultRecord& record : nemesis_->records()) signals += record.delivery_time >= 0;
  setup_.status->signals = signals;
}

}  // namespace lastcall