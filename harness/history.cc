#include "history.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <tuple>

#include <nlohmann/json.hpp>

namespace lastcall {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk: return "ok";
    case Outcome::kFailed: return "failed";
    case Outcome::kUnknown: return "unknown";
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
    case NetError::kNone: return "none";
    case NetError::kRefused: return "refused";
    case NetError::kConnect: return "connect";
    case NetError::kWriteFailed: return "write_failed";
    case NetError::kReset: return "reset";
    case NetError::kEof: return "eof";
    case NetError::kTimeout: return "timeout";
    case NetError::kBadResponse: return "bad_response";
  }
  return "?";
}

History::History(int clients)
    : epoch_(std::chrono::steady_clock::now()), attempts_(clients) {}

int64_t History::Now() const { return Since(std::chrono::steady_clock::now()); }

int64_t History::Since(std::chrono::steady_clock::time_point t) const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t - epoch_)
      .count();
}

int64_t History::Record(const std::string& kind, const std::string& detail,
                        int instance) {
  int64_t now = Now();
  RecordAt(now, kind, detail, instance);
  return now;
}

void History::RecordAt(int64_t time, const std::string& kind,
                       const std::string& detail, int instance) {
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

std::map<int64_t, Outcome> History::KeyOutcomes() const {
  std::map<int64_t, Outcome> outcomes;
  for (const auto& client : attempts_) {
    for (const Attempt& a : client) {
      auto [it, first] = outcomes.emplace(a.seq, a.outcome);
      if (!first) it->second = CombineOutcomes(it->second, a.outcome);
    }
  }
  return outcomes;
}

namespace {

void AppendNumber(int64_t value, std::string* out) {
  char digits[24];
  out->append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

void AppendKey(uint64_t seed, int64_t seq, std::string* out) {
  char digits[24];
  out->append("lc-").append(digits, std::to_chars(digits, digits + sizeof digits, seed).ptr);
  out->push_back('-');
  AppendNumber(seq, out);
}

}  // namespace

std::string History::KeyFor(uint64_t seed, int64_t seq) {
  std::string key;
  AppendKey(seed, seq, &key);
  return key;
}

std::optional<int64_t> History::SeqOfKey(uint64_t seed, std::string_view key) {
  const std::string prefix = KeyFor(seed, 0);  // "lc-<seed>-0"
  const size_t digits = prefix.size() - 1;
  if (key.size() <= digits || key.compare(0, digits, prefix, 0, digits) != 0)
    return std::nullopt;
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
    case Outcome::kOk: return "ok";
    case Outcome::kFailed: return "fail";
    case Outcome::kUnknown: return "info";
  }
  return "info";
}

// An attempt's invoke or completion line, its keys in nlohmann::json's
// (sorted) order. Written by hand: a million attempts are two million
// lines, and a json object per line took seconds and hundreds of MB. Every
// string in it is ours (keys, names), so nothing needs escaping.
void AppendAttemptJson(const Attempt& a, bool completion, uint64_t seed,
                       std::string* out) {
  out->append("{\"f\":\"pay\",\"process\":");
  AppendNumber(a.client, out);
  out->append(",\"time\":");
  AppendNumber(completion ? a.done : a.send_start, out);
  out->append(",\"type\":\"")
      .append(completion ? JepsenType(a.outcome) : "invoke")
      .append("\",\"value\":{\"attempt\":");
  AppendNumber(a.attempt, out);
  out->append(",\"connection\":");
  AppendNumber(a.connection, out);
  if (completion) out->append(",\"error\":\"").append(NetErrorName(a.error)).append("\"");
  out->append(",\"key\":\"");
  AppendKey(seed, a.seq, out);
  out->append("\"");
  if (completion) {
    out->append(",\"outcome\":\"").append(OutcomeName(a.outcome));
    out->append("\",\"reused_connection\":").append(a.reused_connection ? "true" : "false");
    out->append(",\"send_end\":");
    AppendNumber(a.send_end, out);
    out->append(",\"status\":");
    AppendNumber(a.status, out);
  }
  out->append("}}");
}

// One line of JSON; bytes that are not UTF-8 are replaced, not thrown on.
std::string EventJson(const Event& e) {
  nlohmann::json line = {{"type", "info"}, {"f", e.kind},
                         {"process", "nemesis"}, {"time", e.time},
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
  nlohmann::json line = {{"type", type}, {"f", "websocket"},
                         {"process", "websocket-" + std::to_string(w.client)},
                         {"time", completion ? w.ended : w.connect_start},
                         {"value", value}};
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A line to be written, sorted by time; on equal times, attempts before
// WebSocket connections before events, client by client, each attempt's invoke before its completion
// (the order the lines are listed in). 16 bytes: the history's lines are
// formatted only as they are written.
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

}  // namespace

void History::WriteJsonl(std::ostream& out, uint64_t seed) const {
  const std::vector<Event> events = this->events();
  std::vector<LineRef> lines;
  size_t count = events.size() + 2 * websockets_.size();
  for (const auto& client_attempts : attempts_) count += 2 * client_attempts.size();
  lines.reserve(count);
  for (uint32_t c = 0; c < attempts_.size(); ++c) {
    for (uint32_t i = 0; i < attempts_[c].size(); ++i) {
      lines.push_back({attempts_[c][i].send_start, c, 2 * i});
      lines.push_back({attempts_[c][i].done, c, 2 * i + 1});
    }
  }
  for (uint32_t i = 0; i < websockets_.size(); ++i) {
    lines.push_back({websockets_[i].connect_start, LineRef::kWebSockets, 2 * i});
    lines.push_back({websockets_[i].ended, LineRef::kWebSockets, 2 * i + 1});
  }
  for (uint32_t i = 0; i < events.size(); ++i)
    lines.push_back({events[i].time, LineRef::kEvents, i});
  std::sort(lines.begin(), lines.end());
  std::string text;
  for (const LineRef& line : lines) {
    text.clear();
    if (line.source == LineRef::kEvents) {
      text = EventJson(events[line.slot]);
    } else if (line.source == LineRef::kWebSockets) {
      text = WebSocketJson(websockets_[line.slot / 2], line.slot % 2 == 1);
    } else {
      AppendAttemptJson(attempts_[line.source][line.slot / 2], line.slot % 2 == 1,
                        seed, &text);
    }
    text.push_back('\n');
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
}

}  // namespace lastcall
