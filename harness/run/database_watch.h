// The database watch: the nemesis's eye on PostgreSQL. A thread with its
// own connection evaluates the armed `db_transactions_open` or `sql`
// trigger back to back (one round trip per poll, no sleep) and fires the
// fault the moment the condition holds, so the signal can land between a
// payment's first write and its COMMIT.
#ifndef LASTCALL_DATABASE_WATCH_H_
#define LASTCALL_DATABASE_WATCH_H_

#include <atomic>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "history/history.h"
#include "process/database.h"
#include "run/nemesis.h"

namespace lastcall {

class DatabaseWatch {
 public:
  // Starts watching for `nemesis`'s database conditions on `url` (the run's
  // database); the target's sessions are all the others on it but
  // lastcall's own, which `own` lists and the watch's session joins. `own`,
  // the nemesis and history must outlive the watch.
  DatabaseWatch(const std::string& url, OwnSessions* own, Nemesis* nemesis, History* history);
  // Stops the thread and closes its connection. A poll that has not
  // returned after a second has its socket shut down.
  ~DatabaseWatch();

  // The first error (connection or query), "" if none. After the destructor
  // or once a condition has failed; the watch stops at its first error.
  std::string error() const;
  // The fault whose condition was being evaluated when the error came (its
  // index in the nemesis's faults), nullopt when none was (connecting).
  std::optional<size_t> error_fault() const;

 private:
  void Watch();
  // One evaluation. Returns whether the condition holds.
  bool Evaluate(class WatchConnection& connection, const Trigger& trigger);

  const std::string url_;
  OwnSessions* own_;
  Nemesis* nemesis_;
  History* history_;
  mutable std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool stop_ = false;
  std::string error_;
  std::optional<size_t> error_fault_;
  int socket_ = -1;           // the connection's, while the thread has it open
  std::promise<void> ended_;  // set when Watch() returns
  std::thread thread_;
};

// The SQL that counts the target's sessions inside a transaction: idle in
// one, or running a statement of one (an autocommit statement alone starts
// and ends with its transaction, so xact_start equals query_start there).
// $1 and $2 are OwnSessions::ArrayLiterals().
std::string OpenTransactionsSql();

}  // namespace lastcall

#endif  // LASTCALL_DATABASE_WATCH_H_
