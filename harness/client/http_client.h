// The client side of one HTTP/1.1 connection to the target, over loopback
// TCP, with the fine error taxonomy the checks need: refused, failed while
// writing, reset or EOF after writing, timeout. Responses are parsed with
// Boost.Beast's parser; the socket work is plain POSIX so that every phase
// has its own deadline and timestamp.
#ifndef LASTCALL_HTTP_CLIENT_H_
#define LASTCALL_HTTP_CLIENT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "history/history.h"

namespace lastcall {

class HttpConnection {
 public:
  // `connection_ids` numbers every TCP connection of the run (shared).
  // `published_port`, if given, holds the client port of the open
  // connection from its connect() to its close (0 when none), for other
  // threads to read (the socket watch); it must outlive the connection.
  HttpConnection(int port, std::atomic<int64_t>* connection_ids,
                 std::atomic<uint16_t>* published_port = nullptr);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends `request` (complete HTTP/1.1 bytes) and reads one response, all
  // before `deadline`. Connects first if needed; reuses the open connection
  // when the last response allowed it and the server has not closed it
  // meanwhile. Fills attempt->{connection, reused_connection, local_port,
  // request_size, request_end, send_start, send_end, done, status,
  // keep_alive, error, outcome}; times from `history`. Calls `on_written`
  // (if set) as soon as the request is fully written. Returns the response
  // body (empty on error).
  std::string RoundTrip(const std::string& request, std::chrono::steady_clock::time_point deadline,
                        const History& history, Attempt* attempt,
                        const std::function<void()>& on_written = nullptr);

  void Close();
  // Why the last connect failed for want of something of lastcall's own (a
  // file descriptor, memory, a local port): no fault of the target. Empty
  // otherwise.
  const std::string& own_failure() const { return own_failure_; }

 private:
  NetError Connect(std::chrono::steady_clock::time_point deadline);
  NetError Write(const std::string& request, std::chrono::steady_clock::time_point deadline);
  NetError Read(std::chrono::steady_clock::time_point deadline, int* status, std::string* body,
                bool* keep_alive);
  bool PeerClosed() const;

  int port_;
  std::atomic<int64_t>* connection_ids_;
  int fd_ = -1;
  int64_t connection_id_ = 0;
  uint16_t local_port_ = 0;  // of the open connection
  std::atomic<uint16_t>* published_port_;
  uint64_t bytes_sent_ = 0;      // on the open connection
  uint64_t bytes_received_ = 0;  // the same
  std::string own_failure_;
};

// A one-shot GET for readiness probes: true when the answer is 2xx.
bool HttpGetOk(int port, const std::string& path, std::chrono::milliseconds timeout);

// True when a TCP connection to 127.0.0.1:port succeeds.
bool TcpConnects(int port, std::chrono::milliseconds timeout);

}  // namespace lastcall

#endif  // LASTCALL_HTTP_CLIENT_H_
