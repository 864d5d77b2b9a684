#include "socket_watch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

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

Client ConnectClient(int port) {
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

// A crafted target (a listener on 127.0.0.1, or on `::` dual-stack, that
// never accepts unless told to), a watch on its port, and the client
// connection Connect() makes.
struct Scene {
  const History clock{0};
  Listener listener;
  std::unique_ptr<SocketWatch> watch;
  Client client;
  LiveTable live;  // what the last look showed

  explicit Scene(const SocketWatchOptions& options = {}, int family = AF_INET)
      : listener(Listen(family)) {
    std::string why;
    watch = SocketWatch::Open(listener.port, &clock, &why, options);
    INFO(why);
    REQUIRE(watch);
  }

  // Connects the client and writes kRequest, unless told not to.
  void Connect(bool write = true) {
    client = ConnectClient(listener.port);
    if (write) WriteAll(client.fd.get(), kRequest);
  }

  // The client's server side at the last look, or nullptr.
  const LiveSocket* Live() const { return live.Find(client.port); }

  // Looks until a look shows the client's server side in `state` with
  // `unread` bytes; false if none does within 10 s.
  bool LookUntil(LiveSocket::State state, uint32_t unread) {
    return WaitUntil([&] {
      const LiveSocket* s = watch->Look(&live) ? Live() : nullptr;
      return s && s->state == state && s->unread == unread;
    });
  }

  // Looks until a look no longer shows the client's server side.
  bool LookUntilGone() {
    return WaitUntil([&] { return watch->Look(&live) && !Live(); });
  }

  bool AwaitEvents() {
    return watch->AwaitDestroyEvents(Clock::now() + std::chrono::seconds(10));
  }

  // The target closes `accepted`; the client reads to the end of the
  // stream (*end: 0 for EOF, else the errno) and closes its end too.
  // Returns the client's record once the target's socket has left the dump
  // and its destroy event has come. The client's close matters: after the
  // target's FIN, its socket is an orphan in the dump until the client
  // acknowledges it, and it can linger there as a full FIN_WAIT2 socket
  // (for tcp_fin_timeout) until the client's FIN ends it.
  ServerSocket CloseAndAwait(UniqueFd* accepted, int* end) {
    accepted->reset();
    *end = ReadEnd(client);
    client.fd.reset();
    REQUIRE(LookUntilGone());
    REQUIRE(AwaitEvents());
    return Record();
  }

  // The record of the client's server side; fails the test if there is not
  // exactly one.
  ServerSocket Record() const {
    std::vector<ServerSocket> found;
    for (const ServerSocket& s : watch->Sockets())
      if (s.peer_port == client.port) found.push_back(s);
    REQUIRE(found.size() == 1);
    return found[0];
  }
};

}  // namespace

TEST_CASE("SocketWatch: a request left in the accept queue dies with the listener") {
  Scene scene;
  scene.Connect();
  REQUIRE(scene.LookUntil(LiveSocket::kQueued, kRequest.size()));
  CHECK(scene.live.listening);
  CHECK(scene.Live()->bytes_read() == 0);

  scene.listener.fd.reset();
  REQUIRE(scene.AwaitEvents());
  // The kernel's event no longer carries the peer port (tcp_disconnect):
  // the record has it from the look.
  ServerSocket s = scene.Record();
  CHECK(s.destroyed);
  CHECK(s.destroyed_unaccepted);
  CHECK(s.seen_in_accept_queue);
  CHECK_FALSE(s.seen_accepted);
  CHECK(s.unread == kRequest.size());
  CHECK(s.bytes_read() == 0);
  CHECK(s.first_seen <= s.last_seen);
  CHECK(s.last_seen < s.destroyed_at);
  CHECK(ReadEnd(scene.client) == ECONNRESET);

  std::vector<ListenerGap> gaps = scene.watch->ListenerGaps();
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].last_seen < gaps[0].first_missing);
  CHECK(gaps[0].back == -1);
}

TEST_CASE("SocketWatch: a request accepted and closed unread") {
  Scene scene;
  scene.Connect();
  UniqueFd accepted = Accept(scene.listener);
  REQUIRE(scene.LookUntil(LiveSocket::kAccepted, kRequest.size()));

  int end;
  ServerSocket s = scene.CloseAndAwait(&accepted, &end);
  CHECK(s.destroyed);
  CHECK_FALSE(s.destroyed_unaccepted);
  CHECK(s.seen_accepted);
  CHECK(s.bytes_received == kRequest.size());
  CHECK(s.unread == kRequest.size());
  CHECK(s.bytes_read() == 0);
  // Closing with unread data resets the connection (RFC 2525, tcp_close).
  CHECK(end == ECONNRESET);
}

