// What one look of the socket watch costs with N idle client connections on
// the watched port (accepted, as a target's kept-alive clients are), so that
// the watch thread's interval can be chosen knowing its price: the thread
// never looks more often than twice a look's time. A whole look (BM_Look)
// walks every bucket of the kernel's TCP hash table whatever the port holds
// (arg 0 is that fixed part); a look at the connections' ports (BM_LookAt,
// what the watch thread does during a load) is one hash lookup each.
#include <memory>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "base/unique_fd.h"
#include "history/history.h"
#include "process/socket_watch.h"

namespace lastcall {
namespace {

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A listener on 127.0.0.1 and `count` connections to it, both ends open and
// idle. error is set when the machine would not make them.
struct IdleConnections {
  UniqueFd listener;
  uint16_t port = 0;
  std::vector<UniqueFd> clients, accepted;
  std::string error;

  explicit IdleConnections(int count) {
    listener.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address = Loopback(0);
    socklen_t length = sizeof address;
    auto* a = reinterpret_cast<sockaddr*>(&address);
    if (bind(listener.get(), a, length) != 0 || listen(listener.get(), 64) != 0 ||
        getsockname(listener.get(), a, &length) != 0) {
      error = "cannot listen on 127.0.0.1";
      return;
    }
    port = ntohs(address.sin_port);
    for (int i = 0; i < count; ++i) {
      UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (connect(client.get(), a, length) != 0) {
        error = "connection " + std::to_string(i) + " failed (too few descriptors?)";
        return;
      }
      clients.push_back(std::move(client));
      accepted.emplace_back(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    }
  }
};

// A watch on the port of `connections`; nullptr, with the benchmark skipped
// and told why, when either could not be made.
std::unique_ptr<SocketWatch> WatchOn(const IdleConnections& connections, const History& clock,
                                     benchmark::State& state) {
  std::string why;
  std::unique_ptr<SocketWatch> watch =
      connections.error.empty() ? SocketWatch::Open(connections.port, &clock, &why) : nullptr;
  if (!watch) state.SkipWithError((connections.error + why).c_str());
  return watch;
}

void BM_Look(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  IdleConnections connections(count);
  const History clock(0);
  std::unique_ptr<SocketWatch> watch = WatchOn(connections, clock, state);
  if (!watch) return;
  LiveTable live;
  for (auto _ : state) {
    if (!watch->Look(&live) || live.sockets.size() != static_cast<size_t>(count)) {
      state.SkipWithError("a look did not show every connection");
      break;
    }
  }
  state.counters["sockets"] = static_cast<double>(live.sockets.size());
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_Look)->Arg(0)->Arg(16)->Arg(256)->Arg(2048)->Unit(benchmark::kMicrosecond);

void BM_LookAt(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  IdleConnections connections(count);
  const History clock(0);
  std::unique_ptr<SocketWatch> watch = WatchOn(connections, clock, state);
  if (!watch) return;
  std::vector<uint16_t> ports;
  for (const UniqueFd& client : connections.clients) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    getsockname(client.get(), reinterpret_cast<sockaddr*>(&address), &length);
    ports.push_back(ntohs(address.sin_port));
  }
  LiveTable live;
  for (auto _ : state) {
    if (!watch->LookAt(ports, &live) || live.sockets.size() != static_cast<size_t>(count)) {
      state.SkipWithError("a look did not show every connection");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_LookAt)->Arg(16)->Arg(256)->Arg(2048)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace lastcall
