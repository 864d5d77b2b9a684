#include "client/http_client.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>

#include <arpa/inet.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace lastcall {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

// Milliseconds left until `deadline`, for poll(); 0 when past.
int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(left.count()) + 1;
}

// Waits for `events` on `fd` until the deadline. Returns false on timeout.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return true;  // let the syscall report the error
  }
}

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Opens a non-blocking TCP connection to 127.0.0.1:port into *fd (-1 if no
// socket could be made; the caller closes it either way). When lastcall
// itself lacks what a connection needs (a descriptor, buffer memory, a
// local port), sets *own_failure to what failed.
NetError ConnectLoopback(int port, Clock::time_point deadline, int* fd,
                         std::string* own_failure = nullptr) {
  *fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (*fd < 0) {
    if (own_failure) *own_failure = std::string("socket(): ") + std::strerror(errno);
    return NetError::kConnect;
  }
  int one = 1;
  setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr = Loopback(port);
  if (connect(*fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return NetError::kNone;
  const int err = errno;
  if (err == ECONNREFUSED) return NetError::kRefused;
  if ((err == EADDRNOTAVAIL || err == ENOBUFS || err == ENOMEM) && own_failure)
    *own_failure = std::string("connect(): ") + std::strerror(err);
  if (err != EINPROGRESS) return NetError::kConnect;
  if (!WaitFor(*fd, POLLOUT, deadline)) return NetError::kConnect;
  int error = 0;
  socklen_t len = sizeof error;
  getsockopt(*fd, SOL_SOCKET, SO_ERROR, &error, &len);
  if (error == 0) return NetError::kNone;
  return error == ECONNREFUSED ? NetError::kRefused : NetError::kConnect;
}

}  // namespace

HttpConnection::HttpConnection(int port, std::atomic<int64_t>* connection_ids,
                               std::atomic<uint16_t>* published_port)
    : port_(port), connection_ids_(connection_ids), published_port_(published_port) {}

HttpConnection::~HttpConnection() { Close(); }

void HttpConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (published_port_) published_port_->store(0, std::memory_order_relaxed);
}

// A kept-alive connection the server has closed (or reset) while idle shows
// as readable; sending on it would only lose the request to the keep-alive
// race, so a careful client reconnects instead.
bool HttpConnection::PeerClosed() const {
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  return poll(&p, 1, 0) != 0;
}

NetError HttpConnection::Connect(Clock::time_point deadline) {
  connection_id_ = connection_ids_->fetch_add(1) + 1;
  bytes_sent_ = 0;
  bytes_received_ = 0;
  local_port_ = 0;
  own_failure_.clear();
  NetError error = ConnectLoopback(port_, deadline, &fd_, &own_failure_);
  // The port the kernel bound, known even for a connect still in progress:
  // the target's socket names it as its peer (socket_watch.h).
  sockaddr_in local{};
  socklen_t len = sizeof local;
  if (fd_ >= 0 && getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len) == 0)
    local_port_ = ntohs(local.sin_port);
  if (published_port_) published_port_->store(local_port_, std::memory_order_relaxed);
  return error;
}

NetError HttpConnection::Write(const std::string& request, Clock::time_point deadline) {
  size_t written = 0;
  while (written < request.size()) {
    ssize_t n = send(fd_, request.data() + written, request.size() - written, MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<size_t>(n);
      bytes_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd_, POLLOUT, deadline)) return NetError::kTimeout;
      continue;
    }
    return NetError::kWriteFailed;
  }
  return NetError::kNone;
}

NetError HttpConnection::Read(Clock::time_point deadline, int* status, std::string* body,
                              bool* keep_alive) {
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(64 * 1024 * 1024);
  char buffer[16 * 1024];
  std::string pending;  // received but not yet consumed by the parser
  for (;;) {
    ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd_, POLLIN, deadline)) return NetError::kTimeout;
      continue;
    }
    if (n < 0) return NetError::kReset;
    bytes_received_ += static_cast<uint64_t>(n);
    boost::system::error_code ec;
    if (n == 0) {
      // The server closed: a response delimited by EOF is complete now.
      if (!parser.got_some()) return NetError::kEof;
      parser.put_eof(ec);
      if (ec || !parser.is_done()) return NetError::kEof;
    } else {
      pending.append(buffer, static_cast<size_t>(n));
      size_t used = 0;
      while (used < pending.size() && !parser.is_done()) {
        size_t put =
            parser.put(boost::asio::buffer(pending.data() + used, pending.size() - used), ec);
        used += put;
        if (ec == http::error::need_more) break;
        if (ec) return NetError::kBadResponse;
        if (put == 0) break;
      }
      pending.erase(0, used);
      if (!parser.is_done()) continue;
    }
    auto& response = parser.get();
    *status = static_cast<int>(response.result_int());
    *keep_alive = response.keep_alive() && n != 0;
    *body = std::move(response.body());
    return NetError::kNone;
  }
}

std::string HttpConnection::RoundTrip(const std::string& request, Clock::time_point deadline,
                                      const History& history, Attempt* attempt,
                                      const std::function<void()>& on_written) {
  attempt->send_start = history.Now();
  attempt->reused_connection = fd_ >= 0 && !PeerClosed();
  if (fd_ >= 0 && !attempt->reused_connection) Close();
  NetError error = NetError::kNone;
  if (fd_ < 0) error = Connect(deadline);
  attempt->connection = connection_id_;
  attempt->local_port = local_port_;
  attempt->request_size = static_cast<uint32_t>(request.size());
  attempt->request_end = bytes_sent_ + request.size();
  if (error == NetError::kNone) {
    error = Write(request, deadline);
    if (error == NetError::kNone) {
      attempt->send_end = history.Now();
      if (on_written) on_written();
    }
  }
  std::string body;
  bool keep_alive = false;
  if (error == NetError::kNone) error = Read(deadline, &attempt->status, &body, &keep_alive);
  attempt->done = history.Now();
  attempt->keep_alive = keep_alive;
  if (attempt->status != 0) attempt->response_end = bytes_received_;
  attempt->error = error;
  attempt->outcome = Classify(attempt->status, error);
  if (error != NetError::kNone || !keep_alive) Close();
  return body;
}

bool HttpGetOk(int port, const std::string& path, std::chrono::milliseconds timeout) {
  std::atomic<int64_t> probe_ids{0};
  const History clock(0);
  HttpConnection connection(port, &probe_ids);
  Attempt attempt;
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nConnection: close\r\n\r\n";
  connection.RoundTrip(request, Clock::now() + timeout, clock, &attempt);
  return attempt.status >= 200 && attempt.status < 300;
}

bool TcpConnects(int port, std::chrono::milliseconds timeout) {
  int fd = -1;
  NetError error = ConnectLoopback(port, Clock::now() + timeout, &fd);
  if (fd >= 0) ::close(fd);
  return error == NetError::kNone;
}

}  // namespace lastcall
