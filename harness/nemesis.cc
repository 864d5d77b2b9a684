#include "nemesis.h"

#include <signal.h>

#include <algorithm>

namespace lastcall {

using Clock = std::chrono::steady_clock;

bool IsGraceful(int signal) {
  return signal != SIGKILL && signal != SIGSTOP && signal != SIGCONT;
}

Nemesis::Nemesis(const std::vector<Fault>& faults, History* history,
                 TargetControl* target)
    : faults_(faults), history_(history), target_(target),
      records_(faults.size()) {}

void Nemesis::Begin(Clock::time_point start) {
  std::lock_guard<std::mutex> lock(mutex_);
  load_start_ = start;
  begun_ = true;
  Arm(0);
}

void Nemesis::Arm(size_t index) {
  armed_ = index;
  armed_count_kind_ = -1;
  if (index >= faults_.size()) return;
  const Fault& fault = faults_[index];
  if (fault.kind == Fault::Kind::kSignal &&
      fault.trigger.kind != Trigger::Kind::kAt) {
    armed_count_ = fault.trigger.count;
    armed_count_kind_ = static_cast<int>(fault.trigger.kind);
  }
}

void Nemesis::OnProgress(int64_t in_flight, int64_t completed) {
  int kind = armed_count_kind_.load(std::memory_order_acquire);
  if (kind < 0) return;
  int64_t value = kind == static_cast<int>(Trigger::Kind::kInFlight)
                      ? in_flight : completed;
  if (value < armed_count_.load(std::memory_order_relaxed)) return;
  int64_t trigger_time = history_->Now();
  std::lock_guard<std::mutex> lock(mutex_);
  // Another client may have fired it between the check and the lock.
  if (armed_count_kind_.load() != kind) return;
  Fire(armed_, trigger_time);
}

void Nemesis::OnLoadFinished() { target_->Wake(); }

void Nemesis::Fire(size_t index, int64_t trigger_time) {
  const Fault& fault = faults_[index];
  FaultRecord& record = records_[index];
  record.fired = true;
  record.trigger_time = trigger_time;
  // The moment of kill(2) is taken just before the call: after it, a busy
  // machine may deschedule this thread while the target already reacts.
  int64_t sent = history_->Now();
  record.instance = target_->Deliver(0, fault.signal, fault.to_group);
  std::string what = SignalName(fault.signal) + " to " +
                     (fault.to_group ? "group" : "process");
  history_->RecordAt(trigger_time, "fault_trigger",
                     "fault " + std::to_string(index + 1) + ": " + what);
  if (record.instance == 0) {
    history_->Record("signal_not_delivered",
                     "fault " + std::to_string(index + 1) +
                         ": no target instance is running");
  } else {
    record.delivery_time = sent;
    history_->RecordAt(sent, "signal", what, record.instance);
    if (IsGraceful(fault.signal)) {
      graces_.push_back(GraceTimer{
          index, record.instance,
          history_->epoch() + std::chrono::nanoseconds(record.delivery_time) +
              fault.grace});
    }
  }
  Arm(index + 1);
  target_->Wake();
}

Clock::time_point Nemesis::NextDeadline() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Clock::time_point next = Clock::time_point::max();
  for (const GraceTimer& g : graces_) next = std::min(next, g.deadline);
  if (begun_ && armed_ < faults_.size() &&
      faults_[armed_].kind == Fault::Kind::kSignal &&
      faults_[armed_].trigger.kind == Trigger::Kind::kAt)
    next = std::min(next, load_start_ + faults_[armed_].trigger.at);
  return next;
}

void Nemesis::OnTick() {
  std::lock_guard<std::mutex> lock(mutex_);
  Clock::time_point now = Clock::now();
  if (begun_ && armed_ < faults_.size() &&
      faults_[armed_].kind == Fault::Kind::kSignal &&
      faults_[armed_].trigger.kind == Trigger::Kind::kAt &&
      now >= load_start_ + faults_[armed_].trigger.at) {
    Fire(armed_, history_->Since(load_start_ + faults_[armed_].trigger.at));
  }
  for (auto it = graces_.begin(); it != graces_.end();) {
    if (it->deadline > now) {
      ++it;
      continue;
    }
    const Fault& fault = faults_[it->fault];
    int64_t sent = history_->Now();
    if (target_->Deliver(it->instance, SIGKILL, fault.to_group) != 0) {
      FaultRecord& record = records_[it->fault];
      record.escalated = true;
      record.escalation_time = sent;
      history_->RecordAt(sent, "escalation",
                         "grace of fault " + std::to_string(it->fault + 1) +
                             " ran out: KILL",
                         it->instance);
    }
    it = graces_.erase(it);
  }
}

std::optional<Duration> Nemesis::OnTargetExit(int instance, int64_t exit_time) {
  std::lock_guard<std::mutex> lock(mutex_);
  graces_.erase(std::remove_if(graces_.begin(), graces_.end(),
                               [&](const GraceTimer& g) {
                                 return g.instance == instance;
                               }),
                graces_.end());
  if (armed_ >= faults_.size() ||
      faults_[armed_].kind != Fault::Kind::kRestart)
    return std::nullopt;
  FaultRecord& record = records_[armed_];
  record.fired = true;
  record.trigger_time = exit_time;
  record.instance = instance;
  Duration delay = faults_[armed_].restart_delay;
  Arm(armed_ + 1);
  return delay;
}

bool Nemesis::Pending(bool load_running, bool target_running) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!graces_.empty()) return true;
  if (armed_ >= faults_.size()) return false;
  const Fault& fault = faults_[armed_];
  // A restart waits for an exit; with no grace running and no load, nothing
  // will make the target exit any more.
  if (fault.kind == Fault::Kind::kRestart) return target_running && load_running;
  if (fault.trigger.kind == Trigger::Kind::kAt) return target_running;
  return load_running;
}

std::vector<FaultRecord> Nemesis::records() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_;
}

}  // namespace lastcall
