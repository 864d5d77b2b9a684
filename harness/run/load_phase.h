// The load phase of a run case (run_case.h): from the first WebSocket
// client to the last request, with the nemesis, the database watch, the
// rolling restart and the kernel's view of the target's port, driven by the
// event loop (event_loop.h). It owns them for the duration of the load; the
// case makes it once the target is ready and lets go of it first, the
// kernel watch before the load, the load before the nemesis it calls.
// Internal to the run layer.
#ifndef LASTCALL_LOAD_PHASE_H_
#define LASTCALL_LOAD_PHASE_H_

#include <memory>
#include <string>

#include "base/interrupt.h"
#include "client/job_queue.h"
#include "client/load.h"
#include "client/websocket_load.h"
#include "history/history.h"
#include "run/case_database.h"
#include "run/database_watch.h"
#include "run/kernel_view.h"
#include "run/nemesis.h"
#include "run/progress.h"
#include "run/rolling_restart.h"
#include "run/run_record.h"
#include "run/target.h"
#include "run/target_fleet.h"
#include "scenario/scenario.h"
#include "scenario/substitution.h"

namespace lastcall {

// What the load phase works with, all the case's and outliving the phase.
struct LoadPhaseSetup {
  const Scenario* scenario = nullptr;
  History* history = nullptr;
  Interrupt* interrupt = nullptr;
  CaseDatabase* database = nullptr;
  TargetFleet* fleet = nullptr;
  JobGenerator* jobs = nullptr;  // when the scenario enqueues jobs
  RunStatus* status = nullptr;
  // Its failure, the kernel's looks and the load's timings are written here.
  RunRecord* record = nullptr;
  TemplateVariables variables;  // the case's ${...}
  int port = 0;                 // the clients'
};

class LoadPhase {
 public:
  explicit LoadPhase(LoadPhaseSetup setup) : setup_(std::move(setup)) {}
  LoadPhase(const LoadPhase&) = delete;
  LoadPhase& operator=(const LoadPhase&) = delete;
  // The kernel watch stops first, then the load, then what they call.
  ~LoadPhase();

  // Starts the WebSocket clients, the nemesis, the load and the watches,
  // and drives them until the load is over and no fault is pending.
  void Drive();
  // The teardown's first step: the load stops sending (and gives up on
  // what is in flight when `abandon`), the WebSockets close.
  void StopClients(bool abandon);
  // Once the target has stopped: waits for the clients, closes the kernel
  // watch.
  void JoinClients();
  // The load's start and length into the record's timings.
  void RecordLoadTimes();
  // What lastcall itself lacked, if the load knows ("" else).
  std::string own_failure() const { return load_ ? load_->own_failure() : ""; }
  // When the run failed on an exception: stops whatever was started.
  void Abandon();

  // Null until Drive() has made them (or when the scenario has none).
  const Nemesis* nemesis() const { return nemesis_.get(); }
  const RollingRestartDriver* rollout() const { return rollout_.get(); }
  KernelWatch* kernel() { return kernel_.get(); }

 private:
  // Drive()'s event loop (event_loop.h): until the load is over and no
  // fault is pending.
  void DriveLoop();
  // The WebSocket clients of load.websockets, connected before the load.
  bool StartWebSockets();
  // Opens the kernel's view of the target's port, or notes why it cannot:
  // it is what tells a dropped request from one never accepted, and what
  // counts `in_flight`.
  void OpenSocketWatch();
  // The live counters for the console, from the load and the nemesis.
  void PublishProgress();
  bool Expand(const std::string& text, std::string* out);
  bool Fail(const RunFailure& failure) { return Fail(failure.verdict, failure.message); }
  bool Fail(Verdict verdict, const std::string& message) {
    record_.failure = {verdict, message};
    return false;
  }

  LoadPhaseSetup setup_;
  const Scenario& scenario_ = *setup_.scenario;
  History& history_ = *setup_.history;
  RunRecord& record_ = *setup_.record;
  std::unique_ptr<RollingRestartDriver> rollout_;
  std::unique_ptr<Nemesis> nemesis_;
  std::unique_ptr<Load> load_;            // after nemesis_: destroyed first, it calls it
  std::unique_ptr<DatabaseWatch> watch_;  // the same
  // The kernel's view of the target's sockets, its looks kept in
  // record_.kernel (or why there is none in record_.kernel_view_missing);
  // it calls the load and the nemesis, so it stops before they go.
  std::unique_ptr<KernelWatch> kernel_;
  Clock::time_point load_start_, load_end_;
  std::unique_ptr<WebSocketLoad> websockets_;
};

}  // namespace lastcall

#endif  // LASTCALL_LOAD_PHASE_H_
