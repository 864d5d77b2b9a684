// The one duration type of the harness: every timeout, grace period and
// history time is in nanoseconds.
#ifndef LASTCALL_BASE_DURATION_H_
#define LASTCALL_BASE_DURATION_H_

#include <chrono>

namespace lastcall {

using Duration = std::chrono::nanoseconds;

}  // namespace lastcall

#endif  // LASTCALL_BASE_DURATION_H_
