// An HTTP server (cpp-httplib) that can drain.
#ifndef PAYMENT_SERVER_HTTP_SERVER_H_
#define PAYMENT_SERVER_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <httplib.h>

// cpp-httplib 0.11's Server::stop() closes the listening socket and then
// waits for its workers, but each worker serving a keep-alive connection
// keeps it open until the client goes quiet for the keep-alive timeout (5 s),
// and nothing tells clients to stop reusing connections. So this class
// replaces the per-connection loop (process_and_close_socket, a virtual
// hook) with one that knows about the drain: idle connections are closed at
// once, a request already arriving is still served, and responses written
// during the drain carry "Connection: close" and end their connection.
class DrainingServer : public httplib::Server {
 public:
  DrainingServer();
  ~DrainingServer() override;

  // Binds host:port and serves on a background thread. False if the port
  // cannot be bound.
  bool start(const std::string& host, int port);

  // Starts the drain: readiness turns false, the listening socket is closed
  // (new connections are refused, not accepted and reset), idle connections
  // are closed, and busy ones close after their current response.
  void begin_drain();
  bool draining() const { return draining_; }

  // Waits until every connection has been answered and closed, or until
  // `deadline`; true if the drain finished.
  bool wait_drained(std::chrono::steady_clock::time_point deadline);

  // Waits for the serving thread to end: after wait_drained() returned true,
  // at once; otherwise for as long as the server serves.
  void join();

  int requests_in_flight() const { return in_flight_; }
  long long requests_served() const { return served_; }

 private:
  bool process_and_close_socket(int sock) override;
  bool wait_for_request(int sock, bool have_buffered_input) const;

  std::thread serving_thread_;
  // An eventfd that becomes readable, for good, when the drain begins; every
  // worker waiting for a client's next request polls it.
  int drain_event_;
  std::atomic<bool> draining_{false};
  std::atomic<int> in_flight_{0};
  std::atomic<long long> served_{0};

  std::mutex mutex_;
  std::condition_variable stopped_changed_;
  bool stopped_ = false;  // The accept loop and all workers have finished.
};

#endif  // PAYMENT_SERVER_HTTP_SERVER_H_
