#include "history/history.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <tuple>

#include <nlohmann/json.hpp>

namespace lastcall {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

Outcome Classify(int status, NetError error) {
  if (status == 0) {
    switch (error) {
      case NetError::kRefused:
      case NetError::kConnect:
      case NetError::kWriteFailed:
        return Outcome::kFailed;
      default:
        return Outcome::kUnknown;
    }
  }
  if (status >= 200 && status < 300) return Outcome::kOk;
  if ((status >= 400 && status < 500) || status == 503) return Outcome::kFailed;
  return Outcome::kUnknown;
}

Outcome CombineOutcomes(Outcome so_far, Outcome next) {
  if (next == Outcome::kOk || (next == Outcome::kUnknown && so_far == Outcome::kFailed))
    return next;
  return so_far;
}

const char* NetErrorName(NetError error) {
  switch (error) {
    case NetError::kNone:
      return "none";
    case NetError::kRefused:
      return "refused";
    case NetError::kConnect:
      return "connect";
    case NetError::kWriteFailed:
      return "write_failed";
    case NetError::kReset:
      return "reset";
    case NetError::kEof:
      return "eof";
    case NetError::kTimeout:
      return "timeout";
    case NetError::kBadResponse:
      return "bad_response";
  }
  return "?";
}

const char* CauseName(Cause cause) {
  switch (cause) {
    case Cause::kNone:
      return "answered";
    case Cause::kHttp503:
      return "HTTP 503";
    case Cause::kHttp503InFlight:
      return "HTTP 503 in flight";
    case Cause::kHttp5xx:
      return "HTTP 5xx";
    case Cause::kRefused:
      return "refused";
    case Cause::kConnectFailed:
      return "connect failed";
    case Cause::kResetInAcceptQueue:
      return "reset in accept queue";
    case Cause::kResetUnread:
      return "reset unread";
    case Cause::kDroppedAfterRead:
      return "dropped after read";
    case Cause::kClosedBeforeRequest:
      return "closed before request";
    case Cause::kClosedIdleKeepAlive:
      return "closed idle keep-alive";
    case Cause::kClosedAfterKeepAlive:
      return "closed after keep-alive response";
    case Cause::kTimeout:
      return "timeout";
    case Cause::kBadResponse:
      return "bad response";
    case Cause::kNoKernelRecord:
      return "no kernel record";
  }
  return "?";
}

History::History(int clients) : epoch_(std::chrono::steady_clock::now()), attempts_(clients) {}

int64_t History::Now() const { return Since(std::chrono::steady_clock::now()); }

int64_t History::Since(std::chrono::steady_clock::time_point t) const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t - epoch_).count();
}

int64_t History::Record(const std::string& kind, const std::string& detail, int instance) {
  int64_t now = Now();
  RecordAt(now, kind, detail, instance);
  return now;
}

void History::RecordAt(int64_t time, const std::string& kind, const std::string& detail,
                       int instance) {
  std::lock_guard<std::mutex> lock(events_mutex_);
  events_.push_back(Event{time, kind, detail, instance});
}

std::vector<Event> History::events() const {
  std::vector<Event> copy;
  {
    std::lock_guard<std::mutex> lock(events_mutex_);
    copy = events_;
  }
  std::stable_sort(copy.begin(), copy.end(),
                   [](const Event& a, const Event& b) { return a.time < b.time; });
  return copy;
}

std::vector<std::optional<Outcome>> History::KeyOutcomes() const {
  int64_t last_seq = -1;
  for (const auto& client : attempts_)
    for (const Attempt& a : client) last_seq = std::max(last_seq, a.seq);
  std::vector<std::optional<Outcome>> outcomes(static_cast<size_t>(last_seq + 1));
  for (const auto& client : attempts_) {
    for (const Attempt& a : client) {
      std::optional<Outcome>& key = outcomes[static_cast<size_t>(a.seq)];
      key = key ? CombineOutcomes(*key, a.outcome) : a.outcome;
    }
  }
  return outcomes;
}

namespace {

// Writes into a char buffer without bounds checks: the caller makes sure
// there is room (kMaxAttemptLine for an attempt's line). strings and
// ostreams cost more than the formatting itself over two million lines.
class Cursor {
 public:
  explicit Cursor(char* at) : at_(at) {}
  char* at() const { return at_; }
  template <size_t N>
  Cursor& Literal(const char (&text)[N]) {
    std::memcpy(at_, text, N - 1);
    at_ += N - 1;
    return *this;
  }
  // One of our names (an outcome, an error): short, nothing to escape.
  Cursor& Name(const char* text) {
    const size_t n = std::strlen(text);
    std::memcpy(at_, text, n);
    at_ += n;
    return *this;
  }
  template <typename Integer>
  Cursor& Number(Integer value) {
    at_ = std::to_chars(at_, at_ + kMaxDigits, value).ptr;
    return *this;
  }
  Cursor& Key(uint64_t seed, int64_t seq) {
    return Literal("lc-").Number(seed).Literal("-").Number(seq);
  }
  static constexpr size_t kMaxDigits = 20;  // INT64_MIN, UINT64_MAX
  static constexpr size_t kMaxKey = 3 + 2 * kMaxDigits + 1;

