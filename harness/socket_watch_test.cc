#include "socket_watch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>

#include <catch2/catch.hpp>

#include "wait_until.h"

using namespace lastcall;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kRequest =
    "POST /payments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}";

// A crafted target: a listening socket on an ephemeral port of 127.0.0.1, or
// of `::` (dual-stack) for AF_INET6. It never accepts unless told to.
struct Listener {
  UniqueFd fd;
  int port = 0;
};

Listener Listen(int family = AF_INET) {
  Listener l;
  l.fd.reset(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(l.fd.valid());
  sockaddr_storage address{};
  socklen_t length;
  if (family == AF_INET6) {
    int off = 0;
    setsockopt(l.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    auto* a = reinterpret_cast<sockaddr_in6*>(&address);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_any;
    length = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&address);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof *a;
  }
  REQUIRE(bind(l.fd.get(), reinterpret_cast<sockaddr*>(&address), length) == 0);
  REQUIRE(listen(l.fd.get(), 64) == 0);
  REQUIRE(getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
  l.port = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                                    : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  return l;
}

// A client connection, as lastcall's HttpConnection makes one: 127.0.0.1,
// an ephemeral local port. Reads time out, so that a wrong test fails
// rather than hangs.
struct Client {
  UniqueFd fd;
  uint16_t port = 0;  // its local port: the server socket's peer port
};

Client Connect(int port) {
  Client c;
  c.fd.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(c.fd.valid());
  timeval timeout{10, 0};
  setsockopt(c.fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(c.fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(getsockname(c.fd.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
  c.port = ntohs(address.sin_port);
  return c;
}

void WriteAll(int fd, const std::string& bytes) {
  REQUIRE(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(bytes.size()));
}

UniqueFd Accept(const Listener& listener) {
  UniqueFd fd(accept4(listener.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  REQUIRE(fd.valid());
  return fd;
}

void ReadExactly(int fd, size_t count) {
  std::string bytes(count, '\0');
  size_t got = 0;
  while (got < count) {
    ssize_t n = recv(fd, &bytes[got], count - got, 0);
    REQUIRE(n > 0);
    got += static_cast<size_t>(n);
  }
}

// How the client's next read ends: 0 for EOF, else its errno.
int ReadEnd(const Client& client) {
  char byte;
  ssize_t n = recv(client.fd.get(), &byte, 1, 0);
  return n == 0 ? 0 : n < 0 ? errno : EEXIST;
}

std::unique_ptr<SocketWatch> OpenWatch(int port, const History* clock,
                                       const SocketWatchOptions& options = {}) {
  std::string why;
  auto watch = SocketWatch::Open(port, clock, &why, options);
  INFO(why);
  REQUIRE(watch);
  return watch;
}

// Looks until a look shows the client's server side in `state` with
// `unread` bytes; false if none does within 10 s.
bool LookUntil(SocketWatch* watch, const Client& client, LiveSocket::State state,
               uint32_t unread, LiveTable* live) {
  return WaitUntil([&] {
    if (!watch->Look(live)) return false;
    const LiveSocket* s = live->Find(client.port);
    return s && s->state == state && s->unread == unread;
  });
}

// Looks until no look shows the client's server side.
bool LookUntilGone(SocketWatch* watch, const Client& client) {
  LiveTable live;
  return WaitUntil([&] { return watch->Look(&live) && !live.Find(client.port); });
}

bool AwaitEvents(SocketWatch* watch) {
  return watch->AwaitDestroyEvents(Clock::now() + std::chrono::seconds(10));
}

// The record of the client's server side; fails the test if there is not
// exactly one.
ServerSocket RecordOf(const SocketWatch& watch, const Client& client) {
  std::vector<ServerSocket> found;
  for (const ServerSocket& s : watch.Sockets())
    if (s.peer_port == client.port) found.push_back(s);
  REQUIRE(found.size() == 1);
  return found[0];
}

}  // namespace

TEST_CASE("SocketWatch: a request left in the accept queue dies with the listener") {
  const History clock(0);
  Listener listener = Listen();
  auto watch = OpenWatch(listener.port, &clock);
  Client client = Connect(listener.port);
  WriteAll(client.fd.get(), kRequest);
  LiveTable live;
  REQUIRE(LookUntil(watch.get(), client, LiveSocket::kQueued, kRequest.size(), &live));
  CHECK(live.listening);
  CHECK(live.Find(client.port)->bytes_read() == 0);

  listener.fd.reset();
  REQUIRE(AwaitEvents(watch.get()));
  // The kernel's event no longer carries the peer port (tcp_disconnect):
  // the record has it from the look.
  ServerSocket s = RecordOf(*watch, client);
  CHECK(s.destroyed);
  CHECK(s.destroyed_unaccepted);
  CHECK(s.seen_in_accept_queue);
  CHECK_FALSE(s.seen_accepted);
  CHECK(s.unread == kRequest.size());
  CHECK(s.bytes_read() == 0);
  CHECK(s.first_seen <= s.last_seen);
  CHECK(s.last_seen < s.destroyed_at);
  CHECK(ReadEnd(client) == ECONNRESET);

  std::vector<ListenerGap> gaps = watch->ListenerGaps();
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].last_seen < gaps[0].first_missing);
  CHECK(gaps[0].back == -1);
}

TEST_CASE("SocketWatch: a request accepted and closed unread") {
  const History clock(0);
  Listener listener = Listen();
  auto watch = OpenWatch(listener.port, &clock);
  Client client = Connect(listener.port);
  WriteAll(client.fd.get(), kRequest);
  UniqueFd accepted = Accept(listener);
  LiveTable live;
  REQUIRE(LookUntil(watch.get(), client, LiveSocket::kAccepted, kRequest.size(), &live));

  accepted.reset();
  REQUIRE(AwaitEvents(watch.get()));
  ServerSocket s = RecordOf(*watch, client);
  CHECK(s.destroyed);
  CHECK_FALSE(s.destroyed_unaccepted);
  CHECK(s.seen_accepted);
  CHECK(s.bytes_received == kRequest.size());
  CHECK(s.unread == kRequest.size());
  CHECK(s.bytes_read() == 0);
  // Closing with unread data resets the connection (RFC 2525, tcp_close).
  CHECK(ReadEnd(client) == ECONNRESET);
}

TEST_CASE("SocketWatch: a request read, then closed without an answer") {
  const History clock(0);
  Listener listener = Listen();
  auto watch = OpenWatch(listener.port, &clock);
  Client client = Connect(listener.port);
  WriteAll(client.fd.get(), kRequest);
  UniqueFd accepted = Accept(listener);
  ReadExactly(accepted.get(), kRequest.size());
  LiveTable live;
  REQUIRE(LookUntil(watch.get(), client, LiveSocket::kAccepted, 0, &live));
  CHECK(live.Find(client.port)->bytes_read() == kRequest.size());

  // Closed after reading all, the socket sends a FIN and stays in the dump
  // (an orphan) until the client acknowledges it.
  accepted.reset();
  REQUIRE(LookUntilGone(watch.get(), client));
  REQUIRE(AwaitEvents(watch.get()));
  ServerSocket s = RecordOf(*watch, client);
  CHECK(s.destroyed);
  CHECK(s.bytes_read() == kRequest.size());
  CHECK(s.unread == 0);
  // Once the client acknowledges the FIN, only a timewait mini-socket is
  // left, with no inode: it must not pass for one in the accept queue.
  CHECK_FALSE(s.seen_in_accept_queue);
  CHECK(ReadEnd(client) == 0);
}

TEST_CASE("SocketWatch: a kept-alive connection closed idle loses the next request") {
  const History clock(0);
  Listener listener = Listen();
  auto watch = OpenWatch(listener.port, &clock);
  Client client = Connect(listener.port);
  WriteAll(client.fd.get(), kRequest);
  UniqueFd accepted = Accept(listener);
  ReadExactly(accepted.get(), kRequest.size());
  const std::string response = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  WriteAll(accepted.get(), response);
  ReadExactly(client.fd.get(), response.size());
  LiveTable live;
  REQUIRE(LookUntil(watch.get(), client, LiveSocket::kAccepted, 0, &live));

  // The target closes the idle connection; the client, not having seen the
  // FIN yet, sends its second request on it.
  accepted.reset();
  WriteAll(client.fd.get(), kRequest);
  REQUIRE(LookUntilGone(watch.get(), client));
  REQUIRE(AwaitEvents(watch.get()));
  ServerSocket s = RecordOf(*watch, client);
  CHECK(s.destroyed);
  CHECK(s.bytes_received == kRequest.size());
  CHECK(s.bytes_read() == kRequest.size());
}

TEST_CASE("SocketWatch: a dual-stack listener reached through 127.0.0.1") {
  const History clock(0);
  if (UniqueFd probe(socket(AF_INET6, SOCK_STREAM, 0)); !probe.valid()) {
    WARN("no IPv6 here: test not run");
    return;
  }
  Listener listener = Listen(AF_INET6);
  auto watch = OpenWatch(listener.port, &clock);
  Client client = Connect(listener.port);
  WriteAll(client.fd.get(), kRequest);
  LiveTable live;
  REQUIRE(LookUntil(watch.get(), client, LiveSocket::kQueued, kRequest.size(), &live));
  CHECK(live.listening);

  UniqueFd accepted = Accept(listener);
  ReadExactly(accepted.get(), kRequest.size());
  accepted.reset();
  REQUIRE(LookUntilGone(watch.get(), client));
  REQUIRE(AwaitEvents(watch.get()));
  ServerSocket s = RecordOf(*watch, client);
  CHECK(s.destroyed);
  CHECK(s.bytes_read() == kRequest.size());
}

TEST_CASE("SocketWatch: without destroy events, looks alone") {
  const History clock(0);
  Listener listener = Listen();
  SocketWatchOptions options;
  options.destroy_events = false;
  auto watch = OpenWatch(listener.port, &clock, options);
  CHECK_FALSE(watch->stats().destroy_events);
  CHECK(watch->stats().no_events_why == "not wanted");
  Client client = Connect(listener.port);
  WriteAll(client.fd.get(), kRequest);
  LiveTable live;
  REQUIRE(LookUntil(watch.get(), client, LiveSocket::kQueued, kRequest.size(), &live));
  UniqueFd accepted = Accept(listener);
  REQUIRE(LookUntil(watch.get(), client, LiveSocket::kAccepted, kRequest.size(), &live));

  accepted.reset();
  REQUIRE(LookUntilGone(watch.get(), client));
  // Nothing can say how it ended: the fence reports it missing at once.
  CHECK_FALSE(watch->AwaitDestroyEvents(Clock::now() + std::chrono::seconds(10)));
  ServerSocket s = RecordOf(*watch, client);
  CHECK(s.seen_in_accept_queue);
  CHECK(s.seen_accepted);
  CHECK_FALSE(s.destroyed);
  CHECK(s.vanished_at > s.last_seen);
}

TEST_CASE("SocketWatch: the fence waits for an event that comes after the socket left the dump") {
  const History clock(0);
  Listener listener = Listen();
  auto watch = OpenWatch(listener.port, &clock);
  Client client = Connect(listener.port);
  WriteAll(client.fd.get(), kRequest);
  UniqueFd accepted = Accept(listener);
  LiveTable live;
  REQUIRE(LookUntil(watch.get(), client, LiveSocket::kAccepted, kRequest.size(), &live));

  // The client resets the connection: the kernel unhashes the target's
  // socket at once (tcp_done), but frees it, and sends its destroy event,
  // only when the target closes its descriptor.
  linger reset{1, 0};
  setsockopt(client.fd.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  client.fd.reset();
  REQUIRE(LookUntilGone(watch.get(), client));
  CHECK_FALSE(watch->AwaitDestroyEvents(Clock::now() + std::chrono::milliseconds(50)));
  CHECK_FALSE(RecordOf(*watch, client).destroyed);

  accepted.reset();
  REQUIRE(AwaitEvents(watch.get()));
  ServerSocket s = RecordOf(*watch, client);
  CHECK(s.destroyed);
  CHECK(s.vanished_at > s.last_seen);
  CHECK(s.destroyed_at > s.vanished_at);
  CHECK(s.unread == kRequest.size());
}

TEST_CASE("SocketWatch: a pending handshake and its socket are one record") {
  const History clock(0);
  Listener listener = Listen();
  // TCP_DEFER_ACCEPT keeps the connection a request socket (SYN_RECV)
  // until data comes, as a full accept queue does.
  int seconds = 10;
  REQUIRE(setsockopt(listener.fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds,
                     sizeof seconds) == 0);
  auto watch = OpenWatch(listener.port, &clock);
  Client client = Connect(listener.port);
  LiveTable live;
  REQUIRE(LookUntil(watch.get(), client, LiveSocket::kHandshake, 0, &live));
  CHECK(RecordOf(*watch, client).seen_in_handshake);

  WriteAll(client.fd.get(), kRequest);
  REQUIRE(LookUntil(watch.get(), client, LiveSocket::kQueued, kRequest.size(), &live));
  ServerSocket s = RecordOf(*watch, client);
  CHECK(s.seen_in_handshake);
  CHECK(s.seen_in_accept_queue);
  CHECK(s.unread == kRequest.size());
}

TEST_CASE("SocketWatch: the watch thread looks and reads events") {
  const History clock(0);
  Listener listener = Listen();
  auto watch = OpenWatch(listener.port, &clock);
  std::mutex mu;
  LiveTable last;
  watch->Start(std::chrono::microseconds(500), [&](const LiveTable& live) {
    std::lock_guard<std::mutex> lock(mu);
    last = live;
  });
  Client client = Connect(listener.port);
  WriteAll(client.fd.get(), kRequest);
  UniqueFd accepted = Accept(listener);
  ReadExactly(accepted.get(), kRequest.size());
  auto thread_saw = [&](const std::function<bool(const LiveSocket*)>& what) {
    return WaitUntil([&] {
      std::lock_guard<std::mutex> lock(mu);
      return what(last.Find(client.port));
    });
  };
  CHECK(thread_saw([&](const LiveSocket* s) {
    return s && s->state == LiveSocket::kAccepted && s->bytes_read() == kRequest.size();
  }));

  accepted.reset();
  CHECK(thread_saw([](const LiveSocket* s) { return s == nullptr; }));
  // The thread reads the events; the fence waits for it to.
  REQUIRE(AwaitEvents(watch.get()));
  CHECK(RecordOf(*watch, client).destroyed);
  watch->Stop();
  SocketWatchStats stats = watch->stats();
  CHECK(stats.looks >= 2);
  CHECK(stats.mean_look_us > 0);
  CHECK(stats.max_gap_us > 0);
  CHECK(stats.events >= 1);
  CHECK(stats.event_overflows == 0);
}

TEST_CASE("SocketWatch: destroy events lost to a full buffer are counted") {
  const History clock(0);
  Listener listener = Listen();
  SocketWatchOptions options;
  options.event_buffer_bytes = 1;  // the kernel's minimum: a few events
  auto watch = OpenWatch(listener.port, &clock, options);
  constexpr int kConnections = 32;
  for (int i = 0; i < kConnections; ++i) {
    Client client = Connect(listener.port);
    WriteAll(client.fd.get(), kRequest);
    Accept(listener);  // closed unread at once: reset, destroyed
  }
  CHECK(WaitUntil([&] {
    watch->AwaitDestroyEvents(Clock::now());
    return watch->stats().event_overflows > 0;
  }));
  CHECK(watch->stats().events < kConnections);
}
