#include <algorithm>
#include <cctype>
#include <climits>
#include <string>
#include <vector>

#include "base/edit_distance.h"
#include "scenario/sections.h"

namespace lastcall {

Duration MaxDuration(const LoadSpec& load) {
  if (load.max_duration.count() > 0) return load.max_duration;
  if (load.duration.count() > 0) return load.duration * 10;
  return std::chrono::seconds(60);
}

namespace scenario_file {

constexpr int kMaxWebSocketClients = 1000;
const Keys kWebSocketKeys = {{"clients", "path", "port"}, {}};
const Keys kLoadKeys = {{"clients", "rate", "duration", "requests", "max_duration", "keep_alive",
                         "request", "accounts", "retry", "websockets"},
                        {}};
const Keys kRequestKeys = {{"method", "path", "headers", "body", "timeout"}, {}};
const Keys kAccountsKeys = {{"count", "amount"}, {}};
const Keys kRetryKeys = {{"on", "attempts", "backoff"}, {}};

namespace {

bool ParseRequest(YamlReader* yaml, const Value& value, RequestTemplate* out) {
  Section section;
  if (!yaml->AsSection(value, kRequestKeys, &section)) return false;
  Value method = section.Get("method");
  if (!yaml->AsString(method, &out->method)) return false;
  bool is_token = !out->method.empty();
  for (char c : out->method) is_token = is_token && isupper(static_cast<unsigned char>(c));
  if (!is_token)
    return yaml->Fail(method,
                      "load.request.method must be an HTTP method such as "
                      "GET or POST, got " +
                          Describe(method.node));

  Section headers;
  if (!yaml->AsMap(section.Get("headers"), &headers)) return false;
  for (const Field& field : headers.fields) {
    const std::string& name = field.key.Scalar();
    std::string text;
    if (!yaml->AsTemplate(Value{true, field.value, field.key, headers.PathOf(name)},
                          Scope::kRequest, &text))
      return false;
    out->headers.emplace_back(name, text);
  }
  return yaml->AsTemplate(section.Get("path"), Scope::kRequest, &out->path) &&
         yaml->AsTemplate(section.Get("body"), Scope::kRequest, &out->body) &&
         yaml->AsDuration(section.Get("timeout"), false, &out->timeout);
}

bool ParseAccounts(YamlReader* yaml, const Value& value, LoadSpec* out) {
  Section section;
  if (!yaml->AsSection(value, kAccountsKeys, &section) ||
      // ${from} and ${to} must differ.
      !yaml->AsInt(section.Get("count"), 2, &out->account_count))
    return false;
  Value amount = section.Get("amount");
  std::vector<Value> bounds;
  if (!yaml->AsList(amount, &bounds)) return false;
  if (!amount.present) return true;
  if (bounds.size() != 2)
    return yaml->Fail(amount,
                      "load.accounts.amount must be [min, max], got a list "
                      "of " +
                          std::to_string(bounds.size()));
  if (!yaml->AsInt(bounds[0], 0, &out->amount_min) || !yaml->AsInt(bounds[1], 0, &out->amount_max))
    return false;
  if (out->amount_min > out->amount_max)
    return yaml->Fail(amount, "load.accounts.amount: min " + std::to_string(out->amount_min) +
                                  " is greater than max " + std::to_string(out->amount_max));
  return true;
}

bool ParseWebSockets(YamlReader* yaml, const Value& value, WebSocketSpec* out) {
  Section section;
  if (!yaml->AsSection(value, kWebSocketKeys, &section)) return false;
  if (!value.present) return true;
  Value path = section.Get("path");
  Value port = section.Get("port");
  int64_t clients = 0;
  if (!yaml->Require(section, "clients") ||
      // Each client is a socket on one thread of the harness.
      !yaml->AsInt(section.Get("clients"), 1, kMaxWebSocketClients, &clients) ||
      !yaml->AsTemplate(path, Scope::kRun, &out->path) ||
      !yaml->AsTemplate(port, Scope::kRun, &out->port))
    return false;
  out->clients = static_cast<int>(clients);
  if (out->path.empty() || out->path[0] != '/')
    return yaml->Fail(path,
                      "load.websockets.path must be a path starting with /, "
                      "got " +
                          Describe(path.node));
  if (!port.present) return true;
  out->port_location = yaml->Location(port.node);
  // A template is expanded and checked at run time (StartWebSockets()).
  int64_t number = 0;
  if (out->port.find("${") == std::string::npos &&
      (!ParseInteger(out->port, &number) || number < 1 || number > 65535))
    return yaml->Fail(port,
                      "load.websockets.port must be a port number (1-65535) "
                      "or a template such as ${ws_port}, got " +
                          Describe(port.node));
  return true;
}

bool ParseRetryOutcome(YamlReader* yaml, const Value& value, RetryPolicy* out) {
  std::string text;
  if (!yaml->AsString(value, &text)) return false;
  int64_t status = 0;
  if (text == "reset") {
    out->on_reset = true;
  } else if (text == "timeout") {
    out->on_timeout = true;
  } else if (text == "refused") {
    out->on_refused = true;
  } else if (text == "5xx") {
    for (int code = 500; code <= 599; ++code) out->on_status.push_back(code);
  } else if (ParseInteger(text, &status) && status >= 100 && status <= 599) {
    out->on_status.push_back(static_cast<int>(status));
  } else {
    return yaml->Fail(value, value.path +
                                 " must be reset, timeout, refused, 5xx or an HTTP "
                                 "status, got " +
                                 Describe(value.node) +
                                 DidYouMean(text, {"reset", "timeout", "refused"}));
  }
  return true;
}

bool ParseRetry(YamlReader* yaml, const Value& value, RetryPolicy* out) {
  Section section;
  std::vector<Value> outcomes;
  if (!yaml->AsSection(value, kRetryKeys, &section) || !yaml->AsList(section.Get("on"), &outcomes))
    return false;
  for (const Value& outcome : outcomes) {
    if (!ParseRetryOutcome(yaml, outcome, out)) return false;
  }
  std::sort(out->on_status.begin(), out->on_status.end());
  out->on_status.erase(std::unique(out->on_status.begin(), out->on_status.end()),
                       out->on_status.end());
  return yaml->AsInt(section.Get("attempts"), 1, &out->attempts) &&
         yaml->AsDuration(section.Get("backoff"), true, &out->backoff);
}

}  // namespace

bool ParseLoad(YamlReader* yaml, const Value& value, LoadSpec* out) {
  Section section;
  if (!yaml->AsSection(value, kLoadKeys, &section)) return false;
  Value rate = section.Get("rate");
  int64_t requests_per_second = 0;
  if (!yaml->AsInt(section.Get("clients"), 1, &out->clients) ||
      !yaml->AsInt(rate, 0, INT_MAX, &requests_per_second))
    return false;
  if (requests_per_second > 0)
    return yaml->Fail(rate, "load.rate > 0 (open loop) is not supported yet");

  Value duration = section.Get("duration");
  Value requests = section.Get("requests");
  if (!duration.present && !requests.present)
    return yaml->Fail(value.key, "load needs duration or requests");
  if (duration.present && requests.present)
    return yaml->Fail(requests.key, "load takes duration or requests, not both");
  Value max_duration = section.Get("max_duration");
  if (!yaml->AsDuration(duration, false, &out->duration) ||
      !yaml->AsInt(requests, 1, &out->requests) ||
      !yaml->AsDuration(max_duration, false, &out->max_duration))
    return false;
  if (max_duration.present && out->max_duration < out->duration)
    return yaml->Fail(max_duration, "load.max_duration must be at least load.duration (" +
                                        DurationText(out->duration) + "), got " +
                                        DurationText(out->max_duration));
  return yaml->AsBool(section.Get("keep_alive"), &out->keep_alive) &&
         ParseRequest(yaml, section.Get("request"), &out->request) &&
         ParseAccounts(yaml, section.Get("accounts"), out) &&
         ParseRetry(yaml, section.Get("retry"), &out->retry) &&
         ParseWebSockets(yaml, section.Get("websockets"), &out->websockets);
}

}  // namespace scenario_file
}  // namespace lastcall
