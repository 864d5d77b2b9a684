// Waits on a condition with a deadline, never on a sleep that hopes the
// condition will hold by then: in tests, and where no event announces the
// condition (a process of someone else's gone).
#ifndef LASTCALL_WAIT_UNTIL_H_
#define LASTCALL_WAIT_UNTIL_H_

#include <chrono>
#include <functional>
#include <thread>

namespace lastcall {

// Polls `condition` every 2 ms. Returns true as soon as it holds, false if
// `timeout` passes first.
inline bool WaitUntil(const std::function<bool()>& condition,
                      std::chrono::steady_clock::duration timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace lastcall

#endif  // LASTCALL_WAIT_UNTIL_H_
