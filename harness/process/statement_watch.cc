#include "process/statement_watch.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <pqxx/pqxx>
#include <sys/eventfd.h>

namespace lastcall {

namespace {
using Clock = std::chrono::steady_clock;

// How long the watch sleeps at most between looks at the interrupt count
// (with --jobs another thread may read the signal from the shared signalfd,
// leaving nothing for this one's poll to see), and between two cancels.
constexpr std::chrono::milliseconds kLookInterval{50};
}  // namespace

StatementWatch::StatementWatch(pqxx::connection_base& connection, const StatementLimits& limits)
    : connection_(connection), limits_(limits), done_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!done_.valid()) throw std::system_error(errno, std::generic_category(), "eventfd");
  thread_ = std::thread([this] { Watch(); });
}

StatementWatch::~StatementWatch() {
  const uint64_t one = 1;
  (void)!write(done_.get(), &one, sizeof one);
  thread_.join();
}

void StatementWatch::Watch() {
  while (stop_ == Stop::kNone) {
    if (limits_.interrupt && limits_.interrupt->Check() > 0) {
      stop_ = Stop::kInterrupted;
    } else if (Clock::now() >= limits_.deadline) {
      stop_ = Stop::kTimedOut;
    } else {
      const auto wait = std::min<Clock::duration>(limits_.deadline - Clock::now(), kLookInterval);
      pollfd fds[2] = {{done_.get(), POLLIN, 0},
                       {limits_.interrupt ? limits_.interrupt->fd() : -1, POLLIN, 0}};
      poll(fds, 2, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
      if (fds[0].revents & POLLIN) return;
    }
  }
  // A cancel that reaches the server before the statement does is lost (the
  // backend is idle then): ask again until the statement is over.
  pollfd done = {done_.get(), POLLIN, 0};
  do {
    try {
      connection_.cancel_query();
    } catch (const std::exception&) {
      // The server cannot be reached: the statement fails on its own.
    }
  } while (poll(&done, 1, static_cast<int>(kLookInterval.count())) == 0);
}

}  // namespace lastcall
