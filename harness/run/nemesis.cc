#include "run/nemesis.h"

#include <algorithm>

#include "base/splitmix.h"

namespace lastcall {

using Clock = std::chrono::steady_clock;

namespace {

bool IsAt(const Fault& fault) {
  return fault.kind == Fault::Kind::kSignal && fault.trigger.kind == Trigger::Kind::kAt;
}

}  // namespace

void DrawRandomTriggers(uint64_t seed, std::vector<Fault>* faults) {
  for (size_t i = 0; i < faults->size(); ++i) {
    Trigger& t = (*faults)[i].trigger;
    if ((*faults)[i].kind != Fault::Kind::kSignal || t.kind != Trigger::Kind::kRandom) continue;
    uint64_t span = static_cast<uint64_t>((t.random_max - t.random_min).count());
    uint64_t draw = SplitMix64(seed ^ SplitMix64(i + 1));
    t.at = t.random_min + Duration(span == UINT64_MAX ? draw : draw % (span + 1));
    t.kind = Trigger::Kind::kAt;
  }
}

Nemesis::Nemesis(const std::vector<Fault>& faults, History* history, TargetControl* target)
    : faults_(faults), history_(history), target_(target), records_(faults.size()) {}

void Nemesis::Begin(Clock::time_point start) {
  std::lock_guard<std::mutex> lock(mutex_);
  load_start_ = start;
  begun_ = true;
  Arm(0);
}

void Nemesis::Arm(size_t index) {
  armed_ = index;
  armed_count_kind_ = -1;
  armed_log_.reset();
  if (index >= faults_.size()) return;
  const Fault& fault = faults_[index];
  if (fault.kind != Fault::Kind::kSignal) return;
  switch (fault.trigger.kind) {
    case Trigger::Kind::kInFlight:
    case Trigger::Kind::kCompleted:
      armed_count_ = fault.trigger.count;
      armed_count_kind_ = static_cast<int>(fault.trigger.kind);
      break;
    case Trigger::Kind::kLog:
      armed_log_.emplace(fault.trigger.text, std::regex::ECMAScript);
      break;
    default:
      break;
  }
}

void Nemesis::OnTargetReady(int, Clock::time_point when) {
  std::lock_guard<std::mutex> lock(mutex_);
  ready_at_ = when;
  restarting_ = false;
}

namespace {

void RaiseTo(std::atomic<int64_t>* maximum, int64_t value) {
  int64_t seen = maximum->load(std::memory_order_relaxed);
  while (value > seen && !maximum->compare_exchange_weak(seen, value)) {
  }
}

bool IsCount(const Fault& fault) {
  return fault.kind == Fault::Kind::kSignal && (fault.trigger.kind == Trigger::Kind::kInFlight ||
                                                fault.trigger.kind == Trigger::Kind::kCompleted);
}

}  // namespace

void Nemesis::FireCount(Trigger::Kind kind, int64_t value) {
  if (armed_count_kind_.load(std::memory_order_acquire) != static_cast<int>(kind) ||
      value < armed_count_.load(std::memory_order_relaxed))
    return;
  int64_t trigger_time = history_->Now();
  std::lock_guard<std::mutex> lock(mutex_);
  // Another thread may have fired it between the check and the lock.
  if (armed_count_kind_.load() != static_cast<int>(kind) || restarting_) return;
  Fire(armed_, trigger_time);
}

void Nemesis::OnProgress(int64_t in_flight, int64_t completed) {
  // One call fires at most one fault: the next is armed by this one.
  if (armed_count_kind_.load(std::memory_order_acquire) ==
      static_cast<int>(Trigger::Kind::kCompleted)) {
    FireCount(Trigger::Kind::kCompleted, completed);
  } else if (!kernel_in_flight_.load(std::memory_order_relaxed)) {
    RaiseTo(&max_in_flight_, in_flight);
    FireCount(Trigger::Kind::kInFlight, in_flight);
  }
}

void Nemesis::OnInFlight(int64_t received) {
  RaiseTo(&max_in_flight_, received);
  FireCount(Trigger::Kind::kInFlight, received);
}

void Nemesis::OnTurnedAway(int64_t time) {
  int64_t since = drain_not_visible_since_.load(std::memory_order_relaxed);
  if (since < 0 || time < since) return;
  if (drain_not_visible_since_.compare_exchange_strong(since, -1)) target_->DrainVisible(time);
}

bool Nemesis::HoldsLoad() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!graces_.empty() || restarting_) return true;
  // A restart waiting for its instance's exit: the new instance is to be
  // judged under load too.
  if (armed_ < faults_.size() && faults_[armed_].kind == Fault::Kind::kRestart) return true;
  for (size_t i = armed_; i < faults_.size(); ++i)
    if (IsCount(faults_[i])) return true;
  return false;
}

std::vector<std::string> Nemesis::UnfiredCountFaults(int64_t completed) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> unfired;
  for (size_t i = 0; i < faults_.size(); ++i) {
    if (!IsCount(faults_[i]) || records_[i].fired) continue;
    const Trigger& t = faults_[i].trigger;
    const bool in_flight = t.kind == Trigger::Kind::kInFlight;
    unfired.push_back("fault " + std::to_string(i + 1) + " (when: {" +
                      (in_flight ? "in_flight: " : "completed: ") + std::to_string(t.count) +
                      "}) at " + faults_[i].location.ToString() + ": the count reached " +
                      std::to_string(in_flight ? max_in_flight_.load() : completed) +
                      (in_flight && kernel_in_flight_ ? " (requests the target had read)" : ""));
  }
  return unfired;
}

void Nemesis::OnOutputLine(const std::string& line) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!begun_ || !armed_log_ || !std::regex_search(line, *armed_log_)) return;
  Fire(armed_, history_->Now());
}

