// The WebSocket clients against a real Beast server on loopback.
#include "client/websocket_load.h"

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <catch2/catch.hpp>

#include "base/wait_until.h"

using namespace lastcall;

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Socket = websocket::stream<tcp::socket>;

// A WebSocket server on 127.0.0.1 for one test: on its own thread, accepts
// `clients` connections (the load connects them all before Start returns),
// then runs `serve` on each in turn.
class TestServer {
 public:
  TestServer(int clients, std::function<void(Socket&)> serve)
      : acceptor_(io_, {net::ip::address_v4::loopback(), 0}) {
    thread_ = std::thread([this, clients, serve] {
      std::vector<std::unique_ptr<Socket>> sockets;
      for (int i = 0; i < clients; ++i) {
        tcp::socket socket(io_);
        acceptor_.accept(socket);
        sockets.push_back(std::make_unique<Socket>(std::move(socket)));
        sockets.back()->accept();
      }
      for (auto& socket : sockets) serve(*socket);
    });
  }
  ~TestServer() { thread_.join(); }
  int port() const { return acceptor_.local_endpoint().port(); }

 private:
  net::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

void Send(Socket& ws, int messages) {
  for (int i = 0; i < messages; ++i) ws.write(net::buffer(std::string("payment")));
}

}  // namespace

TEST_CASE("WebSocket clients count messages and keep the server's close code") {
  History history(1);
  TestServer server(2, [](Socket& ws) {
    Send(ws, 3);
    ws.close(websocket::close_code::going_away);
  });
  auto load = WebSocketLoad::Start(2, server.port(), "/ws", &history, std::chrono::seconds(5));
  REQUIRE(WaitUntil([&] { return load->open() == 0; }));
  load->Stop(std::chrono::seconds(1));
  REQUIRE(history.websockets().size() == 2);
  for (const WebSocketConnection& w : history.websockets()) {
    CHECK(w.connected >= w.connect_start);
    CHECK(w.messages == 3);
    CHECK(w.close_frame);
    CHECK(w.close_code == 1001);
    CHECK(w.close_time >= w.connected);
    CHECK(w.ended >= w.close_time);
    CHECK_FALSE(w.closed_by_lastcall);
    CHECK(w.error.empty());
  }
  CHECK(history.events().back().detail == "2 of 2 clients connected");
}

TEST_CASE("A TCP end without a close frame is recorded as such") {
  History history(1);
  TestServer server(1, [](Socket& ws) {
    Send(ws, 1);
    ws.next_layer().shutdown(tcp::socket::shutdown_both);
  });
  auto load = WebSocketLoad::Start(1, server.port(), "/ws", &history, std::chrono::seconds(5));
  REQUIRE(WaitUntil([&] { return load->open() == 0; }));
  load->Stop(std::chrono::seconds(1));
  const WebSocketConnection& w = history.websockets().at(0);
  CHECK(w.messages == 1);
  CHECK_FALSE(w.close_frame);
  CHECK(w.close_time == -1);
  CHECK(w.error == "eof");
}

TEST_CASE("Connections still open at Stop are closed by lastcall with 1000") {
  History history(1);
  TestServer server(1, [](Socket& ws) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (!ec) ws.read(buffer, ec);  // until the client's close frame
  });
  auto load = WebSocketLoad::Start(1, server.port(), "/ws", &history, std::chrono::seconds(5));
  CHECK(load->open() == 1);
  load->Stop(std::chrono::seconds(2));
  const WebSocketConnection& w = history.websockets().at(0);
  CHECK(w.closed_by_lastcall);
  CHECK(w.close_frame);  // the server's answer to ours
  CHECK(w.close_code == 1000);
}

TEST_CASE("A client that cannot connect gives up at its deadline") {
  int port = 0;
  {
    // A port nobody listens on once this block ends.
    net::io_context io;
    tcp::acceptor acceptor(io, {net::ip::address_v4::loopback(), 0});
    port = acceptor.local_endpoint().port();
  }
  History history(1);
  auto start = std::chrono::steady_clock::now();
  auto load = WebSocketLoad::Start(1, port, "/ws", &history, std::chrono::milliseconds(100));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  load->Stop(std::chrono::seconds(1));
  const WebSocketConnection& w = history.websockets().at(0);
  CHECK(w.connected == -1);
  CHECK(w.error == "refused");
  CHECK(history.events().back().detail == "0 of 1 clients connected");
}
