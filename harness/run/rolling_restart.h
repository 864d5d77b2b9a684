// The rolling restart (a deploy behind the load balancer): for each instance
// slot in turn, take it out of rotation, signal it, wait for its exit, start
// its replacement on the same port, readmit it and wait until the load
// balancer reports it UP, while the load continues. When the instance leaves
// the rotation relative to its signal is the scenario's deregistration
// timing (scenario.h: Deregistration). A passive state machine: the run's
// event loop calls Tick() and tells it about exits; the actions go through
// RolloutControl, so the sequencing is unit-tested without processes.
#ifndef LASTCALL_ROLLING_RESTART_H_
#define LASTCALL_ROLLING_RESTART_H_

#include <chrono>
#include <optional>
#include <string>

#include "scenario/scenario.h"

namespace lastcall {

// What the rolling restart does to the world, implemented by the run.
class RolloutControl {
 public:
  virtual ~RolloutControl() = default;
  // Sends the deploy's signal to the instance serving `slot`.
  virtual void SignalSlot(int slot) = 0;
  // Takes `slot` out of the load balancer's rotation, or puts it back.
  virtual void Deregister(int slot) = 0;
  virtual void Readmit(int slot) = 0;
  // Starts the slot's replacement and waits until it is ready. Returns
  // false when it could not (the run then ends with the reason).
  virtual bool StartReplacement(int slot) = 0;
  // Whether the load balancer reports the slot's server UP.
  virtual bool SlotUp(int slot) = 0;
};

class RollingRestartDriver {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  RollingRestartDriver(const RollingRestart& spec, int slots, RolloutControl* control);

  // The load started at `load_start`: the first slot's turn is spec.at later.
  void Begin(TimePoint load_start);
  // The instance serving `slot` has exited.
  void OnSlotExit(int slot);
  // Does what is due at `now`. Returns false when a replacement could not
  // be started (the deploy stops there).
  bool Tick(TimePoint now);
  // The next moment Tick() has work; while waiting for an exit, never.
  TimePoint NextDeadline() const;

  bool done() const { return phase_ == Phase::kDone; }
  // When the first slot's turn began and the last slot was UP again.
  std::optional<TimePoint> started() const { return started_; }
  std::optional<TimePoint> finished() const { return finished_; }

 private:
  enum class Phase { kIdle, kWaiting, kStopping, kAwaitingUp, kDone };
  void BeginSlot(TimePoint now);

  const RollingRestart spec_;
  const int slots_;
  RolloutControl* control_;
  Phase phase_ = Phase::kIdle;
  int slot_ = 0;
  TimePoint turn_;                                      // kWaiting: when the slot's turn begins
  std::optional<TimePoint> deregister_at_, signal_at_;  // due, not yet done
  bool exited_ = false;
  TimePoint next_poll_;
  std::optional<TimePoint> started_, finished_;
};

}  // namespace lastcall

#endif  // LASTCALL_ROLLING_RESTART_H_
