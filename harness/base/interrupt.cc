#include "base/interrupt.h"

#include <errno.h>
#include <unistd.h>

#include <sys/signalfd.h>

namespace lastcall {

Interrupt::Interrupt() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &mask, &old_mask_);
  fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

Interrupt::~Interrupt() {
  if (fd_ >= 0) close(fd_);
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

int Interrupt::Check() {
  signalfd_siginfo info;
  while (read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    int none = 0;
    first_signal_.compare_exchange_strong(none, static_cast<int>(info.ssi_signo));
    ++count_;
  }
  return count_;
}

}  // namespace lastcall
