#include "process/socket_watch.h"

#include <errno.h>
#include <unistd.h>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "base/test_skip.h"
#include "base/wait_until.h"
#include "process/crafted_listener.h"

using namespace lastcall;
using namespace lastcall::crafted;
using Clock = std::chrono::steady_clock;

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

TEST_CASE("SocketWatch: a kept-alive connection closed idle loses the next request") {
  Scene scene;
  scene.Connect();
  scene.CloseIdleUnderNextRequest();
  REQUIRE(scene.LookUntilGone());
  REQUIRE(scene.AwaitEvents());
  ServerSocket s = scene.Record();
  CHECK(s.destroyed);
  CHECK(s.bytes_received == kRequest.size());
  CHECK(s.bytes_read() == kRequest.size());
}

TEST_CASE("SocketWatch: a dual-stack listener reached through 127.0.0.1") {
  if (UniqueFd probe(socket(AF_INET6, SOCK_STREAM, 0)); !probe.valid())
    return SkipTest("no IPv6 here");
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

TEST_CASE("SocketWatch: a look at given peer ports sees what a whole look sees, and no more") {
  Scene scene;
  scene.Connect();
  Client other = ConnectClient(scene.listener.port);  // never looked at
  LiveTable live;
  REQUIRE(WaitUntil([&] {
    return scene.watch->LookAt({scene.client.port}, &live) && live.Find(scene.client.port) &&
           live.Find(scene.client.port)->unread == kRequest.size();
  }));
  CHECK(live.Find(scene.client.port)->state == LiveSocket::kQueued);
  CHECK(live.Find(other.port) == nullptr);
  CHECK(live.sockets.size() == 1);

  UniqueFd first = Accept(scene.listener);
  ReadExactly(first.get(), kRequest.size());
  REQUIRE(WaitUntil([&] {
    const LiveSocket* s =
        scene.watch->LookAt({scene.client.port}, &live) ? live.Find(scene.client.port) : nullptr;
    return s && s->state == LiveSocket::kAccepted && s->bytes_read() == kRequest.size();
  }));

  // Every look at given ports asks for the listener too.
  CHECK(scene.watch->LookAt({1}, &live));
  CHECK(live.sockets.empty());
  CHECK(live.listening);
  // Not looked at, the first connection has not vanished...
  for (const ServerSocket& s : scene.watch->Sockets())
    if (s.peer_port == scene.client.port) CHECK(s.vanished_at == -1);
  // ...and once the target closes it, the fence finds its destroy event.
  first.reset();
  scene.client.fd.reset();
  REQUIRE(WaitUntil([&] {
    return scene.watch->LookAt({scene.client.port}, &live) && !live.Find(scene.client.port);
  }));
  CHECK(scene.AwaitEvents());
  ServerSocket record = scene.Record();
  CHECK(record.destroyed);
  CHECK(record.bytes_read() >= kRequest.size());
  scene.listener.fd.reset();
  CHECK(scene.watch->LookAt({}, &live));
  CHECK_FALSE(live.listening);
}
