#include "websocket.h"

#include <deque>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr char kPath[] = "/ws";
// A client that connects must send its upgrade request within this time.
constexpr std::chrono::seconds kRequestTimeout{5};

}  // namespace

// One client connection. Lives on the hub's thread only: every member is
// touched there, so nothing here locks.
class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(tcp::socket socket, WebSocketHub* hub) : ws_(std::move(socket)), hub_(hub) {}

  // Reads the HTTP upgrade request: GET /ws becomes a WebSocket, anything
  // else gets a 404 and the connection ends.
  void start() {
    beast::get_lowest_layer(ws_).expires_after(kRequestTimeout);
    http::async_read(
        ws_.next_layer(), buffer_, request_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_request(ec); });
  }

  void send(const std::shared_ptr<const std::string>& message) {
    if (!open_ || closing_) return;
    queue_.push_back(message);
    write_next();
  }

  // Close frame 1001 after the queued messages; a connection still in its
  // upgrade is dropped (it is no WebSocket yet).
  void close_going_away() {
    closing_ = true;
    if (!open_) return drop();
    write_next();
  }

  void drop() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

 private:
  void on_request(beast::error_code ec) {
    if (ec) return end();
    beast::get_lowest_layer(ws_).expires_never();
    if (!websocket::is_upgrade(request_) || request_.target() != kPath) return not_found();
    // The close handshake is bounded by close_all()'s deadline, and the
    // clients may stay silent for as long as they like.
    websocket::stream_base::timeout timeout{std::chrono::seconds(5), websocket::stream_base::none(),
                                            false};
    ws_.set_option(timeout);
    ws_.async_accept(request_,
                     [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  void not_found() {
    response_ = {http::status::not_found, request_.version()};
    response_.set(http::field::content_type, "text/plain");
    response_.body() = "WebSocket feed only at GET /ws\n";
    response_.keep_alive(false);
    response_.prepare_payload();
    http::async_write(ws_.next_layer(), response_,
                      [self = shared_from_this()](beast::error_code, std::size_t) {
                        self->drop();
                        self->end();
                      });
  }

  void on_accept(beast::error_code ec) {
    if (ec) return end();
    open_ = true;
    read();
    write_next();  // a close may have been asked for during the upgrade
  }

  // Reads until the connection ends; what clients send is ignored, but the
  // read is what sees their close frame and their disconnects.
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->end();
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  // One write at a time (Beast allows no more); the close frame goes last.
  void write_next() {
    if (!open_ || writing_ || close_sent_) return;
    if (queue_.empty()) {
      if (closing_) {
        close_sent_ = true;
        ws_.async_close(websocket::close_code::going_away,
                        [self = shared_from_this()](beast::error_code) {});
      }
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      self->writing_ = false;
                      self->queue_.pop_front();
                      if (!ec) self->write_next();
                    });
  }

  void end() {
    if (ended_) return;
    ended_ = true;
    hub_->forget(shared_from_this());
  }

  websocket::stream<beast::tcp_stream> ws_;
  WebSocketHub* hub_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  bool open_ = false;  // the upgrade is done
  bool writing_ = false;
  bool closing_ = false;  // close_going_away() was called
  bool close_sent_ = false;
  bool ended_ = false;
};

WebSocketHub::WebSocketHub() : acceptor_(io_) {}

WebSocketHub::~WebSocketHub() { stop(); }

bool WebSocketHub::start(const std::string& host, int port, std::string* error) {
  beast::error_code ec;
  tcp::endpoint endpoint(net::ip::make_address(host, ec), static_cast<unsigned short>(port));
  if (!ec) acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    *error = ec.message();
    return false;
  }
  accept();
  thread_ = std::thread([this] {
    auto work = net::make_work_guard(io_);
    io_.run();
  });
  return true;
}

void WebSocketHub::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // the acceptor was closed
    auto session = std::make_shared<WebSocketSession>(std::move(socket), this);
    sessions_.insert(session);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++open_;
    }
    session->start();
    accept();
  });
}

void WebSocketHub::broadcast(std::string message) {
  if (!started()) return;
  auto shared = std::make_shared<const std::string>(std::move(message));
  net::post(io_, [this, shared] {
    for (const auto& session : sessions_) session->send(shared);
  });
}

void WebSocketHub::forget(const std::shared_ptr<WebSocketSession>& session) {
  sessions_.erase(session);
  std::lock_guard<std::mutex> lock(mutex_);
  --open_;
  sessions_changed_.notify_all();
}

int WebSocketHub::close_all(std::chrono::steady_clock::time_point deadline) {
  if (!started()) return 0;
  int open = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    open = open_;
  }
  net::post(io_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    for (const auto& session : sessions_) session->close_going_away();
  });
  std::unique_lock<std::mutex> lock(mutex_);
  sessions_changed_.wait_until(lock, deadline, [this] { return open_ == 0; });
  lock.unlock();
  stop();
  return open;
}

void WebSocketHub::drop_all() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  for (const auto& session : sessions_) session->drop();
}

// Closes the sockets left and ends the thread at once: the handlers of the
// operations this aborts are not waited for.
void WebSocketHub::stop() {
  if (!thread_.joinable()) return;
  net::post(io_, [this] {
    drop_all();
    io_.stop();
  });
  thread_.join();
}
