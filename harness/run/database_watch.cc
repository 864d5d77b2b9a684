#include "run/database_watch.h"

#include <chrono>

#include <pqxx/pqxx>
#include <sys/socket.h>

#include "process/database.h"

namespace lastcall {

std::string OpenTransactionsSql() {
  return "SELECT count(*) FROM pg_stat_activity a WHERE " + TargetSessionsCondition("$1", "$2") +
         " AND (a.state LIKE 'idle in transaction%' OR "
         "(a.state = 'active' AND a.xact_start < a.query_start))";
}

// The connection and what it needs for each poll.
class WatchConnection {
 public:
  // Joins `own` before it asks for the others: lastcall's sessions are
  // those `own` lists once this one is in.
  WatchConnection(const std::string& url, OwnSessions* own)
      : connection_(url + (url.find('?') == std::string::npos ? "?" : "&") +
                    "application_name=lastcall-watch") {
    {
      pqxx::nontransaction tx(connection_);
      pqxx::row me = tx.exec1(kOwnSessionSql);
      own->Add(me[0].as<int>(), me[1].c_str());
    }
    own_ = own->ArrayLiterals();
    connection_.prepare("open", OpenTransactionsSql());
  }
  int socket() const { return connection_.sock(); }
  int64_t OpenTransactions() {
    pqxx::nontransaction tx(connection_);
    return tx.exec_prepared1("open", own_.first, own_.second)[0].as<int64_t>();
  }
  // True when the first column of the first row is true or a non-zero number.
  bool Holds(const std::string& sql) {
    pqxx::nontransaction tx(connection_);
    pqxx::result rows = tx.exec(sql);
    if (rows.empty() || rows.columns() == 0 || rows[0][0].is_null()) return false;
    std::string value = rows[0][0].c_str();
    return value == "t" || value == "true" ||
           (value.find_first_not_of("0123456789.-") == std::string::npos &&
            value.find_first_not_of("0.-") != std::string::npos);
  }

 private:
  pqxx::connection connection_;
  std::pair<std::string, std::string> own_;  // the parameters of "open"
};

DatabaseWatch::DatabaseWatch(const std::string& url, OwnSessions* own, Nemesis* nemesis,
                             History* history)
    : url_(url),
      own_(own),
      nemesis_(nemesis),
      history_(history),
      thread_(&DatabaseWatch::Watch, this) {}

DatabaseWatch::~DatabaseWatch() {
  std::future<void> ended = ended_.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  stop_requested_.notify_all();
  // A poll has been seen (twice in ~60 explore runs) waiting in libpq for a
  // result the server showed as sent; the join would then wait forever.
  // Shutting the socket down ends that wait with an error.
  if (ended.wait_for(std::chrono::seconds(1)) == std::future_status::timeout) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (socket_ >= 0) shutdown(socket_, SHUT_RDWR);
  }
  thread_.join();
}

std::string DatabaseWatch::error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

std::optional<size_t> DatabaseWatch::error_fault() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_fault_;
}

bool DatabaseWatch::Evaluate(WatchConnection& connection, const Trigger& trigger) {
  if (trigger.kind == Trigger::Kind::kSql) return connection.Holds(trigger.text);
  return connection.OpenTransactions() >= trigger.count;
}

// Publishes a connection's socket for the destructor, and withdraws it
// before the connection closes it (the number could be reused at once).
class SocketPublication {
 public:
  SocketPublication(std::mutex* mutex, int* published, int socket)
      : mutex_(mutex), published_(published) {
    std::lock_guard<std::mutex> lock(*mutex_);
    *published_ = socket;
  }
  ~SocketPublication() {
    std::lock_guard<std::mutex> lock(*mutex_);
    *published_ = -1;
  }

 private:
  std::mutex* mutex_;
  int* published_;
};

void DatabaseWatch::Watch() {
  std::optional<size_t> evaluating;  // the fault whose condition is polled
  try {
    WatchConnection connection(url_, own_);
    SocketPublication publication(&mutex_, &socket_, connection.socket());
    // The first query of a session is slow (catalog caches, the plan): it
    // must not be the one that races the target's first transactions.
    connection.OpenTransactions();
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      std::optional<DatabaseCondition> armed = nemesis_->ArmedDatabaseCondition();
      if (!armed) {
        // Nothing to watch yet (or any more): look again soon.
        stop_requested_.wait_for(lock, std::chrono::milliseconds(1));
        continue;
      }
      lock.unlock();
      evaluating = armed->fault;
      int64_t started = history_->Now();
      int64_t polls = 0;
      bool fired = false;
      while (!fired && nemesis_->ArmedDatabaseCondition()) {
        ++polls;
        if (!Evaluate(connection, armed->trigger)) continue;
        fired = nemesis_->FireIfArmed(armed->fault, history_->Now());
        if (fired) {
          // Did the signal land inside an open transaction? Ask at once.
          int64_t open = armed->trigger.kind == Trigger::Kind::kDbTransactionsOpen
                             ? connection.OpenTransactions()
                             : -1;
          double poll_us =
              static_cast<double>(history_->Now() - started) / 1e3 / static_cast<double>(polls);
          nemesis_->NoteDatabasePolls(armed->fault, open, poll_us);
        }
        std::lock_guard<std::mutex> check(mutex_);
        if (stop_) break;
      }
      lock.lock();
    }
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stop_) {  // not the error of a socket shut down above
      error_ = PostgresMessage(e);
      error_fault_ = evaluating;
    }
  }
  ended_.set_value();
}

}  // namespace lastcall
