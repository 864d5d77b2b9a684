// What became of each fault of a run: when its trigger held, when its signal
// went out, whether its grace ran out. The nemesis fills these; the checks
// and the reports read them.
#ifndef LASTCALL_HISTORY_FAULT_RECORD_H_
#define LASTCALL_HISTORY_FAULT_RECORD_H_

#include <cstdint>

namespace lastcall {

// What became of one fault.
struct FaultRecord {
  bool fired = false;
  int64_t trigger_time = -1;   // when its condition held
  int64_t delivery_time = -1;  // when kill(2) returned (or restart began)
  int instance = 0;            // the instance it hit; 0 if none was running
  bool grace_expired = false;  // grace ran out with the instance alive
  bool escalated = false;      // ...and the escalation signal was sent
  int64_t escalation_time = -1;
  // db_transactions_open: the target's sessions inside a transaction just
  // after the signal was sent (did it land inside one?); -1 if not measured.
  int64_t transactions_at_delivery = -1;
  double poll_interval_us = -1;  // database triggers: mean time per poll
};

// True for the signals a service is expected to shut down on gracefully.
bool IsGraceful(int signal);

}  // namespace lastcall

#endif  // LASTCALL_HISTORY_FAULT_RECORD_H_
