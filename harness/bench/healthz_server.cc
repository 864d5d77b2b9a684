// The cheapest HTTP endpoint there is, for scripts/bench-wrk.sh: GET /healthz
// answers 200 "ok" on keep-alive connections, with TCP_NODELAY and a thread
// per connection, so that the server is not what limits the load generators
// being compared. (The reference target leaves Nagle's algorithm on, which
// with delayed ACKs holds each keep-alive answer ~40 ms.)
//   healthz_server --port N      SIGTERM's default action ends it
#include <httplib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace {

constexpr int kThreads = 256;  // at least one per connection of the benchmark

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--port") != 0) {
    std::fprintf(stderr, "usage: %s --port N\n", argv[0]);
    return 2;
  }
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  // Set on the listening socket, TCP_NODELAY is inherited by the accepted
  // ones (Linux); Debian's httplib is built with it off.
  server.set_socket_options([](socket_t sock) {
    httplib::default_socket_options(sock);
    int on = 1;
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  return server.listen("127.0.0.1", std::atoi(argv[2])) ? 0 : 1;
}
