// The history: every request attempt and every lifecycle or nemesis event of a
// scenario run, with monotonic timestamps (nanoseconds since the run's epoch).
// Clients append to their own attempt list without locking; events are rare
// and go through a mutex. Written out as Jepsen-style JSONL (invoke / ok /
// fail / info) so that Jepsen-ecosystem checkers can read it.
#ifndef LASTCALL_HISTORY_H_
#define LASTCALL_HISTORY_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace lastcall {

// What an attempt's ending means for the payment.
enum class Outcome {
  kOk,       // 2xx: the server says it is applied
  kFailed,   // definitely not applied: refused, write failed, 4xx, 503
  kUnknown,  // may or may not be applied: reset/EOF after writing, timeout, other 5xx
};

// Why an attempt ended without an HTTP response, if it did.
enum class NetError {
  kNone,
  kRefused,      // connect() refused: nothing listens
  kConnect,      // connect() failed otherwise or timed out
  kWriteFailed,  // EPIPE/ECONNRESET while writing: the server never read it
  kReset,        // ECONNRESET after the request was written
  kEof,          // the server closed the connection without answering
  kTimeout,      // no answer within request.timeout
  kBadResponse,  // unparsable HTTP
};

const char* OutcomeName(Outcome outcome);
// The outcome of an attempt that ended with HTTP `status` (0 if none) or
// network `error`.
Outcome Classify(int status, NetError error);
// The outcome of a key whose earlier attempts came to `so_far`, after one more
// attempt ended with `next`: ok if any attempt was acknowledged; else unknown
// if any may have been applied (a later refused retry says nothing about an
// earlier timed-out attempt); else failed.
Outcome CombineOutcomes(Outcome so_far, Outcome next);
const char* NetErrorName(NetError error);

// Why an attempt ended as it did, as far as the target's side of the
// connection is concerned: from its HTTP answer, or, for a connection that
// ended without one, from the kernel's view of the target's socket (see
// socket_watch.h and causes.h). docs/checks.md defines each.
enum class Cause : uint8_t {
  kNone,                  // answered (2xx, 4xx)
  kHttp503,               // answered 503: a refusal the client may retry
  kHttp503InFlight,       // answered 503, read before the graceful signal: work abandoned
  kHttp5xx,               // answered with another 5xx
  kRefused,               // connect() refused: no listener
  kConnectFailed,         // connect() failed otherwise or timed out
  kResetInAcceptQueue,    // never accepted: the listener closed with it queued
  kResetUnread,           // accepted, the request in the target's socket, never read
  kDroppedAfterRead,      // read by the target, then closed without an answer
  kClosedBeforeRequest,   // a new connection the target closed before the request reached it
  kClosedIdleKeepAlive,   // a reused connection the target closed before the request reached it
  kClosedAfterKeepAlive,  // the same, after a response during a drain that kept it alive
  kTimeout,               // no answer within request.timeout
  kBadResponse,           // an answer that is not HTTP
  kNoKernelRecord,        // ended without an answer; the kernel showed nothing of its server side
};
const char* CauseName(Cause cause);

// One HTTP request attempt. Times are ns since the run epoch; -1 = never.
struct Attempt {
  int64_t seq = 0;         // the request (key) number, 0-based
  int attempt = 1;         // 1 for the first try of a key, 2 for its first retry...
  int client = 0;          // the client (lane)
  int64_t connection = 0;  // connection id, unique in the run
  bool reused_connection = false;
  int64_t send_start = -1;
  int64_t send_end = -1;  // request fully written
  int64_t done = -1;      // response complete or failure seen
  int status = 0;         // HTTP status, 0 if none
  NetError error = NetError::kNone;
  Outcome outcome = Outcome::kUnknown;
  Cause cause = Cause::kNone;  // set by ClassifyAttempts() after the run
  // The response let the connection be reused (HTTP/1.1 without
  // `Connection: close`).
  bool keep_alive = false;
  uint16_t local_port = 0;  // the client's port: the target's socket's peer port
  uint32_t request_size = 0;
  // Bytes written on this connection up to the end of this request: the
  // target has read the request once it has read this many.
  uint64_t request_end = 0;
  // Bytes received on this connection up to the end of the response: the
  // target had sent it once it had sent this many. 0 without a response.
  uint64_t response_end = 0;
};

