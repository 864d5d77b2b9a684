#include "run/rolling_restart.h"

#include <algorithm>

namespace lastcall {

namespace {

// How often the load balancer is asked whether a replacement is UP: a
// fraction of the shortest sensible health-check interval.
constexpr auto kUpPoll = std::chrono::milliseconds(5);

}  // namespace

RollingRestartDriver::RollingRestartDriver(const RollingRestart& spec, int slots,
                                           RolloutControl* control)
    : spec_(spec), slots_(slots), control_(control) {}

void RollingRestartDriver::Begin(TimePoint load_start) {
  phase_ = Phase::kWaiting;
  turn_ = load_start + spec_.at;
}

void RollingRestartDriver::BeginSlot(TimePoint now) {
  if (!started_) started_ = now;
  phase_ = Phase::kStopping;
  exited_ = false;
  signal_at_ = now;
  deregister_at_.reset();
  switch (spec_.deregister) {
    case Deregistration::kWithSignal:
      deregister_at_ = now + spec_.propagation;
      break;
    case Deregistration::kPreStop:
      deregister_at_ = now + spec_.propagation;
      signal_at_ = now + spec_.pre_stop;
      break;
    case Deregistration::kHealthChecks:
      break;
  }
}

void RollingRestartDriver::OnSlotExit(int slot) {
  if (phase_ == Phase::kStopping && slot == slot_) exited_ = true;
}

bool RollingRestartDriver::Tick(TimePoint now) {
  if (phase_ == Phase::kWaiting && now >= turn_) BeginSlot(now);
  if (phase_ == Phase::kStopping) {
    // Deregistration first when both are due: "at the same moment" means
    // the load balancer is told before the instance could react.
    if (deregister_at_ && now >= *deregister_at_) {
      deregister_at_.reset();
      control_->Deregister(slot_);
    }
    if (signal_at_ && now >= *signal_at_) {
      signal_at_.reset();
      control_->SignalSlot(slot_);
    }
    // The replacement binds the same port, and must not be readmitted
    // before the deregistration it replaces has been applied.
    if (!exited_ || signal_at_ || deregister_at_) return true;
    if (!control_->StartReplacement(slot_)) {
      phase_ = Phase::kDone;
      return false;
    }
    if (spec_.deregister != Deregistration::kHealthChecks) control_->Readmit(slot_);
    // The start took a while: the next Tick, with a fresh `now`, polls.
    phase_ = Phase::kAwaitingUp;
    next_poll_ = now;
    return true;
  }
  if (phase_ == Phase::kAwaitingUp && now >= next_poll_) {
    next_poll_ = now + kUpPoll;
    if (control_->SlotUp(slot_)) {
      if (++slot_ == slots_) {
        phase_ = Phase::kDone;
        finished_ = now;
      } else {
        BeginSlot(now);
        return Tick(now);
      }
    }
  }
  return true;
}

RollingRestartDriver::TimePoint RollingRestartDriver::NextDeadline() const {
  switch (phase_) {
    case Phase::kWaiting:
      return turn_;
    case Phase::kStopping: {
      TimePoint next = TimePoint::max();
      if (deregister_at_) next = std::min(next, *deregister_at_);
      if (signal_at_) next = std::min(next, *signal_at_);
      return next;
    }
    case Phase::kAwaitingUp:
      return next_poll_;
    default:
      return TimePoint::max();
  }
}

}  // namespace lastcall
