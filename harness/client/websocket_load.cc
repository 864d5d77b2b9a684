#include "client/websocket_load.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace lastcall {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// Between two connects refused because the target is not listening yet.
constexpr std::chrono::milliseconds kRetryPause{10};
// The upgrade, and a close handshake lastcall starts, each wait this long
// at most for the server's answer (Stop() bounds the latter further).
constexpr std::chrono::seconds kHandshakeTimeout{5};
// After the sockets are dropped, the aborted operations end at once; this
// only bounds the wait for their handlers.
constexpr std::chrono::milliseconds kDropTimeout{200};

std::string ErrorName(const beast::error_code& ec) {
  if (ec == net::error::eof || ec == beast::http::error::end_of_stream) return "eof";
  if (ec == net::error::connection_reset) return "reset";
  if (ec == net::error::connection_refused) return "refused";
  if (ec == net::error::operation_aborted) return "aborted";
  if (ec == beast::error::timeout) return "timeout";
  return ec.message();
}

}  // namespace

// One client and its connection. Lives on the load's thread: every member
// is touched there only, so nothing here locks.
class WebSocketClient : public std::enable_shared_from_this<WebSocketClient> {
 public:
  WebSocketClient(net::io_context& io, int client, tcp::endpoint endpoint, std::string path,
                  History* history, Clock::time_point deadline, WebSocketLoad* load)
      : ws_(io),
        retry_(io),
        endpoint_(endpoint),
        path_(std::move(path)),
        history_(history),
        connect_deadline_(deadline),
        load_(load) {
    record_.client = client;
  }

  void Connect() {
    if (record_.connect_start < 0) record_.connect_start = history_->Now();
    beast::get_lowest_layer(ws_).expires_at(connect_deadline_);
    beast::get_lowest_layer(ws_).async_connect(
        endpoint_, [self = shared_from_this()](beast::error_code ec) { self->OnConnect(ec); });
  }

  // lastcall's own close at the end of the run. A connection whose server
  // has already sent its close frame is finishing its handshake: left be.
  void Close() {
    if (record_.connected < 0 || record_.ended >= 0 || record_.close_time >= 0) return;
    record_.closed_by_lastcall = true;
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](beast::error_code ec) {
                      if (!ec) self->RecordCloseFrame();
                      self->Finish(ec ? ErrorName(ec) : "");
                    });
  }

  void Drop() {
    retry_.cancel();
    beast::get_lowest_layer(ws_).close();
  }

  const WebSocketConnection& record() const { return record_; }

 private:
  void OnConnect(beast::error_code ec) {
    if (ec == net::error::connection_refused && Clock::now() < connect_deadline_) {
      beast::get_lowest_layer(ws_).close();
      retry_.expires_after(kRetryPause);
      retry_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec) return self->Finish(ErrorName(ec));
        self->Connect();
      });
      return;
    }
    if (ec) return Finish(ErrorName(ec));
    beast::get_lowest_layer(ws_).expires_never();
    // The server may stay silent for as long as it likes; no pings, they
    // would be messages of our own in its history.
    ws_.set_option(
        websocket::stream_base::timeout{kHandshakeTimeout, websocket::stream_base::none(), false});
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::close && record_.close_time < 0)
        record_.close_time = history_->Now();
    });
    ws_.async_handshake(
        endpoint_.address().to_string() + ":" + std::to_string(endpoint_.port()), path_,
        [self = shared_from_this()](beast::error_code ec) { self->OnHandshake(ec); });
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) return Finish(ErrorName(ec));
    record_.connected = history_->Now();
    load_->OnSettled(true);
    Read();
  }

  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(beast::error_code ec) {
    if (!ec) {
      ++record_.messages;
      buffer_.consume(buffer_.size());
      return Read();
    }
    if (ec == websocket::error::closed) {
      RecordCloseFrame();
      return Finish("");
    }
    // The close lastcall started aborts the read; its own handler reports.
    if (record_.closed_by_lastcall && ec == net::error::operation_aborted) return;
    Finish(ErrorName(ec));
  }

  void RecordCloseFrame() {
    record_.close_frame = true;
    // A close frame without a status code reads as 0; RFC 6455 calls it 1005.
    record_.close_code = ws_.reason().code ? ws_.reason().code : 1005;
  }

  void Finish(const std::string& error) {
    if (record_.ended >= 0) return;
    record_.ended = history_->Now();
    record_.error = error;
    if (record_.connected < 0) load_->OnSettled(false);
    load_->OnFinished(record_.connected >= 0);
  }

  websocket::stream<beast::tcp_stream> ws_;
  net::steady_timer retry_;
  tcp::endpoint endpoint_;
  std::string path_;
  History* history_;
  Clock::time_point connect_deadline_;
  WebSocketLoad* load_;
  beast::flat_buffer buffer_;
  WebSocketConnection record_;
};

WebSocketLoad::WebSocketLoad(History* history)
    : history_(history), work_(net::make_work_guard(io_)) {}

std::unique_ptr<WebSocketLoad> WebSocketLoad::Start(int clients, int port, const std::string& path,
                                                    History* history, Duration connect_timeout) {
  std::unique_ptr<WebSocketLoad> load(new WebSocketLoad(history));
  Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(connect_timeout);
  tcp::endpoint endpoint(net::ip::address_v4::loopback(), static_cast<unsigned short>(port));
  for (int i = 0; i < clients; ++i)
    load->clients_.push_back(std::make_shared<WebSocketClient>(load->io_, i, endpoint, path,
                                                               history, deadline, load.get()));
  for (const auto& client : load->clients_) net::post(load->io_, [client] { client->Connect(); });
  load->thread_ = std::thread([io = &load->io_] { io->run(); });
  // Every wait of a client ends by the deadline (connect) or the handshake
  // timeout after it.
  load->WaitFor(&WebSocketLoad::settled_, deadline + kHandshakeTimeout);
  int connected = 0;
  {
    MutexLock lock(&load->mutex_);
    connected = load->connected_;
  }
  history->Record("websockets", std::to_string(connected) + " of " + std::to_string(clients) +
                                    " clients connected");
  return load;
}

WebSocketLoad::~WebSocketLoad() { Stop(Duration(0)); }

void WebSocketLoad::WaitFor(int WebSocketLoad::*count, Clock::time_point deadline) {
  MutexLock lock(&mutex_);
  while (this->*count < static_cast<int>(clients_.size())) {
    if (!changed_.WaitUntil(deadline)) return;
  }
}

void WebSocketLoad::OnSettled(bool connected) {
  MutexLock lock(&mutex_);
  ++settled_;
  connected_ += connected;
  changed_.NotifyAll();
}

void WebSocketLoad::OnFinished(bool connected) {
  MutexLock lock(&mutex_);
  ++finished_;
  finished_connected_ += connected;
  changed_.NotifyAll();
}

void WebSocketLoad::Stop(Duration timeout) {
  if (!thread_.joinable()) return;
  net::post(io_, [this] {
    for (const auto& client : clients_) client->Close();
  });
  WaitFor(&WebSocketLoad::finished_,
          Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout));
  net::post(io_, [this] {
    for (const auto& client : clients_) client->Drop();
  });
  WaitFor(&WebSocketLoad::finished_, Clock::now() + kDropTimeout);
  work_.reset();
  io_.stop();
  thread_.join();
  for (const auto& client : clients_) {
    WebSocketConnection record = client->record();
    if (record.ended < 0) {  // its aborted operation never reported back
      record.ended = history_->Now();
      record.error = "aborted";
    }
    history_->AddWebSocket(record);
  }
}

}  // namespace lastcall