 private:
  char* at_;
};

}  // namespace

std::string History::KeyFor(uint64_t seed, int64_t seq) {
  char text[Cursor::kMaxKey];
  return std::string(text, Cursor(text).Key(seed, seq).at());
}

std::optional<int64_t> History::SeqOfKey(uint64_t seed, std::string_view key) {
  const std::string prefix = KeyFor(seed, 0);  // "lc-<seed>-0"
  const size_t digits = prefix.size() - 1;
  if (key.size() <= digits || key.compare(0, digits, prefix, 0, digits) != 0) return std::nullopt;
  int64_t seq = 0;
  const char* end = key.data() + key.size();
  auto [ptr, error] = std::from_chars(key.data() + digits, end, seq);
  // One spelling per number: no sign, no leading zero, nothing after it.
  bool canonical = ptr == end && error == std::errc() && seq >= 0 &&
                   (key[digits] != '0' || key.size() == digits + 1);
  if (!canonical) return std::nullopt;
  return seq;
}

namespace {

// Jepsen's completion types: ok = happened, fail = did not, info = unknown.
const char* JepsenType(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kFailed:
      return "fail";
    case Outcome::kUnknown:
      return "info";
  }
  return "info";
}

// The longest attempt line: 270 bytes of keys and names, six numbers and a
// key, the newline; rounded up.
constexpr size_t kMaxAttemptLine = 512;
static_assert(kMaxAttemptLine > 290 + 6 * Cursor::kMaxDigits + Cursor::kMaxKey);

// An attempt's invoke or completion line, its keys in nlohmann::json's
// (sorted) order, at `out`, which has room for kMaxAttemptLine. Written by
// hand: a million attempts are two million lines, and a json object per
// line took seconds and hundreds of MB. Every string in it is ours (keys,
// names), so nothing needs escaping. Returns the end of the line.
char* WriteAttemptLine(const Attempt& a, bool completion, uint64_t seed, char* out) {
  Cursor line(out);
  line.Literal("{\"f\":\"pay\",\"process\":").Number(a.client);
  line.Literal(",\"time\":").Number(completion ? a.done : a.send_start);
  line.Literal(",\"type\":\"").Name(completion ? JepsenType(a.outcome) : "invoke");
  line.Literal("\",\"value\":{\"attempt\":").Number(a.attempt);
  if (completion) line.Literal(",\"cause\":\"").Name(CauseName(a.cause)).Literal("\"");
  line.Literal(",\"connection\":").Number(a.connection);
  if (completion) line.Literal(",\"error\":\"").Name(NetErrorName(a.error)).Literal("\"");
  line.Literal(",\"key\":\"").Key(seed, a.seq).Literal("\"");
  if (completion) {
    line.Literal(",\"outcome\":\"").Name(OutcomeName(a.outcome));
    line.Literal("\",\"reused_connection\":").Name(a.reused_connection ? "true" : "false");
    line.Literal(",\"send_end\":").Number(a.send_end);
    line.Literal(",\"status\":").Number(a.status);
  }
  return line.Literal("}}\n").at();
}

