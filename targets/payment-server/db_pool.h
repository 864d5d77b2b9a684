// A fixed-size pool of PostgreSQL connections.
#ifndef PAYMENT_SERVER_DB_POOL_H_
#define PAYMENT_SERVER_DB_POOL_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/pqxx>

// Thrown by acquire() when no connection can be had: the pool is closed,
// exhausted for too long, or the database refuses new connections.
struct PoolUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class DbPool {
  struct State;

 public:
  // Opens all `size` connections now, so a bad DATABASE_URL fails at start-up
  // rather than on the first payment. Throws pqxx::broken_connection.
  DbPool(std::string url, std::size_t size);
  ~DbPool() { close(); }
  DbPool(const DbPool&) = delete;
  DbPool& operator=(const DbPool&) = delete;

  // A connection on loan; it goes back to the pool when the lease dies.
  // A lease keeps the pool's state alive, so it may outlive the DbPool.
  class Lease {
   public:
    Lease(Lease&&) = default;
    ~Lease();
    pqxx::connection& operator*() const { return *connection_; }

   private:
    friend class DbPool;
    Lease(std::shared_ptr<State> state, std::unique_ptr<pqxx::connection> connection);
    std::shared_ptr<State> state_;
    std::unique_ptr<pqxx::connection> connection_;
  };

  // Waits up to `timeout` for a free connection.
  Lease acquire(std::chrono::milliseconds timeout);

  // Closes the idle connections properly (PostgreSQL gets a Terminate
  // message) and refuses further leases. Connections still on loan are cut
  // off at the socket, so whoever holds one fails fast instead of finishing
  // work the shutdown no longer waits for; each is closed when returned.
  // Returns how many connections were idle and closed properly. Idempotent.
  std::size_t close();

 private:
  std::shared_ptr<State> state_;
};

#endif  // PAYMENT_SERVER_DB_POOL_H_