TEST_CASE("SocketWatch: a request read, then closed without an answer") {
  Scene scene;
  scene.Connect();
  UniqueFd accepted = Accept(scene.listener);
  ReadExactly(accepted.get(), kRequest.size());
  REQUIRE(scene.LookUntil(LiveSocket::kAccepted, 0));
  CHECK(scene.Live()->bytes_read() == kRequest.size());

  int end;
  ServerSocket s = scene.CloseAndAwait(&accepted, &end);
  CHECK(end == 0);
  CHECK(s.destroyed);
  CHECK(s.bytes_read() == kRequest.size());
  // The client's FIN reaches the target's orphan unless the orphan became
  // a timewait socket first, on the client's ACK: either way the request's
  // bytes are all read.
  DataBytes data = s.WithoutFin(kRequest.size());
  CHECK(data.received == kRequest.size());
  CHECK(data.read == kRequest.size());
  CHECK(data.unread == 0);
  // Once the client acknowledges the FIN, only a timewait mini-socket is
  // left, with no inode: it must not pass for one in the accept queue.
  CHECK_FALSE(s.seen_in_accept_queue);
}

TEST_CASE("SocketWatch: the client's FIN counts as a byte received") {
  Scene scene;
  scene.Connect();
  UniqueFd accepted = Accept(scene.listener);
  REQUIRE(shutdown(scene.client.fd.get(), SHUT_WR) == 0);
  REQUIRE(scene.LookUntil(LiveSocket::kAccepted, kRequest.size() + 1));
  const LiveSocket& live = *scene.Live();
  CHECK(live.bytes_received == kRequest.size() + 1);
  DataBytes data = live.WithoutFin(kRequest.size());
  CHECK(data.fin);
  CHECK(data.received == kRequest.size());
  CHECK(data.unread == kRequest.size());
  CHECK(data.read == 0);

  // Read to the end of stream, the FIN is read too.
  ReadExactly(accepted.get(), kRequest.size());
  char byte;
  REQUIRE(recv(accepted.get(), &byte, 1, 0) == 0);
  REQUIRE(scene.LookUntil(LiveSocket::kAccepted, 0));
  data = scene.Live()->WithoutFin(kRequest.size());
  CHECK(data.fin);
  CHECK(data.read == kRequest.size());
  CHECK(data.unread == 0);
}

TEST_CASE("SocketWatch: without the FIN, counts are the request's bytes") {
  ReceivedBytes partial;
  partial.bytes_received = 5;
  partial.unread = 5;
  DataBytes data = partial.WithoutFin(10);
  CHECK_FALSE(data.fin);
  CHECK(data.received == 5);
  CHECK(data.unread == 5);
  CHECK(data.read == 0);

  ReceivedBytes read_then_fin;
  read_then_fin.bytes_received = 11;
  read_then_fin.unread = 1;
  data = read_then_fin.WithoutFin(10);
  CHECK(data.fin);
  CHECK(data.received == 10);
  CHECK(data.unread == 0);
  CHECK(data.read == 10);
}

TEST_CASE("SocketWatch: a kept-alive connection closed idle loses the next request") {
  Scene scene;
  scene.Connect();
  UniqueFd accepted = Accept(scene.listener);
  ReadExactly(accepted.get(), kRequest.size());
  const std::string response = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  WriteAll(accepted.get(), response);
  ReadExactly(scene.client.fd.get(), response.size());
  REQUIRE(scene.LookUntil(LiveSocket::kAccepted, 0));

  // The target closes the idle connection; the client, not having seen the
  // FIN yet, sends its second request on it.
  accepted.reset();
  WriteAll(scene.client.fd.get(), kRequest);
  REQUIRE(scene.LookUntilGone());
  REQUIRE(scene.AwaitEvents());
  ServerSocket s = scene.Record();
  CHECK(s.destroyed);
  CHECK(s.bytes_received == kRequest.size());
  CHECK(s.bytes_read() == kRequest.size());
}

TEST_CASE("SocketWatch: a dual-stack listener reached through 127.0.0.1") {
  if (UniqueFd probe(socket(AF_INET6, SOCK_STREAM, 0)); !probe.valid()) {
    WARN("no IPv6 here: test not run");
    return;
  }
  Scene scene({}, AF_INET6);
  scene.Connect();
  REQUIRE(scene.LookUntil(LiveSocket::kQueued, kRequest.size()));
  CHECK(scene.live.listening);

  UniqueFd accepted = Accept(scene.listener);
  ReadExactly(accepted.get(), kRequest.size());
  int end;
  ServerSocket s = scene.CloseAndAwait(&accepted, &end);
  CHECK(end == 0);
  CHECK(s.destroyed);
  CHECK(s.bytes_read() == kRequest.size());
}