// One line of JSON; bytes that are not UTF-8 are replaced, not thrown on.
std::string EventJson(const Event& e) {
  nlohmann::json line = {{"type", "info"},
                         {"f", e.kind},
                         {"process", "nemesis"},
                         {"time", e.time},
                         {"value", e.detail}};
  if (e.instance > 0) line["instance"] = e.instance;
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A WebSocket connection's invoke line (its connect) or completion line
// (its end): ok when the server closed it with a close frame, fail when it
// never connected, info when the TCP connection ended without one.
std::string WebSocketJson(const WebSocketConnection& w, bool completion) {
  nlohmann::json value = {{"client", w.client}};
  const char* type = "invoke";
  if (completion) {
    type = w.connected < 0 ? "fail" : w.close_frame ? "ok" : "info";
    value["connected"] = w.connected;
    value["messages"] = w.messages;
    value["close_frame"] = w.close_frame;
    value["close_code"] = w.close_frame ? nlohmann::json(w.close_code) : nlohmann::json();
    value["close_time"] = w.close_time;
    value["closed_by_lastcall"] = w.closed_by_lastcall;
    value["error"] = w.error;
  }
  nlohmann::json line = {{"type", type},
                         {"f", "websocket"},
                         {"process", "websocket-" + std::to_string(w.client)},
                         {"time", completion ? w.ended : w.connect_start},
                         {"value", value}};
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A line to be written, sorted by time; on equal times, attempts before
// WebSocket connections before events, client by client, each attempt's invoke before its
// completion (the order the lines are listed in). 16 bytes: the history's lines are formatted only
// as they are written.
struct LineRef {
  static constexpr uint32_t kEvents = UINT32_MAX;
  static constexpr uint32_t kWebSockets = UINT32_MAX - 1;
  int64_t time;
  uint32_t source;  // the client's attempt list, kWebSockets or kEvents
  // attempt or WebSocket index * 2 (+ 1 for its completion), or event index
  uint32_t slot;
  bool operator<(const LineRef& o) const {
    return std::tie(time, source, slot) < std::tie(o.time, o.source, o.slot);
  }
};

// The lines of every source (a client's attempts, the WebSocket
// connections, the events), each list sorted, merged into one order.
// A client makes one attempt at a time, so its lines come sorted already:
// the merge costs n log(sources) where sorting all of them, n log n, took
// an eighth of the time of a two-million-line history.
class LineMerge {
 public:
  explicit LineMerge(std::vector<std::vector<LineRef>> sources) : sources_(std::move(sources)) {
    for (std::vector<LineRef>& lines : sources_) {
      if (!std::is_sorted(lines.begin(), lines.end())) std::sort(lines.begin(), lines.end());
      if (!lines.empty()) heads_.push_back({lines.data(), lines.data() + lines.size()});
    }
    std::make_heap(heads_.begin(), heads_.end(), Later);
  }
  // The next line in time order; false when there is none.
  bool Next(LineRef* line) {
    if (heads_.empty()) return false;
    std::pop_heap(heads_.begin(), heads_.end(), Later);
    Head& head = heads_.back();
    *line = *head.next++;
    if (head.next == head.end)
      heads_.pop_back();
    else
      std::push_heap(heads_.begin(), heads_.end(), Later);
    return true;
  }

 private:
  struct Head {
    const LineRef* next;
    const LineRef* end;
  };
  static bool Later(const Head& a, const Head& b) { return *b.next < *a.next; }
  std::vector<std::vector<LineRef>> sources_;
  std::vector<Head> heads_;  // a min-heap by next line
};

// Lines gathered into blocks of 1 MiB before they go to the stream.
class BlockWriter {
 public:
  explicit BlockWriter(std::ostream& out) : out_(out), block_(kBlock) {}
  // Room for one attempt line; Commit() its end.
  char* Reserve() {
    if (block_.size() - used_ < kMaxAttemptLine) Flush();
    return block_.data() + used_;
  }
  void Commit(char* end) { used_ = static_cast<size_t>(end - block_.data()); }
  void Append(const std::string& line) {
    if (block_.size() - used_ < line.size()) Flush();
    if (line.size() > block_.size()) {
      out_.write(line.data(), static_cast<std::streamsize>(line.size()));
      return;
    }
    std::memcpy(block_.data() + used_, line.data(), line.size());
    used_ += line.size();
  }
  void Flush() {
    out_.write(block_.data(), static_cast<std::streamsize>(used_));
    used_ = 0;
  }

 private:
  static constexpr size_t kBlock = 1 << 20;
  std::ostream& out_;
  std::vector<char> block_;
  size_t used_ = 0;
};

}  // namespace

void History::WriteJsonl(std::ostream& out, uint64_t seed) const {
  const std::vector<Event> events = this->events();
  std::vector<std::vector<LineRef>> sources(attempts_.size() + 2);
  for (uint32_t c = 0; c < attempts_.size(); ++c) {
    std::vector<LineRef>& lines = sources[c];
    lines.reserve(2 * attempts_[c].size());
    for (uint32_t i = 0; i < attempts_[c].size(); ++i) {
      lines.push_back({attempts_[c][i].send_start, c, 2 * i});
      lines.push_back({attempts_[c][i].done, c, 2 * i + 1});
    }
  }
  for (uint32_t i = 0; i < websockets_.size(); ++i) {
    sources[attempts_.size()].push_back(
        {websockets_[i].connect_start, LineRef::kWebSockets, 2 * i});
    sources[attempts_.size()].push_back({websockets_[i].ended, LineRef::kWebSockets, 2 * i + 1});
  }
  for (uint32_t i = 0; i < events.size(); ++i)
    sources[attempts_.size() + 1].push_back({events[i].time, LineRef::kEvents, i});
  LineMerge merge(std::move(sources));
  BlockWriter writer(out);
  for (LineRef line; merge.Next(&line);) {
    if (line.source == LineRef::kEvents) {
      writer.Append(EventJson(events[line.slot]) + "\n");
    } else if (line.source == LineRef::kWebSockets) {
      writer.Append(WebSocketJson(websockets_[line.slot / 2], line.slot % 2 == 1) + "\n");
    } else {
      writer.Commit(WriteAttemptLine(attempts_[line.source][line.slot / 2], line.slot % 2 == 1,
                                     seed, writer.Reserve()));
    }
  }
  writer.Flush();
}

}  // namespace lastcall
