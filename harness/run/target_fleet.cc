#include "run/target_fleet.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <sys/eventfd.h>

#include "process/proc_scan.h"
#include "run/launch.h"

namespace lastcall {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

TargetFleet::Waker::Waker() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

TargetFleet::Waker::~Waker() { close(fd_); }

void TargetFleet::Waker::Wake() {
  uint64_t one = 1;
  (void)!write(fd_, &one, sizeof one);
}

void TargetFleet::Waker::Drain() {
  uint64_t n;
  (void)!read(fd_, &n, sizeof n);
}

TargetFleet::TargetFleet(FleetSetup setup) : setup_(std::move(setup)) {}

TargetFleet::~TargetFleet() = default;

bool TargetFleet::OpenLog(const std::string& path) {
  unlink(path.c_str());  // a symbolic link left there is not written through
  log_.open(path, std::ios::trunc);
  return static_cast<bool>(log_);
}

bool TargetFleet::CloseLog() {
  for (const auto& instance : instances_) instance->PumpOutput();
  log_.close();
  return static_cast<bool>(log_);
}

void TargetFleet::AttachNemesis(Nemesis* nemesis) {
  nemesis_ = nemesis;
  if (TargetInstance* target = current()) WatchInstance(target);
}

void TargetFleet::WatchInstance(TargetInstance* instance) {
  instance->set_line_observer([this](const std::string& line) { nemesis_->OnOutputLine(line); });
}

std::string TargetFleet::TmpDirOf(int id) const {
  return setup_.run_dir + "/tmp/" + std::to_string(id);
}

std::vector<InstanceRecord> TargetFleet::Records() const {
  std::vector<InstanceRecord> records;
  for (const auto& instance : instances_) {
    InstanceRecord record;
    record.id = instance->id();
    record.pid = instance->MainPid();
    record.stopped_by_harness = instance->stopped_by_harness();
    record.start_time = instance->start_time();
    record.ready_time = instance->ready_time();
    record.exit_time = instance->exit_time();
    record.exit = instance->process().exit_status();
    records.push_back(record);
  }
  return records;
}

void TargetFleet::KillAll() {
  for (const auto& instance : instances_) instance->process().Signal(SIGKILL, true);
}

void TargetFleet::Wake() { waker_.Wake(); }

void TargetFleet::DrainVisible(int64_t time) {
  if (drain_visible_) drain_visible_(time);
}

bool TargetFleet::AnyRunning() const {
  for (const auto& instance : instances_)
    if (!instance->process().exited()) return true;
  return false;
}

void TargetFleet::WaitUntil(TimePoint deadline) {
  std::vector<pollfd> fds = {{setup_.interrupt->fd(), POLLIN, 0}, {waker_.fd(), POLLIN, 0}};
  for (const auto& instance : instances_) {
    bool running = !instance->process().exited();
    fds.push_back({running ? instance->process().exit_fd() : -1, POLLIN, 0});
    fds.push_back({instance->output_fd(), POLLIN, 0});
  }
  // ppoll, not poll: an `at` trigger is due to the nanosecond, not the
  // next whole millisecond.
  int64_t wait_ns = std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now()).count());
  timespec timeout{static_cast<time_t>(wait_ns / 1000000000),
                   static_cast<long>(wait_ns % 1000000000)};
  ppoll(fds.data(), fds.size(), &timeout, nullptr);
  waker_.Drain();
}

void TargetFleet::ReapExited(const std::function<void(int id, int64_t exit_time)>& exited) {
  // By index: a restart the callback leads to adds instances.
  for (size_t i = 0; i < instances_.size(); ++i) {
    TargetInstance* target = instances_[i].get();
    target->PumpOutput();
    if (target->process().exited()) continue;
    bool reaped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      reaped = target->TryReap();
    }
    if (reaped) exited(target->id(), target->exit_time());
  }
}

std::optional<int> TargetFleet::SlotOf(int id) const {
  for (size_t slot = 0; slot < slots_.size(); ++slot)
    if (slots_[slot] && slots_[slot]->id() == id) return static_cast<int>(slot);
  return std::nullopt;
}