std::optional<DatabaseCondition> Nemesis::ArmedDatabaseCondition() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!begun_ || armed_ >= faults_.size() || faults_[armed_].kind != Fault::Kind::kSignal)
    return std::nullopt;
  const Trigger& t = faults_[armed_].trigger;
  if (t.kind != Trigger::Kind::kDbTransactionsOpen && t.kind != Trigger::Kind::kSql)
    return std::nullopt;
  return DatabaseCondition{armed_, t};
}

bool Nemesis::FireIfArmed(size_t fault, int64_t trigger_time) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (armed_ != fault) return false;
  Fire(fault, trigger_time);
  return true;
}

bool Nemesis::FireRollingRestart(size_t fault, int instance) {
  int64_t now = history_->Now();
  std::lock_guard<std::mutex> lock(mutex_);
  if (armed_ != fault) return false;
  Fire(fault, now, instance);
  return true;
}

void Nemesis::NoteDatabasePolls(size_t fault, int64_t open_after, double poll_us) {
  std::lock_guard<std::mutex> lock(mutex_);
  records_[fault].transactions_at_delivery = open_after;
  records_[fault].poll_interval_us = poll_us;
}

void Nemesis::OnLoadFinished() { target_->Wake(); }

void Nemesis::Fire(size_t index, int64_t trigger_time, int instance) {
  const Fault& fault = faults_[index];
  FaultRecord& record = records_[index];
  record.fired = true;
  record.trigger_time = trigger_time;
  // The moment of kill(2) is taken just before the call: after it, a busy
  // machine may deschedule this thread while the target already reacts.
  int64_t sent = history_->Now();
  record.instance = target_->Deliver(instance, fault.signal, fault.to);
  if (record.instance != 0)
    for (int also : fault.also) target_->Deliver(record.instance, also, fault.to);
  std::string what = SignalName(fault.signal) + " to " + RecipientName(fault.to);
  for (int also : fault.also) what += " + " + SignalName(also);
  if (!fault.sender.empty()) what += " (" + fault.sender + ")";
  history_->RecordAt(trigger_time, "fault_trigger",
                     "fault " + std::to_string(index + 1) + ": " + what);
  if (record.instance == 0) {
    history_->Record("signal_not_delivered",
                     "fault " + std::to_string(index + 1) + ": no target instance is running");
  } else {
    record.delivery_time = sent;
    history_->RecordAt(sent, "signal", what, record.instance);
    if (IsGraceful(fault.signal)) {
      drain_not_visible_since_ = sent;
      graces_.push_back(GraceTimer{
          index, record.instance,
          history_->epoch() + std::chrono::nanoseconds(record.delivery_time) + fault.grace});
    }
  }
  Arm(index + 1);
  target_->Wake();
}

std::optional<Clock::time_point> Nemesis::AtDeadline() const {
  if (!begun_ || armed_ >= faults_.size() || !IsAt(faults_[armed_])) return std::nullopt;
  const Trigger& t = faults_[armed_].trigger;
  if (!t.since_ready) return load_start_ + t.at;
  if (!ready_at_) return std::nullopt;
  return *ready_at_ + t.at;
}

Clock::time_point Nemesis::NextDeadline() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Clock::time_point next = Clock::time_point::max();
  for (const GraceTimer& g : graces_) next = std::min(next, g.deadline);
  if (std::optional<Clock::time_point> at = AtDeadline()) next = std::min(next, *at);
  return next;
}

void Nemesis::OnTick() {
  std::lock_guard<std::mutex> lock(mutex_);
  Clock::time_point now = Clock::now();
  std::optional<Clock::time_point> at = AtDeadline();
  if (at && now >= *at) Fire(armed_, history_->Since(*at));
  for (auto it = graces_.begin(); it != graces_.end();) {
    if (it->deadline > now) {
      ++it;
      continue;
    }
    const Fault& fault = faults_[it->fault];
    FaultRecord& record = records_[it->fault];
    int64_t sent = history_->Now();
    // Signal 0 only asks whether the instance still runs.
    if (target_->Deliver(it->instance, fault.escalation_signal, fault.escalate_to) != 0) {
      record.grace_expired = true;
      std::string what = "grace of fault " + std::to_string(it->fault + 1) + " ran out: ";
      if (fault.escalation_signal != 0) {
        record.escalated = true;
        record.escalation_time = sent;
        what += SignalName(fault.escalation_signal) + " to " + RecipientName(fault.escalate_to);
      } else {
        what += "the sender does not escalate";
      }
      history_->RecordAt(sent, "escalation", what, it->instance);
    }
    it = graces_.erase(it);
  }
}

std::optional<Duration> Nemesis::OnTargetExit(int instance, int64_t exit_time) {
  std::lock_guard<std::mutex> lock(mutex_);
  graces_.erase(std::remove_if(graces_.begin(), graces_.end(),
                               [&](const GraceTimer& g) { return g.instance == instance; }),
                graces_.end());
  if (armed_ >= faults_.size() || faults_[armed_].kind != Fault::Kind::kRestart)
    return std::nullopt;
  FaultRecord& record = records_[armed_];
  record.fired = true;
  record.trigger_time = exit_time;
  record.instance = instance;
  Duration delay = faults_[armed_].restart_delay;
  ready_at_.reset();  // the next deploy counts from the new instance
  restarting_ = true;
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
  // The rolling restart fires its own faults, while it runs.
  if (fault.trigger.kind == Trigger::Kind::kRollingRestart) return false;
  return load_running;
}

std::vector<FaultRecord> Nemesis::records() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_;
}

}  // namespace lastcall
