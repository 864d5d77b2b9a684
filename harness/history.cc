#include "history.h"

#include <algorithm>

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
      Outcome& o = it->second;
      if (!first && (a.outcome == Outcome::kOk ||
                     (a.outcome == Outcome::kUnknown && o == Outcome::kFailed)))
        o = a.outcome;
    }
  }
  return outcomes;
}

std::string History::KeyFor(uint64_t seed, int64_t seq) {
  return "lc-" + std::to_string(seed) + "-" + std::to_string(seq);
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

// One line of JSON; bytes that are not UTF-8 are replaced, not thrown on.
std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct Line {
  int64_t time;
  std::string text;
};

}  // namespace

void History::WriteJsonl(std::ostream& out, uint64_t seed) const {
  std::vector<Line> lines;
  for (const auto& client_attempts : attempts_) {
    for (const Attempt& a : client_attempts) {
      nlohmann::json value = {{"key", KeyFor(seed, a.seq)},
                              {"attempt", a.attempt},
                              {"connection", a.connection}};
      nlohmann::json invoke = {{"type", "invoke"}, {"f", "pay"},
                               {"process", a.client}, {"time", a.send_start},
                               {"value", value}};
      value["status"] = a.status;
      value["outcome"] = OutcomeName(a.outcome);
      value["error"] = NetErrorName(a.error);
      value["send_end"] = a.send_end;
      value["reused_connection"] = a.reused_connection;
      nlohmann::json done = {{"type", JepsenType(a.outcome)}, {"f", "pay"},
                             {"process", a.client}, {"time", a.done},
                             {"value", value}};
      lines.push_back({a.send_start, Dump(invoke)});
      lines.push_back({a.done, Dump(done)});
    }
  }
  for (const Event& e : events()) {
    nlohmann::json line = {{"type", "info"}, {"f", e.kind},
                           {"process", "nemesis"}, {"time", e.time},
                           {"value", e.detail}};
    if (e.instance > 0) line["instance"] = e.instance;
    lines.push_back({e.time, Dump(line)});
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const Line& a, const Line& b) { return a.time < b.time; });
  for (const Line& line : lines) out << line.text << '\n';
}

}  // namespace lastcall