bool TargetFleet::Restart(RunFailure* failure) {
  setup_.history->Record("restart", "starting instance " + std::to_string(instances_.size() + 1));
  return StartInstance(0, failure);
}

int TargetFleet::Deliver(int instance, int signal, Recipient to) {
  std::lock_guard<std::mutex> lock(mutex_);
  TargetInstance* target = instance == 0 ? current()
                                         : (instance <= static_cast<int>(instances_.size())
                                                ? instances_[instance - 1].get()
                                                : nullptr);
  if (!target || target->process().exited()) return 0;
  if (before_graceful_ && signal != 0 && IsGraceful(signal)) before_graceful_();
  std::vector<pid_t> pids;
  switch (to) {
    case Recipient::kProcess:
      pids = {target->MainPid()};
      break;
    case Recipient::kGroup:
      return target->process().Signal(signal, true) ? target->id() : 0;
    case Recipient::kTree:
      pids = ProcessTree(target->MainPid());
      break;
    case Recipient::kAll:
      pids = ProcessesWithEnvironment("LASTCALL_RUN_ID", setup_.run_id);
      break;
  }
  bool sent = false;
  for (pid_t pid : pids) sent = (pid > 0 && kill(pid, signal) == 0) || sent;
  return sent ? target->id() : 0;
}

bool TargetFleet::StartInstance(int slot, RunFailure* failure) {
  std::string error;
  int id = static_cast<int>(instances_.size()) + 1;
  // Each instance has its own database role and TMPDIR, so that what one
  // left behind is told apart from what another did (a SIGKILLed instance
  // cannot clean up; the next one must not be blamed for it).
  TargetLaunch launch;
  std::string database_url;
  const int port = behind_load_balancer() ? setup_.slot_ports[slot] : setup_.launch.port;
  if (!setup_.database->UrlFor(id, &database_url, failure) ||
      !InstanceLaunch(*setup_.scenario, setup_.variables, setup_.launch, port, database_url,
                      &launch, failure))
    return false;
  std::string tmpdir = TmpDirOf(id);
  std::error_code ec;
  fs::create_directories(tmpdir, ec);
  for (std::string& entry : launch.env) {
    if (entry.rfind("PGAPPNAME=", 0) == 0)
      entry = "PGAPPNAME=" + setup_.app_name + std::to_string(id);
    if (entry.rfind("TMPDIR=", 0) == 0) entry = "TMPDIR=" + tmpdir;
  }
  std::unique_ptr<TargetInstance> instance =
      TargetInstance::Start(id, launch, setup_.history, &log_, &error);
  if (!instance) {
    *failure = {Verdict::kBadInput, setup_.scenario->file + ": target.command: " + error};
    return false;
  }
  TargetInstance* started = instance.get();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    instances_.push_back(std::move(instance));
    if (behind_load_balancer()) slots_[slot] = started;
  }
  if (nemesis_) WatchInstance(started);
  switch (started->WaitReady(setup_.interrupt)) {
    case TargetInstance::Readiness::kReady:
      started->MainPid();  // known from now on, even after the exit
      if (nemesis_) nemesis_->OnTargetReady(id, Clock::now());
      return true;
    case TargetInstance::Readiness::kInterrupted:
      *failure = {Verdict::kInterrupted, "interrupted while the target was starting"};
      return false;
    case TargetInstance::Readiness::kExited:
      *failure = {Verdict::kInfrastructure, "the target exited before it was ready (" +
                                                started->process().exit_status()->ToString() +
                                                "); its last output:\n" + started->Tail(20)};
      return false;
    case TargetInstance::Readiness::kTimedOut:
      break;
  }
  *failure = {Verdict::kInfrastructure, "the target was not ready within " +
                                            DurationText(setup_.launch.ready.timeout) +
                                            "; its last output:\n" + started->Tail(20)};
  return false;
}

