// The nemesis: the scenario's faults, fired in order. A signal fault is armed
// once the one before it has fired. Each trigger is fired by whoever sees its
// condition first, so the signal lands within microseconds of the moment:
// `at` and `log` by the run's event loop, `completed` by the client thread
// whose request made the count true, `in_flight` by the socket watch after
// the look that showed the target holding that many requests (or, without
// a kernel view, by the client that wrote the last of them),
// `db_transactions_open` / `sql` by the run's database watch. While a
// count-triggered fault waits, and while an instance drains after a
// graceful signal, the nemesis holds the load open past its end. A graceful signal starts its grace
// period; when it runs out and the instance still lives, the escalation
// signal (SIGKILL unless the sender has none) goes out. A restart fault
// waits for the target to exit.
#ifndef LASTCALL_NEMESIS_H_
#define LASTCALL_NEMESIS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <regex>
#include <vector>

#include "client/load.h"
#include "history/fault_record.h"
#include "history/history.h"
#include "scenario/scenario.h"

namespace lastcall {

// The nemesis's view of the target, implemented by the run.
class TargetControl {
 public:
  virtual ~TargetControl() = default;
  // Sends `signal` to instance `instance` (0: the current one): to its main
  // process, group, process tree or every process it started. Returns the
  // instance signalled, or 0 if that instance is not running (nothing was
  // sent). Signal 0 only asks whether it runs.
  virtual int Deliver(int instance, int signal, Recipient to) = 0;
  // Wakes the run's event loop so it re-reads NextDeadline().
  virtual void Wake() = 0;
  // The target's drain became visible at `time` (see
  // Nemesis::OnTurnedAway): what it had sent by then was sent before it
  // drained.
  virtual void DrainVisible(int64_t /*time*/) {}
};

// Replaces each `random` trigger by the `at` drawn for it, uniformly between
// its bounds, from `seed` and the fault's position only: the same seed gives
// the same schedule.
void DrawRandomTriggers(uint64_t seed, std::vector<Fault>* faults);

// The armed trigger the database watch must evaluate.
struct DatabaseCondition {
  size_t fault = 0;
  Trigger trigger;  // kDbTransactionsOpen or kSql
};

class Nemesis : public LoadObserver {
 public:
  Nemesis(const std::vector<Fault>& faults, History* history, TargetControl* target);

  // Load has started at `start`: `at` triggers count from here.
  void Begin(std::chrono::steady_clock::time_point start);
  // Instance `instance` is ready: `at` triggers of later deploys count from
  // here.
  void OnTargetReady(int instance, std::chrono::steady_clock::time_point when);
  // A line of the target's output (event loop).
  void OnOutputLine(const std::string& line);
  // The database condition armed now, if any (database watch thread).
  std::optional<DatabaseCondition> ArmedDatabaseCondition() const;
  // The watch saw the condition of fault `fault` hold at `trigger_time`:
  // fires it if it is still the armed one. Returns whether it fired.
  bool FireIfArmed(size_t fault, int64_t trigger_time);
  // The rolling restart's step: fires fault `fault` (a kRollingRestart
  // trigger) at instance `instance` if it is the armed one. Returns whether
  // it fired.
  bool FireRollingRestart(size_t fault, int instance);
  // For the report: the target's open transactions the watch counted just
  // after fault `fault`'s signal, and its mean time per poll.
  void NoteDatabasePolls(size_t fault, int64_t open_after, double poll_us);

  // LoadObserver, called on client threads.
  void OnProgress(int64_t in_flight, int64_t completed) override;
  void OnLoadFinished() override;
  // True while a count-triggered fault has yet to fire, an instance that
  // got a graceful signal has not exited (its grace is running), or a
  // restart is pending (until its new instance is ready).
  bool HoldsLoad() override;
  // The first time after a graceful signal that the target is seen turning
  // work away (a client refused or told `Connection: close`, or its
  // listener gone from the kernel's view), its drain has visibly begun: the
  // nemesis tells the target control (DrainVisible), once per signal.
  void OnTurnedAway(int64_t time) override;

  // From now on `in_flight` counts what the kernel confirms (OnInFlight),
  // not what the clients have written. Call before Begin().
  void CountInFlightByKernel() { kernel_in_flight_ = true; }
  // The socket watch's count: requests the target has read from its
  // sockets and not yet answered (socket watch thread).
  void OnInFlight(int64_t received);
  // The count-triggered faults that never fired, each as "fault 1 (when:
  // {completed: 400}) at FILE:LINE:COLUMN: the count reached 250", given
  // the load's `completed` count.
  std::vector<std::string> UnfiredCountFaults(int64_t completed) const;

  // The next moment OnTick() has work: an `at` trigger or a grace deadline.
  std::chrono::steady_clock::time_point NextDeadline() const;
  // Fires a due `at` trigger; escalates expired grace periods.
  void OnTick();
  // Instance `instance` has exited. Returns the restart delay when the armed
  // fault is a restart (which then counts as fired), nullopt otherwise.
  std::optional<Duration> OnTargetExit(int instance, int64_t exit_time);

  // True while a fault may still fire or a grace period is running, given
  // whether load is still running and the target is up.
  bool Pending(bool load_running, bool target_running) const;

  // Snapshot of what happened to each fault.
  std::vector<FaultRecord> records() const;

 private:
  struct GraceTimer {
    size_t fault;
    int instance;
    std::chrono::steady_clock::time_point deadline;
  };
  void Arm(size_t index);  // requires mutex_
  // Fires the armed fault if it counts `kind` and `value` has reached its
  // count. Takes mutex_.
  void FireCount(Trigger::Kind kind, int64_t value);
  // Sends fault `index`'s signal to `instance` (0: the current one).
  void Fire(size_t index, int64_t trigger_time, int instance = 0);  // requires mutex_
  // When the armed `at` trigger is due; nullopt if none is, or not yet
  // known (a deploy's new instance is not ready). Requires mutex_.
  std::optional<std::chrono::steady_clock::time_point> AtDeadline() const;

  const std::vector<Fault>& faults_;
  History* history_;
  TargetControl* target_;
  mutable std::mutex mutex_;
  std::chrono::steady_clock::time_point load_start_;
  std::optional<std::chrono::steady_clock::time_point> ready_at_;
  // A deploy's new instance is starting: a count trigger met meanwhile (by
  // clients refused while it starts) waits until it is ready, or the signal
  // would end an instance that never served.
  bool restarting_ = false;
  bool begun_ = false;
  std::optional<std::regex> armed_log_;  // the armed `log` trigger, compiled
  size_t armed_ = 0;                     // index of the armed fault; faults_.size() when done
  std::vector<FaultRecord> records_;
  std::vector<GraceTimer> graces_;
  // Lock-free copy of the armed count trigger, for OnProgress.
  std::atomic<int> armed_count_kind_{-1};  // Trigger::Kind or -1
  std::atomic<int64_t> armed_count_{0};
  std::atomic<bool> kernel_in_flight_{false};
  std::atomic<int64_t> max_in_flight_{0};  // the highest in_flight count seen
  // The last graceful signal's delivery, while no client has seen the
  // target turn work away since; -1 otherwise.
  std::atomic<int64_t> drain_not_visible_since_{-1};
};

}  // namespace lastcall

#endif  // LASTCALL_NEMESIS_H_
