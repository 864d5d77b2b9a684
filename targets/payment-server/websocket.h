// GET /ws: a WebSocket feed of applied payments (Boost.Beast; cpp-httplib
// has no WebSocket support). It listens on a port of its own (--ws-port),
// since cpp-httplib owns the HTTP port, and serves on its own thread.
#ifndef PAYMENT_SERVER_WEBSOCKET_H_
#define PAYMENT_SERVER_WEBSOCKET_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

class WebSocketSession;

class WebSocketHub {
 public:
  WebSocketHub();
  // Drops every socket still open without a close frame, as a process exit
  // would, and joins the serving thread.
  ~WebSocketHub();

  // Listens on host:port and serves GET /ws on a background thread. False
  // with the reason in *error (e.g. "Address already in use") if the port
  // cannot be bound.
  bool start(const std::string& host, int port, std::string* error);
  bool started() const { return thread_.joinable(); }

  // Sends `message` to every open socket; a no-op when not started.
  // Thread-safe: the sending happens on the hub's thread.
  void broadcast(std::string message);

  // The graceful close: stops accepting, sends every open socket a close
  // frame with 1001 (Going Away) once the messages queued before it are
  // written, and waits for the clients' close frames until `deadline`; the
  // sockets still open then are dropped. Returns how many sockets were open.
  int close_all(std::chrono::steady_clock::time_point deadline);

  // Called on the hub's thread by a session when it ends.
  void forget(const std::shared_ptr<WebSocketSession>& session);

 private:
  void accept();
  void drop_all();
  void stop();

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  // Touched only on the hub's thread.
  std::set<std::shared_ptr<WebSocketSession>> sessions_;

  std::mutex mutex_;
  std::condition_variable sessions_changed_;
  int open_ = 0;  // sessions_.size(), for close_all() to wait on
};

#endif  // PAYMENT_SERVER_WEBSOCKET_H_
