// For tests: crafted targets that give a client connection each fate the
// kernel can tell apart (left in the accept queue, accepted and closed
// unread, read and closed, closed idle), and a socket watch on their port.
// REQUIRE()s, so only for Catch2 test files.
#ifndef LASTCALL_CRAFTED_LISTENER_H_
#define LASTCALL_CRAFTED_LISTENER_H_

#include <errno.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "base/unique_fd.h"
#include "base/wait_until.h"
#include "process/socket_watch.h"

namespace lastcall {
namespace crafted {

inline const std::string kRequest =
    "POST /payments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}";

// A crafted target: a listening socket on an ephemeral port of 127.0.0.1, or
// of `::` (dual-stack) for AF_INET6. It never accepts unless told to.
struct Listener {
  UniqueFd fd;
  int port = 0;
};

inline Listener Listen(int family = AF_INET) {
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

inline Client ConnectClient(int port) {
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

// A port on 127.0.0.1 the kernel just said was free: nothing listens there
// (until someone binds it).
inline int FreeLoopbackPort() {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  REQUIRE(bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) == 0);
  REQUIRE(getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
  return ntohs(address.sin_port);
}

inline void WriteAll(int fd, const std::string& bytes) {
  REQUIRE(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
}

inline UniqueFd Accept(const Listener& listener) {
  UniqueFd fd(accept4(listener.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  REQUIRE(fd.valid());
  return fd;
}

inline void ReadExactly(int fd, size_t count) {
  std::string bytes(count, '\0');
  size_t got = 0;
  while (got < count) {
    ssize_t n = recv(fd, &bytes[got], count - got, 0);
    REQUIRE(n > 0);
    got += static_cast<size_t>(n);
  }
}

// How the client's next read ends: 0 for EOF, else its errno.
inline int ReadEnd(const Client& client) {
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

  // The keep-alive race, played with the bare client socket: the target
  // accepts, reads the request and answers it, then closes the connection
  // while idle, and the client, not having seen the FIN yet, writes its
  // next request on it. Returns how the client's read then ends (ReadEnd).
  int CloseIdleUnderNextRequest() {
    UniqueFd accepted = Accept(listener);
    ReadExactly(accepted.get(), kRequest.size());
    const std::string response = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    WriteAll(accepted.get(), response);
    ReadExactly(client.fd.get(), response.size());
    REQUIRE(LookUntil(LiveSocket::kAccepted, 0));
    accepted.reset();
    WriteAll(client.fd.get(), kRequest);
    return ReadEnd(client);
  }

  bool AwaitEvents() {
    return watch->AwaitDestroyEvents(std::chrono::steady_clock::now() + std::chrono::seconds(10));
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

}  // namespace crafted
}  // namespace lastcall

#endif  // LASTCALL_CRAFTED_LISTENER_H_
