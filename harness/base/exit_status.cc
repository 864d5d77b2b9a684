#include "base/exit_status.h"

#include "base/signal_name.h"

namespace lastcall {

std::string ExitStatus::ToString() const {
  return by_signal ? "killed by " + SignalName(value) : "exit " + std::to_string(value);
}

}  // namespace lastcall
