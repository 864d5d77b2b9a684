#include "run/event_loop.h"

#include <algorithm>

namespace lastcall {

using Clock = std::chrono::steady_clock;

EventLoop::EventLoop(Nemesis* nemesis, RollingRestartDriver* rollout, LoopFleet* fleet,
                     LoopLoad* load, History* history)
    : nemesis_(nemesis), rollout_(rollout), fleet_(fleet), load_(load), history_(history) {}

EventLoop::End EventLoop::Run(const std::function<void()>& each_turn) {
  for (;;) {
    // Several instances run at once behind the load balancer; otherwise
    // only the current one can.
    bool target_running = fleet_->AnyRunning();
    bool load_running = !load_->finished();
    if (!load_running && !load_end_) load_end_ = Clock::now();
    bool deploying = rollout_ && !rollout_->done() && load_running;
    if (!load_running && !restart_at_ && !deploying &&
        !nemesis_->Pending(load_running, target_running))
      return End::kDone;
    Clock::time_point wake =
        std::min(nemesis_->NextDeadline(), Clock::now() + std::chrono::milliseconds(100));
    if (restart_at_) wake = std::min(wake, *restart_at_);
    if (deploying) wake = std::min(wake, rollout_->NextDeadline());
    fleet_->WaitUntil(wake);
    if (fleet_->Interrupted()) return End::kInterrupted;
    fleet_->ReapExited([this](int id, int64_t exit_time) { OnInstanceExit(id, exit_time); });
    nemesis_->OnTick();
    if (deploying && !rollout_->Tick(Clock::now()) && OnStartFailure(fleet_->replacement_failure()))
      return End::kDone;
    if (rollout_ && rollout_->done()) load_->Hold(false);
    each_turn();
    if (restart_at_ && Clock::now() >= *restart_at_) {
      restart_at_.reset();
      RunFailure failure;
      if (!fleet_->Restart(&failure) && OnStartFailure(failure)) return End::kDone;
    }
  }
}

void EventLoop::OnInstanceExit(int id, int64_t exit_time) {
  if (fleet_->behind_load_balancer()) {
    // Another slot serves meanwhile; only the rolling restart replaces it.
    nemesis_->OnTargetExit(id, exit_time);
    if (std::optional<int> slot = fleet_->SlotOf(id); slot && rollout_) rollout_->OnSlotExit(*slot);
    return;
  }
  std::optional<Duration> delay = nemesis_->OnTargetExit(id, exit_time);
  if (!delay) {
    // Gone for good: retrying against a closed port proves nothing.
    load_->Abandon();
    return;
  }
  restart_at_ = Clock::now() + *delay;
}

bool EventLoop::OnStartFailure(const RunFailure& failure) {
  start_failure_ = failure;
  history_->Record("restart_failed", failure.message);
  load_->Abandon();
  return failure.verdict == Verdict::kInterrupted;
}

std::string FaultsCutShortByMaxDuration(const Nemesis& nemesis, int64_t completed,
                                        Duration max_duration) {
  std::vector<std::string> unfired = nemesis.UnfiredCountFaults(completed);
  if (unfired.empty()) return "";
  std::string list;
  for (const std::string& fault : unfired) list += (list.empty() ? "" : "; ") + fault;
  return "the load was held until load.max_duration (" + DurationText(max_duration) +
         ") and a fault never fired: " + list;
}

}  // namespace lastcall
