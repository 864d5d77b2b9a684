// An HTTP server (cpp-httplib) that can drain.
#ifndef PAYMENT_SERVER_HTTP_SERVER_H_
#define PAYMENT_SERVER_HTTP_SERVER_H_

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

// cpp-httplib 0.11's Server::stop() closes the listening socket and then
// waits for its workers, but each worker serving a keep-alive connection
// keeps it open until the client goes quiet for the keep-alive timeout (5 s),
// and nothing tells clients to stop reusing connections. So this class
// replaces the per-connection loop (process_and_close_socket, a virtual
// hook) with one that knows about the drain: a request arriving on an idle
// connection is still served, idle connections close once the drain's
// requests are done, and responses written during the drain carry
// "Connection: close" and end their connection.
class DrainingServer : public httplib::Server {
 public:
  // `announce_close` false is the bug keep-alive-drain: responses during
  // the drain keep their connection alive, and the connection is closed
  // only once no request is in flight any more, unread, as aiohttp 3.8's
  // graceful exit does; the client's next request on it is lost.
  explicit DrainingServer(bool announce_close = true);
  ~DrainingServer() override;

  // Binds host:port and serves on a background thread. False if the port
  // cannot be bound.
  bool start(const std::string& host, int port);

  // Starts the drain: readiness turns false, the listening socket is closed
  // (new connections are refused, not accepted and reset), busy connections
  // close after their current response, and idle ones once no request is in
  // flight (serving, with Connection: close, one that arrives meanwhile).
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
  bool request_arrives_during_drain(int sock) const;
  // keep-alive-drain: waits (at most a second) until no request is in flight.
  void wait_no_request_in_flight() const;

  std::thread serving_thread_;
  // An eventfd that becomes readable, for good, when the drain begins; every
  // worker waiting for a client's next request polls it.
  int drain_event_;
  const bool announce_close_;
  std::atomic<bool> draining_{false};
  std::atomic<std::chrono::steady_clock::time_point> drain_started_{};
  std::atomic<int> in_flight_{0};
  std::atomic<long long> served_{0};

  std::mutex mutex_;
  std::condition_variable stopped_changed_;
  bool stopped_ = false;  // The accept loop and all workers have finished.
};

#endif  // PAYMENT_SERVER_HTTP_SERVER_H_
