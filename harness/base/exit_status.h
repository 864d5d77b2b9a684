// How a process ended: its exit code, or the signal that killed it.
#ifndef LASTCALL_BASE_EXIT_STATUS_H_
#define LASTCALL_BASE_EXIT_STATUS_H_

#include <string>

namespace lastcall {

// An exit status: exit(code), or death by a signal (a scenario's clean_exit
// lists the ones that count as clean, for frameworks that re-raise the
// signal after clean-up).
struct ExitStatus {
  bool by_signal = false;
  int value = 0;  // exit code, or signal number when by_signal
  bool operator==(const ExitStatus& o) const {
    return by_signal == o.by_signal && value == o.value;
  }
  // "exit 0", "killed by TERM".
  std::string ToString() const;
};

}  // namespace lastcall

#endif  // LASTCALL_BASE_EXIT_STATUS_H_
