#include "db_pool.h"

#include <poll.h>

#include <utility>

#include <sys/socket.h>

namespace {

// True if an idle connection has been closed by the server (a restart,
// pg_terminate_backend): its socket then has the server's farewell or EOF
// to read, while a healthy idle connection is silent. Checking costs one
// poll() and saves the request that would otherwise fail on it.
bool closed_by_server(const pqxx::connection& connection) {
  pollfd pfd = {connection.sock(), POLLIN, 0};
  return !connection.is_open() || ::poll(&pfd, 1, 0) != 0;
}

}  // namespace

struct DbPool::State {
  std::string url;
  std::size_t size = 0;

  std::mutex mutex;
  std::condition_variable returned;
  std::vector<std::unique_ptr<pqxx::connection>> idle;
  std::set<pqxx::connection*> on_loan;
  // Connections that exist, idle or on loan; below `size` after one broke.
  std::size_t open = 0;
  bool closed = false;
};

DbPool::DbPool(std::string url, std::size_t size) : state_(std::make_shared<State>()) {
  state_->url = std::move(url);
  state_->size = size;
  for (std::size_t i = 0; i < size; ++i) {
    state_->idle.push_back(std::make_unique<pqxx::connection>(state_->url));
    ++state_->open;
  }
}

DbPool::Lease::Lease(std::shared_ptr<State> state, std::unique_ptr<pqxx::connection> connection)
    : state_(std::move(state)), connection_(std::move(connection)) {}

DbPool::Lease::~Lease() {
  if (!connection_) return;  // Moved from.
  std::unique_ptr<pqxx::connection> finished;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->on_loan.erase(connection_.get());
    // A broken connection is dropped; acquire() opens a replacement.
    if (state_->closed || !connection_->is_open()) {
      finished = std::move(connection_);
      --state_->open;
    } else {
      state_->idle.push_back(std::move(connection_));
    }
  }
  state_->returned.notify_one();
  // `finished` closes here, outside the lock: PQfinish does network I/O.
}

DbPool::Lease DbPool::acquire(std::chrono::milliseconds timeout) {
  std::vector<std::unique_ptr<pqxx::connection>> dead;  // Closed after unlock.
  std::unique_lock<std::mutex> lock(state_->mutex);
  bool available = state_->returned.wait_for(lock, timeout, [&] {
    return state_->closed || !state_->idle.empty() || state_->open < state_->size;
  });
  if (state_->closed) throw PoolUnavailable("database pool is closed");
  if (!available) throw PoolUnavailable("no free database connection");

  std::unique_ptr<pqxx::connection> connection;
  while (!connection && !state_->idle.empty()) {
    connection = std::move(state_->idle.back());
    state_->idle.pop_back();
    if (closed_by_server(*connection)) {
      dead.push_back(std::move(connection));
      --state_->open;
    }
  }
  if (!connection) {
    // Replace a connection that broke; connect outside the lock, it is slow.
    ++state_->open;
    lock.unlock();
    try {
      connection = std::make_unique<pqxx::connection>(state_->url);
    } catch (const std::exception& e) {
      lock.lock();
      --state_->open;
      throw PoolUnavailable(std::string("cannot connect: ") + e.what());
    }
    lock.lock();
    if (state_->closed) {
      --state_->open;
      throw PoolUnavailable("database pool is closed");
    }
  }
  state_->on_loan.insert(connection.get());
  return Lease(state_, std::move(connection));
}

std::size_t DbPool::close() {
  std::vector<std::unique_ptr<pqxx::connection>> idle;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->closed) return 0;
    state_->closed = true;
    idle.swap(state_->idle);
    state_->open -= idle.size();
    // Under the lock a lease cannot return and close its socket meanwhile,
    // so the descriptor still belongs to that connection.
    for (pqxx::connection* connection : state_->on_loan) ::shutdown(connection->sock(), SHUT_RDWR);
  }
  state_->returned.notify_all();
  std::size_t closed = idle.size();
  idle.clear();  // Each connection's destructor sends Terminate and closes.
  return closed;
}
