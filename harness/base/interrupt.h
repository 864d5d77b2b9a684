// The harness's own graceful shutdown (it practises what it checks). SIGINT
// and SIGTERM are blocked in every thread and read from a signalfd by the
// event loops, which turn them into an orderly stop; the old mask is restored
// on destruction. Children start with a clean mask (see subprocess.h).
#ifndef LASTCALL_INTERRUPT_H_
#define LASTCALL_INTERRUPT_H_

#include <signal.h>

#include <atomic>

namespace lastcall {

class Interrupt {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread (threads started later
  // inherit the mask) and opens the signalfd. Construct it first in main().
  Interrupt();
  ~Interrupt();
  Interrupt(const Interrupt&) = delete;
  Interrupt& operator=(const Interrupt&) = delete;

  // Readable when a signal is pending: poll it with the rest.
  int fd() const { return fd_; }
  // Consumes pending signals. Returns how many arrived in all so far. Safe to
  // call from several threads (--jobs): each signal is counted once, by
  // whichever thread reads it, and every thread sees the count.
  int Check();
  // The first signal received, 0 if none. The exit code is 128 + it.
  int first_signal() const { return first_signal_; }
  int count() const { return count_; }

 private:
  int fd_ = -1;
  sigset_t old_mask_;
  std::atomic<int> first_signal_{0};
  std::atomic<int> count_{0};
};

}  // namespace lastcall

#endif  // LASTCALL_INTERRUPT_H_
