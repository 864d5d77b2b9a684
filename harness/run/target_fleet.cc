#include "run/run_case.h"

namespace lastcall {

int RunCase::Deliver(int instance, int signal, Recipient to) {
  std::lock_guard<std::mutex> lock(target_mutex_);
  TargetInstance* target =
      instance == 0 ? current()
                    : (instance <= static_cast<int>(instances_.size())
                           ? instances_[instance - 1].get()
                           : nullptr);
  if (!target || target->process().exited()) return 0;
  if (sockets_ && signal != 0 && IsGraceful(signal)) SnapshotAtSignal();
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
      pids = ProcessesWithEnvironment("LASTCALL_RUN_ID", run_id_);
      break;
  }
  bool sent = false;
  for (pid_t pid : pids) sent = (pid > 0 && kill(pid, signal) == 0) || sent;
  return sent ? target->id() : 0;
}

bool RunCase::StartInstance(int slot) {
  std::string error;
  int id = static_cast<int>(instances_.size()) + 1;
  // Each instance has its own database role and TMPDIR, so that what one
  // left behind is told apart from what another did (a SIGKILLed instance
  // cannot clean up; the next one must not be blamed for it).
  TargetLaunch launch;
  std::string database_url;
  if (!InstanceDatabaseUrl(id, &database_url) || !SlotLaunch(slot, database_url, &launch))
    return false;
  std::string tmpdir = TmpDirOf(id);
  std::error_code ec;
  fs::create_directories(tmpdir, ec);
  for (std::string& entry : launch.env) {
    if (entry.rfind("PGAPPNAME=", 0) == 0) entry = "PGAPPNAME=" + app_name_ + std::to_string(id);
    if (entry.rfind("TMPDIR=", 0) == 0) entry = "TMPDIR=" + tmpdir;
  }
  std::unique_ptr<TargetInstance> instance =
      TargetInstance::Start(id, launch, &history_, &target_log_, &error);
  if (!instance) return Fail(Verdict::kBadInput, scenario_.file + ": target.command: " + error);
  TargetInstance* started = instance.get();
  {
    std::lock_guard<std::mutex> lock(target_mutex_);
    instances_.push_back(std::move(instance));
    if (behind_load_balancer()) slots_[slot] = started;
  }
  if (nemesis_) WatchInstance(started);
  switch (started->WaitReady(session_->interrupt())) {
    case TargetInstance::Readiness::kReady:
      started->MainPid();  // known from now on, even after the exit
      if (nemesis_) nemesis_->OnTargetReady(id, Clock::now());
      return true;
    case TargetInstance::Readiness::kInterrupted:
      return Fail(Verdict::kInterrupted, "interrupted while the target was starting");
    case TargetInstance::Readiness::kExited:
      return Fail(Verdict::kInfrastructure,
                  "the target exited before it was ready (" +
                      started->process().exit_status()->ToString() +
                      "); its last output:\n" + started->Tail(20));
    case TargetInstance::Readiness::kTimedOut:
      break;
  }
  return Fail(Verdict::kInfrastructure,
              "the target was not ready within " + DurationText(launch_.ready.timeout) +
                  "; its last output:\n" + started->Tail(20));
}

bool RunCase::ChooseSlotPorts(std::string* error) {
  // bind(0) hands out ports at random; a repeat is rare but possible.
  while (static_cast<int>(slot_ports_.size()) < scenario_.target.instances) {
    int port = FreeLoopbackPort(error);
    if (port == 0) return false;
    if (port != launch_.port && port != ws_port_ &&
        std::find(slot_ports_.begin(), slot_ports_.end(), port) == slot_ports_.end())
      slot_ports_.push_back(port);
  }
  slots_.assign(slot_ports_.size(), nullptr);
  return true;
}

bool RunCase::InstanceDatabaseUrl(int id, std::string* url) {
  *url = db_url_;
  if (!roles_error_.empty()) return true;  // no use trying again
  if (!AwaitAuditConnection()) return false;
  const std::string role = role_prefix_ + std::to_string(id);
  if (!audit_->CreateRole(role, role_password_, database_.owner(), &roles_error_)) return true;
  database_.AddRole(role);
  *url = InstanceUrl(id);
  return true;
}

bool RunCase::SlotLaunch(int slot, const std::string& database_url, TargetLaunch* out) {
  TemplateVariables variables = RunVariables();
  *out = launch_;
  if (behind_load_balancer()) out->port = slot_ports_[slot];
  variables.constants["port"] = std::to_string(out->port);
  variables.constants["database_url"] = database_url;
  std::map<std::string, std::string> own = {{"PORT", std::to_string(out->port)},
                                            {"DATABASE_URL", database_url}};
  for (const auto& [name, value] : LibpqEnvironment(database_url)) own[name] = value;
  std::string error;
  auto render = [&](const std::string& text, std::string* rendered) {
    std::optional<Template> t = Template::Compile(text, variables, &error);
    if (!t) return Fail(Verdict::kBadInput, scenario_.file + ": " + error);
    rendered->clear();
    t->Render({}, rendered);
    return true;
  };
  for (size_t i = 0; i < scenario_.target.command.size(); ++i)
    if (!render(scenario_.target.command[i], &out->argv[i])) return false;
  for (std::string& entry : out->env) {
    std::string name = entry.substr(0, entry.find('='));
    auto templated = scenario_.target.env.find(name);
    auto instance_value = own.find(name);
    std::string value;
    if (templated != scenario_.target.env.end()) {
      if (!render(templated->second, &value)) return false;
    } else if (instance_value != own.end()) {
      value = instance_value->second;
    } else {
      continue;
    }
    entry = name + "=" + value;
  }
  return true;
}

