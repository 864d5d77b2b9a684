#include "scenario/sections.h"

namespace lastcall {

Duration MaxDuration(const LoadSpec& load) {
  if (load.max_duration.count() > 0) return load.max_duration;
  if (load.duration.count() > 0) return load.duration * 10;
  return std::chrono::seconds(60);
}

constexpr int kMaxWebSocketClients = 1000;
const Keys kWebSocketKeys = {{"clients", "path", "port"}, {}};
const Keys kLoadKeys = {{"clients", "rate", "duration", "requests",
                         "max_duration", "keep_alive", "request", "accounts",
                         "retry", "websockets"},
                        {}};
const Keys kRequestKeys = {{"method", "path", "headers", "body", "timeout"},
                           {}};
const Keys kAccountsKeys = {{"count", "amount"}, {}};
const Keys kRetryKeys = {{"on", "attempts", "backoff"}, {}};
bool Parser::ParseRequest(const Value& value, RequestTemplate* out) {
  Section section;
  if (!AsSection(value, kRequestKeys, &section))
    return false;
  Value method = section.Get("method");
  if (!AsString(method, &out->method))
    return false;
  bool is_token = !out->method.empty();
  for (char c : out->method)
    is_token = is_token && isupper(static_cast<unsigned char>(c));
  if (!is_token)
    return Fail(method, "load.request.method must be an HTTP method such as "
                        "GET or POST, got " + Describe(method.node));

  Section headers;
  if (!AsMap(section.Get("headers"), &headers))
    return false;
  for (const Field& field : headers.fields) {
    const std::string& name = field.key.Scalar();
    std::string text;
    if (!AsTemplate(Value{true, field.value, field.key, headers.PathOf(name)},
                    Scope::kRequest, &text))
      return false;
    out->headers.emplace_back(name, text);
  }
  return AsTemplate(section.Get("path"), Scope::kRequest, &out->path) &&
         AsTemplate(section.Get("body"), Scope::kRequest, &out->body) &&
         AsDuration(section.Get("timeout"), false, &out->timeout);
}

bool Parser::ParseAccounts(const Value& value, LoadSpec* out) {
  Section section;
  if (!AsSection(value, kAccountsKeys, &section) ||
      // ${from} and ${to} must differ.
      !AsInt(section.Get("count"), 2, &out->account_count))
    return false;
  Value amount = section.Get("amount");
  std::vector<Value> bounds;
  if (!AsList(amount, &bounds))
    return false;
  if (!amount.present)
    return true;
  if (bounds.size() != 2)
    return Fail(amount, "load.accounts.amount must be [min, max], got a list "
                        "of " + std::to_string(bounds.size()));
  if (!AsInt(bounds[0], 0, &out->amount_min) ||
      !AsInt(bounds[1], 0, &out->amount_max))
    return false;
  if (out->amount_min > out->amount_max)
    return Fail(amount, "load.accounts.amount: min " +
                            std::to_string(out->amount_min) +
                            " is greater than max " +
                            std::to_string(out->amount_max));
  return true;
}

bool Parser::ParseWebSockets(const Value& value, WebSocketSpec* out) {
  Section section;
  if (!AsSection(value, kWebSocketKeys, &section))
    return false;
  if (!value.present)
    return true;
  Value path = section.Get("path");
  Value port = section.Get("port");
  int64_t clients = 0;
  if (!Require(section, "clients") ||
      // Each client is a socket on one thread of the harness.
      !AsInt(section.Get("clients"), 1, kMaxWebSocketClients, &clients) ||
      !AsTemplate(path, Scope::kRun, &out->path) ||
      !AsTemplate(port, Scope::kRun, &out->port))
    return false;
  out->clients = static_cast<int>(clients);
  if (out->path.empty() || out->path[0] != '/')
    return Fail(path, "load.websockets.path must be a path starting with /, "
                      "got " + Describe(path.node));
  if (!port.present)
    return true;
  out->port_location = Location(port.node);
  // A template is expanded and checked at run time (StartWebSockets()).
  int64_t number = 0;
  if (out->port.find("${") == std::string::npos &&
      (!ParseInteger(out->port, &number) || number < 1 || number > 65535))
    return Fail(port, "load.websockets.port must be a port number (1-65535) "
                      "or a template such as ${ws_port}, got " +
                      Describe(port.node));
  return true;
}

bool Parser::ParseRetryOutcome(const Value& value, RetryPolicy* out) {
  std::string text;
  if (!AsString(value, &text))
    return false;
  int64_t status = 0;
  if (text == "reset") {
    out->on_reset = true;
  } else if (text == "timeout") {
    out->on_timeout = true;
  } else if (text == "refused") {
    out->on_refused = true;
  } else if (text == "5xx") {
    for (int code = 500; code <= 599; ++code)
      out->on_status.push_back(code);
  } else if (ParseInteger(text, &status) && status >= 100 && status <= 599) {
    out->on_status.push_back(static_cast<int>(status));
  } else {
    return Fail(value, value.path +
                           " must be reset, timeout, refused, 5xx or an HTTP "
                           "status, got " + Describe(value.node) +
                           DidYouMean(text, {"reset", "timeout", "refused"}));
  }
  return true;
}

bool Parser::ParseRetry(const Value& value, RetryPolicy* out) {
  Section section;
  std::vector<Value> outcomes;
  if (!AsSection(value, kRetryKeys, &section) ||
      !AsList(section.Get("on"), &outcomes))
    return false;
  for (const Value& outcome : outcomes) {
    if (!ParseRetryOutcome(outcome, out))
      return false;
  }
  std::sort(out->on_status.begin(), out->on_status.end());
  out->on_status.erase(
      std::unique(out->on_status.begin(), out->on_status.end()),
      out->on_status.end());
  return AsInt(section.Get("attempts"), 1, &out->attempts) &&
         AsDuration(section.Get("backoff"), true, &out->backoff);
}

bool Parser::ParseLoad(const Value& value, LoadSpec* out) {
  Section section;
  if (!AsSection(value, kLoadKeys, &section))
    return false;
  Value rate = section.Get("rate");
  int64_t requests_per_second = 0;
  if (!AsInt(section.Get("clients"), 1, &out->clients) ||
      !AsInt(rate, 0, INT_MAX, &requests_per_second))
    return false;
  if (requests_per_second > 0)
    return Fail(rate, "load.rate > 0 (open loop) is not supported yet");

  Value duration = section.Get("duration");
  Value requests = section.Get("requests");
  if (!duration.present && !requests.present)
    return Fail(value.key, "load needs duration or requests");
  if (duration.present && requests.present)
    return Fail(requests.key, "load takes duration or requests, not both");
  Value max_duration = section.Get("max_duration");
  if (!AsDuration(duration, false, &out->duration) ||
      !AsInt(requests, 1, &out->requests) ||
      !AsDuration(max_duration, false, &out->max_duration))
    return false;
  if (max_duration.present && out->max_duration < out->duration)
    return Fail(max_duration, "load.max_duration must be at least load.duration (" +
                                  DurationText(out->duration) + "), got " +
                                  DurationText(out->max_duration));
  return AsBool(section.Get("keep_alive"), &out->keep_alive) &&
         ParseRequest(section.Get("request"), &out->request) &&
         ParseAccounts(section.Get("accounts"), out) &&
         ParseRetry(section.Get("retry"), &out->retry) &&
         ParseWebSockets(section.Get("websockets"), &out->websockets);
}


}  // namespace lastcall
