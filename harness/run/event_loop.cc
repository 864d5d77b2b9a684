#include "run/run_case.h"

namespace lastcall {

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
