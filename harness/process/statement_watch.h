// A statement the harness runs on PostgreSQL that may take long (the
// scenario's schema and setup, the audit's queries) gives up when the
// harness is interrupted (SIGINT, SIGTERM) or its deadline passes: a thread
// of its own waits on the interrupt and the clock while the statement runs,
// and asks the server to cancel it (PQcancel, which libpq allows from
// another thread). The statement then fails as any cancelled one does, and
// stop() says why.
#ifndef LASTCALL_STATEMENT_WATCH_H_
#define LASTCALL_STATEMENT_WATCH_H_

#include <atomic>
#include <chrono>
#include <thread>

#include "base/interrupt.h"
#include "base/unique_fd.h"

namespace pqxx {
class connection_base;
}

namespace lastcall {

// When a statement must give up: at the harness's interrupt (null: never)
// or at `deadline`.
struct StatementLimits {
  Interrupt* interrupt = nullptr;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

class StatementWatch {
 public:
  enum class Stop { kNone, kInterrupted, kTimedOut };

  // Watches `connection` until destroyed. Throws std::system_error if the
  // thread cannot be started (the caller reports it as any failed
  // statement).
  StatementWatch(pqxx::connection_base& connection, const StatementLimits& limits);
  ~StatementWatch();
  StatementWatch(const StatementWatch&) = delete;
  StatementWatch& operator=(const StatementWatch&) = delete;

  // Why the statement was cancelled, kNone if it was not.
  Stop stop() const { return stop_.load(); }

 private:
  void Watch();

  pqxx::connection_base& connection_;
  StatementLimits limits_;
  UniqueFd done_;  // an eventfd, written when the statement is over
  std::atomic<Stop> stop_{Stop::kNone};
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace lastcall

#endif  // LASTCALL_STATEMENT_WATCH_H_
