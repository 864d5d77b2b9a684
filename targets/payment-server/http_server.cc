#include "http_server.h"

#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <sys/eventfd.h>
#include <sys/socket.h>

namespace {

// httplib serves each connection on a thread of its own; connections beyond
// this many wait, accepted, until a thread is free.
constexpr size_t kWorkerThreads = 64;
constexpr int kKeepAliveTimeoutSeconds = 5;
constexpr int kMaxRequestsPerConnection = 1000;
constexpr int kReadTimeoutMs = 5000;
// How long a connection found idle when the drain begins stays open for a
// request its client may already be writing (nginx's lingering_timeout
// plays the same part).
constexpr auto kIdleLinger = std::chrono::milliseconds(100);
constexpr int kWriteTimeoutMs = 5000;

// Waits until `fd` is ready for `events`. True if it is, false on timeout.
bool wait_ready(int fd, short events, int timeout_ms) {
  pollfd pfd = {fd, events, 0};
  int ready;
  do {
    ready = ::poll(&pfd, 1, timeout_ms);
  } while (ready < 0 && errno == EINTR);
  return ready > 0;
}

void get_address(int sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage address;
  socklen_t length = sizeof(address);
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  int failed = peer ? ::getpeername(sock, generic, &length) : ::getsockname(sock, generic, &length);
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (failed || ::getnameinfo(generic, length, host, sizeof(host), service, sizeof(service),
                              NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return;
  }
  ip = host;
  port = std::atoi(service);
}

// A connection's byte stream for httplib's request parser, which reads the
// request line one byte at a time; the buffer lives as long as the
// connection, so bytes read ahead are kept for the next request.
class SocketStream final : public httplib::Stream {
 public:
  explicit SocketStream(int sock) : sock_(sock) {}

  bool has_buffered_input() const { return begin_ < end_; }

  bool is_readable() const override {
    return has_buffered_input() || wait_ready(sock_, POLLIN, kReadTimeoutMs);
  }
  bool is_writable() const override { return wait_ready(sock_, POLLOUT, kWriteTimeoutMs); }

  ssize_t read(char* out, size_t size) override {
    if (!has_buffered_input()) {
      if (!is_readable()) return -1;
      ssize_t received;
      do {
        received = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
      } while (received < 0 && errno == EINTR);
      if (received <= 0) return received;
      begin_ = 0;
      end_ = static_cast<size_t>(received);
    }
    size_t n = std::min(size, end_ - begin_);
    std::memcpy(out, buffer_.data() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* data, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t sent;
    do {
      sent = ::send(sock_, data, size, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    get_address(sock_, /*peer=*/true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    get_address(sock_, /*peer=*/false, ip, port);
  }
  int socket() const override { return sock_; }

 private:
  int sock_;
  std::array<char, 4096> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace

DrainingServer::DrainingServer(bool announce_close)
    : drain_event_(::eventfd(0, EFD_CLOEXEC)), announce_close_(announce_close) {
  new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  // Only for the Keep-Alive header httplib writes; the loop below enforces.
  set_keep_alive_timeout(kKeepAliveTimeoutSeconds);
  set_keep_alive_max_count(kMaxRequestsPerConnection);
  // Runs just before each response is written: the last moment to tell the
  // client not to reuse the connection.
  set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
    if (announce_close_ && draining_ && res.get_header_value("Connection") != "close") {
      res.headers.erase("Keep-Alive");
      res.set_header("Connection", "close");
    }
  });
}

DrainingServer::~DrainingServer() {
  if (serving_thread_.joinable()) {
    begin_drain();
    join();
  }
  ::close(drain_event_);
}

bool DrainingServer::start(const std::string& host, int port) {
  if (!bind_to_port(host, port)) return false;
  // httplib listens with a backlog of 5: a burst of clients connecting at
  // once would overflow it, and each dropped SYN costs its client a 1 s
  // retransmission. Calling listen() again only raises the backlog.
  ::listen(svr_sock_, SOMAXCONN);
  serving_thread_ = std::thread([this] {
    listen_after_bind();  // Returns once stop() was called and workers ended.
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    stopped_changed_.notify_all();
  });
  // stop() does nothing until the accept loop runs; wait for it, so that a
  // signal arriving right after start-up is not lost.
  while (!is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return true;
}

void DrainingServer::begin_drain() {
  drain_started_ = std::chrono::steady_clock::now();
  draining_ = true;
  stop();
  uint64_t one = 1;
  ssize_t ignored = ::write(drain_event_, &one, sizeof(one));
  (void)ignored;  // An eventfd write of 1 cannot fail short of overflow.
}

bool DrainingServer::wait_drained(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  return stopped_changed_.wait_until(lock, deadline, [&] { return stopped_; });
}

void DrainingServer::join() {
  if (serving_thread_.joinable()) serving_thread_.join();
}

bool DrainingServer::process_and_close_socket(int sock) {
  SocketStream stream(sock);
  bool ok = true;
  for (int served = 0; served < kMaxRequestsPerConnection; ++served) {
    if (!wait_for_request(sock, stream.has_buffered_input())) break;
    bool last = served + 1 == kMaxRequestsPerConnection;
    bool client_closes = false;
    ++in_flight_;
    ok = process_request(stream, last, client_closes, nullptr);
    --in_flight_;
    if (ok) ++served_;
    if (!ok || client_closes) break;
    if (draining_) {
      if (!announce_close_) wait_no_request_in_flight();
      break;
    }
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

// Waits for the next request on a connection: true once it starts to
// arrive, false when the connection should close instead, because it stayed
// idle for the keep-alive timeout or was idle when the drain began.
bool DrainingServer::wait_for_request(int sock, bool have_buffered_input) const {
  if (have_buffered_input) return true;
  pollfd fds[2] = {{sock, POLLIN, 0}, {drain_event_, POLLIN, 0}};
  int ready;
  do {
    ready = ::poll(fds, 2, kKeepAliveTimeoutSeconds * 1000);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return false;
  // A request already arriving is served even when the drain has begun: its
  // client sent it before learning that we are going away.
  if (fds[0].revents != 0) return true;
  return request_arrives_during_drain(sock);
}

// The drain began with this connection idle, but its client cannot know yet
// and may be writing its next request right now: closing the connection
// would reset that request unread, a request dropped. So the connection
// stays open while requests are in flight (and for kIdleLinger at least);
// what arrives meanwhile is served, with Connection: close.
bool DrainingServer::request_arrives_during_drain(int sock) const {
  const auto linger_end = drain_started_.load() + kIdleLinger;
  for (;;) {
    pollfd fd = {sock, POLLIN, 0};
    int ready = ::poll(&fd, 1, 1);
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
    if (in_flight_ == 0 && std::chrono::steady_clock::now() >= linger_end) return false;
  }
}

void DrainingServer::wait_no_request_in_flight() const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}
