// The WebSocket clients of the load (load.websockets): N connections held
// open alongside the HTTP clients, all on one thread of their own
// (Boost.Beast, asynchronous, every wait with a deadline). Each counts the
// messages the target pushes and records how its connection ended: the
// server's close frame and its code, or a TCP end without one.
#ifndef LASTCALL_WEBSOCKET_LOAD_H_
#define LASTCALL_WEBSOCKET_LOAD_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "base/mutex.h"
#include "history/history.h"
#include "scenario/scenario.h"

namespace lastcall {

class WebSocketClient;

class WebSocketLoad {
 public:
  // Opens `clients` connections to ws://127.0.0.1:port`path` and waits
  // until each has upgraded or failed; a refused connect is retried until
  // `connect_timeout` has passed. A failure is recorded in that client's
  // connection, not returned. Records the event "websockets" (how many
  // connected). The history must outlive the returned object.
  static std::unique_ptr<WebSocketLoad> Start(int clients, int port, const std::string& path,
                                              History* history, Duration connect_timeout);

  // Stop(0) when Stop() was not called.
  ~WebSocketLoad();

  // The end of the run: closes each connection still open with a close
  // frame 1000 (Normal Closure, marked closed_by_lastcall), waits at most
  // `timeout` for the close handshakes, drops the sockets left, ends the
  // thread, and adds every connection to the history. Only the first call
  // does anything.
  void Stop(Duration timeout);

  // How many connections have upgraded and not ended yet (thread-safe).
  int open() {
    MutexLock lock(&mutex_);
    return connected_ - finished_connected_;
  }

  // Called on the clients' thread.
  void OnSettled(bool connected);   // a client has upgraded, or failed to
  void OnFinished(bool connected);  // a client's connection has ended

 private:
  WebSocketLoad(History* history);
  // Waits until the counter `count` reaches the number of clients, or until
  // `deadline`.
  void WaitFor(int WebSocketLoad::*count, std::chrono::steady_clock::time_point deadline);

  History* history_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::shared_ptr<WebSocketClient>> clients_;
  std::thread thread_;

  Mutex mutex_;
  CondVar changed_{&mutex_};
  int settled_ GUARDED_BY(mutex_) = 0;
  int connected_ GUARDED_BY(mutex_) = 0;
  int finished_ GUARDED_BY(mutex_) = 0;
  int finished_connected_ GUARDED_BY(mutex_) = 0;  // of those that had upgraded
};

}  // namespace lastcall

#endif  // LASTCALL_WEBSOCKET_LOAD_H_