bool TargetFleet::Start(RunFailure* failure) {
  if (!behind_load_balancer()) return StartInstance(0, failure);
  slots_.assign(setup_.slot_ports.size(), nullptr);
  for (int slot = 0; slot < setup_.scenario->target.instances; ++slot)
    if (!StartInstance(slot, failure)) return false;
  return StartLoadBalancer(failure);
}

bool TargetFleet::StartLoadBalancer(RunFailure* failure) {
  std::string error;
  load_balancer_ = LoadBalancer::Start(setup_.scenario->load_balancer, setup_.launch.port,
                                       setup_.slot_ports, setup_.run_dir, &error);
  if (!load_balancer_) {
    *failure = {Verdict::kInfrastructure, error};
    return false;
  }
  setup_.history->Record("load_balancer_start",
                         "HAProxy pid " + std::to_string(load_balancer_->pid()) + " on port " +
                             std::to_string(setup_.launch.port));
  // Its health checks must have seen every instance before the load begins.
  Clock::time_point deadline = Clock::now() + setup_.launch.ready.timeout;
  for (int slot = 0; slot < setup_.scenario->target.instances; ++slot) {
    while (!load_balancer_->Up(slot)) {
      if (Interrupted()) {
        *failure = {Verdict::kInterrupted, "interrupted while HAProxy was starting"};
        return false;
      }
      if (Clock::now() > deadline) {
        *failure = {Verdict::kInfrastructure,
                    "HAProxy did not report " + BackendServerName(slot) + " UP within " +
                        DurationText(setup_.launch.ready.timeout) + " (status " +
                        load_balancer_->Status(slot, &error) + ")"};
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return true;
}

void TargetFleet::SignalSlot(int slot) {
  nemesis_->FireRollingRestart(setup_.first_rollout_fault + slot, slots_[slot]->id());
}

void TargetFleet::SetSlotState(int slot, const std::string& state, const std::string& event,
                               const std::string& what) {
  std::string error;
  if (load_balancer_->SetState(slot, state, &error))
    setup_.history->Record(event, BackendServerName(slot) + " " + what, slots_[slot]->id());
  else
    setup_.history->Record("load_balancer_error", error);
}

void TargetFleet::Deregister(int slot) {
  SetSlotState(slot, "maint", "deregister", "out of rotation");
}

void TargetFleet::Readmit(int slot) { SetSlotState(slot, "ready", "readmit", "back in rotation"); }

bool TargetFleet::StartReplacement(int slot) {
  setup_.history->Record("restart", "starting instance " + std::to_string(instances_.size() + 1) +
                                        " for " + BackendServerName(slot));
  return StartInstance(slot, &replacement_failure_);
}

bool TargetFleet::SlotUp(int slot) {
  if (!load_balancer_->Up(slot)) return false;
  setup_.history->Record("load_balancer_up", BackendServerName(slot) + " is UP",
                         slots_[slot]->id());
  return true;
}

void TargetFleet::StopAll() {
  // Behind the load balancer every slot's instance is still up.
  for (size_t i = 0; i < instances_.size(); ++i) StopInstance(instances_[i].get());
}

void TargetFleet::StopInstance(TargetInstance* target) {
  if (target->process().exited()) return;
  setup_.history->Record("teardown", "TERM to group", target->id());
  target->mark_stopped_by_harness();
  target->process().Signal(SIGTERM, true);
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(10);
  int interrupts = setup_.interrupt->count();
  while (Clock::now() < deadline && setup_.interrupt->Check() == interrupts) {
    pollfd fds[3] = {{setup_.interrupt->fd(), POLLIN, 0},
                     {target->process().exit_fd(), POLLIN, 0},
                     {target->output_fd(), POLLIN, 0}};
    poll(fds, 3, 100);
    target->PumpOutput();
    std::lock_guard<std::mutex> lock(mutex_);
    if (target->TryReap()) return;
  }
  setup_.history->Record("teardown", "KILL to group", target->id());
  target->process().Signal(SIGKILL, true);
  std::lock_guard<std::mutex> lock(mutex_);
  target->process().Wait(std::chrono::seconds(5));
  target->TryReap();
}

}  // namespace lastcall