bool RunCase::StartTarget() {
  if (!behind_load_balancer()) return StartInstance();
  for (int slot = 0; slot < scenario_.target.instances; ++slot)
    if (!StartInstance(slot)) return false;
  std::string error;
  load_balancer_ = LoadBalancer::Start(scenario_.load_balancer, launch_.port,
                                       slot_ports_, run_dir_, &error);
  if (!load_balancer_) return Fail(Verdict::kInfrastructure, error);
  history_.Record("load_balancer_start",
                  "HAProxy pid " + std::to_string(load_balancer_->pid()) + " on port " +
                      std::to_string(launch_.port));
  // Its health checks must have seen every instance before the load begins.
  Clock::time_point deadline = Clock::now() + launch_.ready.timeout;
  for (int slot = 0; slot < scenario_.target.instances; ++slot) {
    while (!load_balancer_->Up(slot)) {
      if (interrupted()) return Fail(Verdict::kInterrupted, "interrupted while HAProxy was starting");
      if (Clock::now() > deadline)
        return Fail(Verdict::kInfrastructure,
                    "HAProxy did not report " + BackendServerName(slot) + " UP within " +
                        DurationText(launch_.ready.timeout) + " (status " +
                        load_balancer_->Status(slot, &error) + ")");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return true;
}

void RunCase::SignalSlot(int slot) {
  nemesis_->FireRollingRestart(first_rollout_fault_ + slot, slots_[slot]->id());
}

void RunCase::SetSlotState(int slot, const std::string& state,
                               const std::string& event, const std::string& what) {
  std::string error;
  if (load_balancer_->SetState(slot, state, &error))
    history_.Record(event, BackendServerName(slot) + " " + what, slots_[slot]->id());
  else
    history_.Record("load_balancer_error", error);
}

void RunCase::Deregister(int slot) {
  SetSlotState(slot, "maint", "deregister", "out of rotation");
}

void RunCase::Readmit(int slot) {
  SetSlotState(slot, "ready", "readmit", "back in rotation");
}

bool RunCase::StartReplacement(int slot) {
  history_.Record("restart", "starting instance " + std::to_string(instances_.size() + 1) +
                                 " for " + BackendServerName(slot));
  return StartInstance(slot);
}

bool RunCase::SlotUp(int slot) {
  if (!load_balancer_->Up(slot)) return false;
  history_.Record("load_balancer_up", BackendServerName(slot) + " is UP", slots_[slot]->id());
  return true;
}

void RunCase::OnInstanceExit(TargetInstance* instance) {
  if (behind_load_balancer()) {
    // Another slot serves meanwhile; only the rolling restart replaces it.
    nemesis_->OnTargetExit(instance->id(), instance->exit_time());
    for (size_t slot = 0; slot < slots_.size(); ++slot)
      if (rollout_ && slots_[slot] == instance) rollout_->OnSlotExit(static_cast<int>(slot));
    return;
  }
  std::optional<Duration> delay =
      nemesis_->OnTargetExit(instance->id(), instance->exit_time());
  if (!delay) {
    // Gone for good: retrying against a closed port proves nothing.
    load_->Abandon();
    return;
  }
  restart_at_ = Clock::now() + *delay;
}

// The harness's own stop at the end of a run (not a fault: no check judges
// it): SIGTERM to the target's group, SIGKILL if it is still there after 10 s
// or at a second interrupt.
void RunCase::StopTarget() {
  // Behind the load balancer every slot's instance is still up.
  for (size_t i = 0; i < instances_.size(); ++i) StopInstance(instances_[i].get());
}

void RunCase::StopInstance(TargetInstance* target) {
  if (target->process().exited()) return;
  history_.Record("teardown", "TERM to group", target->id());
  target->mark_stopped_by_harness();
  target->process().Signal(SIGTERM, true);
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(10);
  int interrupts = session_->interrupt()->count();
  while (Clock::now() < deadline && session_->interrupt()->Check() == interrupts) {
    pollfd fds[3] = {{session_->interrupt()->fd(), POLLIN, 0},
                     {target->process().exit_fd(), POLLIN, 0},
                     {target->output_fd(), POLLIN, 0}};
    poll(fds, 3, 100);
    target->PumpOutput();
    std::lock_guard<std::mutex> lock(target_mutex_);
    if (target->TryReap()) return;
  }
  history_.Record("teardown", "KILL to group", target->id());
  target->process().Signal(SIGKILL, true);
  std::lock_guard<std::mutex> lock(target_mutex_);
  target->process().Wait(std::chrono::seconds(5));
  target->TryReap();
}

}  // namespace lastcall
