#include "history/fault_record.h"

#include <csignal>

namespace lastcall {

bool IsGraceful(int signal) { return signal != SIGKILL && signal != SIGSTOP && signal != SIGCONT; }

}  // namespace lastcall