TEST_CASE("SocketWatch: without destroy events, looks alone") {
  SocketWatchOptions options;
  options.destroy_events = false;
  Scene scene(options);
  CHECK_FALSE(scene.watch->stats().destroy_events);
  CHECK(scene.watch->stats().no_events_why == "not wanted");
  scene.Connect();
  REQUIRE(scene.LookUntil(LiveSocket::kQueued, kRequest.size()));
  UniqueFd accepted = Accept(scene.listener);
  REQUIRE(scene.LookUntil(LiveSocket::kAccepted, kRequest.size()));

  accepted.reset();
  REQUIRE(scene.LookUntilGone());
  // Nothing can say how it ended: the fence reports it missing at once.
  CHECK_FALSE(scene.AwaitEvents());
  ServerSocket s = scene.Record();
  CHECK(s.seen_in_accept_queue);
  CHECK(s.seen_accepted);
  CHECK_FALSE(s.destroyed);
  CHECK(s.vanished_at > s.last_seen);
}

TEST_CASE("SocketWatch: the fence waits for an event that comes after the socket left the dump") {
  Scene scene;
  scene.Connect();
  UniqueFd accepted = Accept(scene.listener);
  REQUIRE(scene.LookUntil(LiveSocket::kAccepted, kRequest.size()));

  // The client resets the connection: the kernel unhashes the target's
  // socket at once (tcp_done), but frees it, and sends its destroy event,
  // only when the target closes its descriptor.
  linger reset{1, 0};
  setsockopt(scene.client.fd.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  const uint16_t port = scene.client.port;
  scene.client.fd.reset();
  REQUIRE(scene.LookUntilGone());
  CHECK_FALSE(scene.watch->AwaitDestroyEvents(Clock::now() + std::chrono::milliseconds(50)));
  CHECK_FALSE(scene.Record().destroyed);

  accepted.reset();
  REQUIRE(scene.AwaitEvents());
  ServerSocket s = scene.Record();
  CHECK(s.peer_port == port);
  CHECK(s.destroyed);
  CHECK(s.vanished_at > s.last_seen);
  CHECK(s.destroyed_at > s.vanished_at);
  CHECK(s.unread == kRequest.size());
}

TEST_CASE("SocketWatch: a pending handshake and its socket are one record") {
  Scene scene;
  // TCP_DEFER_ACCEPT keeps the connection a request socket (SYN_RECV)
  // until data comes, as a full accept queue does.
  int seconds = 10;
  REQUIRE(setsockopt(scene.listener.fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds,
                     sizeof seconds) == 0);
  scene.Connect(false);
  REQUIRE(scene.LookUntil(LiveSocket::kHandshake, 0));
  CHECK(scene.Record().seen_in_handshake);

  WriteAll(scene.client.fd.get(), kRequest);
  REQUIRE(scene.LookUntil(LiveSocket::kQueued, kRequest.size()));
  ServerSocket s = scene.Record();
  CHECK(s.seen_in_handshake);
  CHECK(s.seen_in_accept_queue);
  CHECK(s.unread == kRequest.size());
}

TEST_CASE("SocketWatch: the watch thread looks and reads events") {
  Scene scene;
  std::mutex mu;
  LiveTable last;
  scene.watch->Start(std::chrono::microseconds(500), [&](const LiveTable& live) {
    std::lock_guard<std::mutex> lock(mu);
    last = live;
  });
  auto thread_saw = [&](const std::function<bool(const LiveSocket*)>& what) {
    return WaitUntil([&] {
      std::lock_guard<std::mutex> lock(mu);
      return what(last.Find(scene.client.port));
    });
  };
  scene.Connect();
  UniqueFd accepted = Accept(scene.listener);
  ReadExactly(accepted.get(), kRequest.size());
  CHECK(thread_saw([&](const LiveSocket* s) {
    return s && s->state == LiveSocket::kAccepted && s->bytes_read() == kRequest.size();
  }));

  // Both ends close, so that the target's orphan goes at once (see
  // CloseAndAwait).
  accepted.reset();
  CHECK(ReadEnd(scene.client) == 0);
  scene.client.fd.reset();
  CHECK(thread_saw([](const LiveSocket* s) { return s == nullptr; }));
  // The thread reads the events; the fence waits for it to.
  REQUIRE(scene.AwaitEvents());
  CHECK(scene.Record().destroyed);
  scene.watch->Stop();
  SocketWatchStats stats = scene.watch->stats();
  CHECK(stats.looks >= 2);
  CHECK(stats.mean_look_us > 0);
  CHECK(stats.max_gap_us > 0);
  CHECK(stats.events >= 1);
  CHECK(stats.event_overflows == 0);
}

TEST_CASE("SocketWatch: destroy events lost to a full buffer are counted") {
  SocketWatchOptions options;
  options.event_buffer_bytes = 1;  // the kernel's minimum: a few events
  Scene scene(options);
  constexpr int kConnections = 32;
  for (int i = 0; i < kConnections; ++i) {
    scene.Connect();
    Accept(scene.listener);  // closed unread at once: reset, destroyed
  }
  CHECK(WaitUntil([&] {
    scene.watch->AwaitDestroyEvents(Clock::now());
    return scene.watch->stats().event_overflows > 0;
  }));
  CHECK(scene.watch->stats().events < kConnections);
}
