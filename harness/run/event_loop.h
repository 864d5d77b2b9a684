// The run's event loop, while the load runs: it wakes on the nemesis's and
// the rolling restart's deadlines, an instance's exit or output, the clients'
// wake-ups and interrupts; it fires the faults that are due, holds the load
// while the deploy is under way, restarts the target after a restart fault,
// and ends once the load is over and nothing is pending. What it acts on is
// behind two small interfaces (LoopFleet, LoopLoad), so that its sequencing
// is unit-tested against fakes, without processes.
#ifndef LASTCALL_EVENT_LOOP_H_
#define LASTCALL_EVENT_LOOP_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "history/history.h"
#include "report/report.h"
#include "run/nemesis.h"
#include "run/rolling_restart.h"
#include "run/run_record.h"

namespace lastcall {

// The target's instances as the event loop sees them; TargetFleet is the
// real one.
class LoopFleet {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~LoopFleet() = default;
  // Whether any instance is still running.
  virtual bool AnyRunning() const = 0;
  // Returns at `deadline`, or before: an instance exited or wrote, the
  // fleet was woken (TargetControl::Wake) or the harness interrupted.
  virtual void WaitUntil(TimePoint deadline) = 0;
  // Whether the harness has been interrupted.
  virtual bool Interrupted() = 0;
  // Takes the instances' output and reaps those that exited, handing each
  // one's id and exit time (history time) to `exited`.
  virtual void ReapExited(const std::function<void(int id, int64_t exit_time)>& exited) = 0;
  // Behind the load balancer: the slot instance `id` serves, if any.
  virtual std::optional<int> SlotOf(int id) const = 0;
  virtual bool behind_load_balancer() const = 0;
  // Starts the next instance after a restart fault and waits until it is
  // ready. Returns false and sets *failure when it could not.
  virtual bool Restart(RunFailure* failure) = 0;
  // Why the last replacement the rolling restart asked for could not start.
  virtual RunFailure replacement_failure() const = 0;
};

// The load as the event loop sees it; client/load.h's Load is the real one.
class LoopLoad {
 public:
  virtual ~LoopLoad() = default;
  virtual bool finished() const = 0;
  // Keeps the clients going past the load's end (while the deploy runs).
  virtual void Hold(bool held) = 0;
  // Ends the load now: retrying against a target that is gone proves nothing.
  virtual void Abandon() = 0;
};

class EventLoop {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // `rollout` is null without a rolling restart. All must outlive the loop.
  EventLoop(Nemesis* nemesis, RollingRestartDriver* rollout, LoopFleet* fleet, LoopLoad* load,
            History* history);

  enum class End { kDone, kInterrupted };
  // Runs until the load is over, no fault is pending and no restart or
  // deploy is under way, or until the harness is interrupted (kInterrupted),
  // or a start the loop asked for was interrupted (kDone, with
  // start_failure()). Calls `each_turn` after every wake-up.
  End Run(const std::function<void()>& each_turn);

  // When the loop first saw the load finished; nullopt if it never did.
  std::optional<TimePoint> load_end() const { return load_end_; }
  // Why the last restart or replacement the loop asked for failed, if one
  // did; the load was abandoned then.
  const std::optional<RunFailure>& start_failure() const { return start_failure_; }

 private:
  void OnInstanceExit(int id, int64_t exit_time);
  // A start failed: noted, and the load abandoned. Returns whether the
  // failure was an interrupt (the loop ends).
  bool OnStartFailure(const RunFailure& failure);

  Nemesis* nemesis_;
  RollingRestartDriver* rollout_;
  LoopFleet* fleet_;
  LoopLoad* load_;
  History* history_;
  std::optional<TimePoint> restart_at_;
  std::optional<TimePoint> load_end_;
  std::optional<RunFailure> start_failure_;
};

// After a load that ran until load.max_duration: the count-triggered faults
// that never fired, as a message ("" if none). A count the load did not
// reach in time says nothing of the target's shutdown: no verdict may come
// of it.
std::string FaultsCutShortByMaxDuration(const Nemesis& nemesis, int64_t completed,
                                        Duration max_duration);

}  // namespace lastcall

#endif  // LASTCALL_EVENT_LOOP_H_
