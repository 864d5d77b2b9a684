// The target fleet: every instance of the target a run starts (the first,
// a restart's, or behind the load balancer one per slot and the deploy's
// replacements), the slots they serve, HAProxy in front of them, the
// signals the nemesis sends them and the harness's own stop at the end.
// It is the nemesis's TargetControl, the rolling restart's RolloutControl
// and the event loop's LoopFleet.
#ifndef LASTCALL_TARGET_FLEET_H_
#define LASTCALL_TARGET_FLEET_H_

#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/interrupt.h"
#include "check/checks.h"
#include "history/history.h"
#include "process/load_balancer.h"
#include "run/event_loop.h"
#include "run/nemesis.h"
#include "run/rolling_restart.h"
#include "run/target.h"
#include "scenario/scenario.h"
#include "scenario/substitution.h"

namespace lastcall {

// Where an instance's database connection comes from: the run's database,
// under a role of the instance's own when one can be made.
class InstanceDatabase {
 public:
  virtual ~InstanceDatabase() = default;
  // Instance `id`'s database URL. Returns false and sets *failure when the
  // run's database cannot be reached.
  virtual bool UrlFor(int id, std::string* url, RunFailure* failure) = 0;
};

// What the fleet is started from; all pointers outlive it.
struct FleetSetup {
  const Scenario* scenario = nullptr;
  History* history = nullptr;
  Interrupt* interrupt = nullptr;
  InstanceDatabase* database = nullptr;
  std::string run_id;    // in LASTCALL_RUN_ID of every process it starts
  std::string app_name;  // instance N's sessions are app_name + N
  std::string run_dir;   // instance N's TMPDIR is run_dir/tmp/N
  // The clients' port (HAProxy's behind the load balancer), the complete
  // environment and the templates' variables, the same for every instance.
  TargetLaunch launch;
  TemplateVariables variables;
  // Behind the load balancer: each slot's port.
  std::vector<int> slot_ports;
  size_t first_rollout_fault = 0;  // the rolling restart's fault for slot 0
};

class TargetFleet : public TargetControl, public RolloutControl, public LoopFleet {
 public:
  explicit TargetFleet(FleetSetup setup);
  // HAProxy stops before the instances (they are stopped by StopAll()).
  ~TargetFleet() override;

  // Opens the log every instance's output goes to. Returns false if it
  // cannot be written.
  bool OpenLog(const std::string& path);
  // Takes the output still pending and closes the log. Returns whether all
  // of it was written.
  bool CloseLog();
  bool log_open() const { return log_.is_open(); }

  // Starts the first instance, or behind the load balancer one per slot,
  // then HAProxy, waiting until it reports every slot UP. Returns false and
  // sets *failure when it could not.
  bool Start(RunFailure* failure);
  // From now on instances tell the nemesis their readiness and output.
  void AttachNemesis(Nemesis* nemesis);
  // Called with the fleet's lock held just before a graceful signal goes
  // out to an instance; and when the nemesis sees a drain begin.
  void OnGracefulSignal(std::function<void()> before) { before_graceful_ = std::move(before); }
  void OnDrainVisible(std::function<void(int64_t)> seen) { drain_visible_ = std::move(seen); }

  // The harness's own stop at the end of a run (not a fault: no check
  // judges it): SIGTERM to each running instance's group, SIGKILL if it is
  // still there after 10 s or at a second interrupt.
  void StopAll();
  // HAProxy goes once the clients are done.
  void StopLoadBalancer() { load_balancer_.reset(); }
  // SIGKILL to every instance's group: what is left of them.
  void KillAll();
  // Each instance started, in order.
  std::vector<InstanceRecord> Records() const;
  std::string TmpDirOf(int id) const;

  // TargetControl, called from client threads and the event loop.
  int Deliver(int instance, int signal, Recipient to) override;
  void Wake() override;
  void DrainVisible(int64_t time) override;

  // RolloutControl, called from the event loop.
  void SignalSlot(int slot) override;
  void Deregister(int slot) override;
  void Readmit(int slot) override;
  bool StartReplacement(int slot) override;
  bool SlotUp(int slot) override;

  // LoopFleet.
  bool AnyRunning() const override;
  void WaitUntil(TimePoint deadline) override;
  bool Interrupted() override { return setup_.interrupt->Check() > 0; }
  void ReapExited(const std::function<void(int id, int64_t exit_time)>& exited) override;
  std::optional<int> SlotOf(int id) const override;
  bool behind_load_balancer() const override { return setup_.scenario->load_balancer.enabled; }
  bool Restart(RunFailure* failure) override;
  RunFailure replacement_failure() const override { return replacement_failure_; }

 private:
  // Starts an instance and waits until it is ready; behind the load
  // balancer, the one serving `slot`, on the slot's port.
  bool StartInstance(int slot, RunFailure* failure);
  bool StartLoadBalancer(RunFailure* failure);
  // Sets the slot's server `state` through HAProxy's runtime API and records
  // `event` ("<server> <what>"), or the error.
  void SetSlotState(int slot, const std::string& state, const std::string& event,
                    const std::string& what);
  void StopInstance(TargetInstance* target);
  // Lets the nemesis see the instance's output lines.
  void WatchInstance(TargetInstance* instance);
  TargetInstance* current() { return instances_.empty() ? nullptr : instances_.back().get(); }

  // An eventfd the client threads use to wake the event loop.
  class Waker {
   public:
    Waker();
    ~Waker();
    void Wake();
    void Drain();
    int fd() const { return fd_; }

   private:
    int fd_;
  };

  const FleetSetup setup_;
  Waker waker_;
  Nemesis* nemesis_ = nullptr;
  std::function<void()> before_graceful_;
  std::function<void(int64_t)> drain_visible_;
  RunFailure replacement_failure_;
  std::ofstream log_;         // before the instances, which write to it
  mutable std::mutex mutex_;  // guards instances_ against reaping while signalling
  std::vector<std::unique_ptr<TargetInstance>> instances_;
  std::vector<TargetInstance*> slots_;           // behind the load balancer: who serves each
  std::unique_ptr<LoadBalancer> load_balancer_;  // after instances_: stopped first
};

}  // namespace lastcall

#endif  // LASTCALL_TARGET_FLEET_H_