// One WebSocket client's connection (load.websockets). Times are ns since
// the run epoch; -1 = never.
struct WebSocketConnection {
  int client = 0;
  int64_t connect_start = -1;
  int64_t connected = -1;  // the upgrade succeeded
  int64_t messages = 0;    // received from the server
  // A close frame came from the server (close_code is its code; 1005 when
  // it carried none), at close_time.
  bool close_frame = false;
  int close_code = 0;
  int64_t close_time = -1;
  // lastcall closed it itself at the end of the run (code 1000): the
  // target's part in it is not judged.
  bool closed_by_lastcall = false;
  int64_t ended = -1;  // the TCP connection ended, or the connect failed
  std::string error;   // how it ended without a close frame: "eof", ...
};

// A lifecycle or nemesis event (target start/ready/exit, signal, restart...).
struct Event {
  int64_t time = 0;
  std::string kind;    // e.g. "signal", "target_exit"
  std::string detail;  // human-readable, e.g. "TERM to process 1234"
  int instance = 0;    // which target instance, 1-based; 0 = none
};

class History {
 public:
  explicit History(int clients);

  // The run epoch: all times are relative to it.
  std::chrono::steady_clock::time_point epoch() const { return epoch_; }
  int64_t Now() const;
  int64_t Since(std::chrono::steady_clock::time_point t) const;

  // Per-client attempt lists. Only client `c` appends to attempts(c) while
  // the load runs; read them only after the load has stopped.
  std::vector<Attempt>& attempts(int client) { return attempts_[client]; }
  const std::vector<std::vector<Attempt>>& all_attempts() const { return attempts_; }

  // Records an event now (thread-safe). Returns its time.
  int64_t Record(const std::string& kind, const std::string& detail, int instance = 0);
  // Records an event that happened at `time` (thread-safe).
  void RecordAt(int64_t time, const std::string& kind, const std::string& detail, int instance = 0);
  // A copy of the events, sorted by time.
  std::vector<Event> events() const;

  // The WebSocket clients' connections. Add only once the clients have
  // stopped (not thread-safe); read after that.
  void AddWebSocket(const WebSocketConnection& connection) { websockets_.push_back(connection); }
  const std::vector<WebSocketConnection>& websockets() const { return websockets_; }

  // Each request's outcome over all its attempts (CombineOutcomes), indexed
  // by seq; nullopt for a seq no attempt was made for (sequence numbers are
  // dense, so a vector, where a map of a million requests took 5 % of the
  // audit). Read only after the load has stopped.
  std::vector<std::optional<Outcome>> KeyOutcomes() const;

  // The idempotency key of request `seq`: unique within the run, the same for
  // every retry of that request.
  static std::string KeyFor(uint64_t seed, int64_t seq);
  // The seq whose KeyFor(seed, seq) is `key`; nullopt when there is none
  // (another seed, not a key of ours, "lc-1-07").
  static std::optional<int64_t> SeqOfKey(uint64_t seed, std::string_view key);

  // Writes the history as JSONL, one Jepsen-style operation per line, in time
  // order: an invoke and a completion (ok / fail / info) per attempt, and
  // nemesis/lifecycle events as info operations of process "nemesis", and
  // each WebSocket connection as an invoke (connect) and a completion (its
  // end) of f "websocket", process "websocket-N". Lines
  // are formatted as they are written: memory beyond the history itself is
  // 16 bytes per line.
  void WriteJsonl(std::ostream& out, uint64_t seed) const;

 private:
  std::chrono::steady_clock::time_point epoch_;
  std::vector<std::vector<Attempt>> attempts_;
  mutable std::mutex events_mutex_;
  std::vector<Event> events_;
  std::vector<WebSocketConnection> websockets_;
};

}  // namespace lastcall

#endif  // LASTCALL_HISTORY_H_
