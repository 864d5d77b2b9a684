#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "scenario/scenario.h"
#include "scenario/scenario_test_support.h"

namespace lastcall {
namespace {

using std::chrono::milliseconds;

TEST_CASE("load: clients, duration, requests, keep_alive", "[scenario]") {
  Scenario s = Parse(
      "load:\n"
      "  clients: 1\n"
      "  requests: 5000\n"
      "  keep_alive: false\n");
  CHECK(s.load.clients == 1);
  CHECK(s.load.requests == 5000);
  CHECK(s.load.duration == Duration(0));
  CHECK_FALSE(s.load.keep_alive);
  // A load bound by requests may be held up to a minute by default...
  CHECK(MaxDuration(s.load) == std::chrono::seconds(60));
  // ...one bound by time, ten times its duration, unless max_duration says.
  CHECK(MaxDuration(Parse("load: {duration: 2s}\n").load) == std::chrono::seconds(20));
  CHECK(MaxDuration(Parse("load: {duration: 2s, max_duration: 5s}\n").load) ==
        std::chrono::seconds(5));

  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  clients: many\n") ==
        "s.yaml:3:12: load.clients must be a positive integer, got \"many\"");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  clients: 0\n") == "s.yaml:3:12: load.clients must be a positive integer, got 0");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  clients: 2.5\n") ==
        "s.yaml:3:12: load.clients must be a positive integer, got 2.5");
  // An empty value is reported at its key.
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  clients:\n") ==
        "s.yaml:3:3: load.clients must be a positive integer, got nothing");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  clients: 3000000000\n") ==
        "s.yaml:3:12: load.clients must be at most 2147483647, got "
        "3000000000");
  CHECK(Error("load:\n"
              "  clients: 4\n") == "s.yaml:1:1: load needs duration or requests");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  requests: 100\n") == "s.yaml:3:3: load takes duration or requests, not both");
  CHECK(Error("load:\n"
              "  duration: 2s\n"
              "  max_duration: 1s\n") ==
        "s.yaml:3:17: load.max_duration must be at least load.duration (2s), got 1s");
  CHECK(Error("load:\n"
              "  duration: 3\n") ==
        "s.yaml:2:13: load.duration must be a duration such as 250ms, 1.5s "
        "or 1m, got 3");
  CHECK(Error("load:\n"
              "  duration: 0s\n") ==
        "s.yaml:2:13: load.duration must be greater than 0, got \"0s\"");
  CHECK(Error("load:\n"
              "  requests: 0\n") == "s.yaml:2:13: load.requests must be a positive integer, got 0");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  keep_alive: sometimes\n") ==
        "s.yaml:3:15: load.keep_alive must be true or false, got "
        "\"sometimes\"");
  CHECK(Error("load: 5\n") == "s.yaml:1:7: load must be a map, got 5");
}

TEST_CASE("load.request", "[scenario]") {
  Scenario s = Parse(
      "load:\n"
      "  duration: 1s\n"
      "  request:\n"
      "    method: PUT\n"
      "    path: /payments/${key}?seq=${seq}\n"
      "    body: \"${from} ${to} ${amount} ${port}\"\n"
      "    timeout: 250ms\n");
  CHECK(s.load.request.method == "PUT");
  CHECK(s.load.request.path == "/payments/${key}?seq=${seq}");
  CHECK(s.load.request.body == "${from} ${to} ${amount} ${port}");
  CHECK(s.load.request.timeout == milliseconds(250));

  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  request: {method: post}\n") ==
        "s.yaml:3:21: load.request.method must be an HTTP method such as GET "
        "or POST, got \"post\"");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  request: {path: \"/p/${kye}\"}\n") ==
        "s.yaml:3:19: load.request.path: unknown variable ${kye} (did you "
        "mean ${key}?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  request:\n"
              "    body: '{\"amount\":${amout}}'\n") ==
        "s.yaml:4:11: load.request.body: unknown variable ${amout} (did you "
        "mean ${amount}?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  request:\n"
              "    headers:\n"
              "      Idempotency-Key: ${key\n") ==
        "s.yaml:5:24: load.request.headers.Idempotency-Key: unterminated ${");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  request: {timeout: 0ms}\n") ==
        "s.yaml:3:22: load.request.timeout must be greater than 0, got "
        "\"0ms\"");
}

TEST_CASE("load.accounts", "[scenario]") {
  Scenario s = Parse(
      "load:\n"
      "  duration: 1s\n"
      "  accounts: {count: 2, amount: [0, 0]}\n");
  CHECK(s.load.account_count == 2);
  CHECK(s.load.amount_min == 0);
  CHECK(s.load.amount_max == 0);

  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  accounts: {count: 1}\n") ==
        "s.yaml:3:21: load.accounts.count must be an integer >= 2, got 1");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  accounts: {amount: [1, 2, 3]}\n") ==
        "s.yaml:3:22: load.accounts.amount must be [min, max], got a list "
        "of 3");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  accounts: {amount: [-1, 5]}\n") ==
        "s.yaml:3:23: load.accounts.amount[0] must be a non-negative "
        "integer, got -1");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  accounts: {amount: [500, 1]}\n") ==
        "s.yaml:3:22: load.accounts.amount: min 500 is greater than max 1");
}

TEST_CASE("load.retry", "[scenario]") {
  Scenario s = Parse(
      "load:\n"
      "  duration: 1s\n"
      "  retry: {on: [refused, 503, 5xx, 429], backoff: 0ms}\n");
  const RetryPolicy& retry = s.load.retry;
  CHECK(retry.on_refused);
  CHECK_FALSE(retry.on_reset);
  CHECK_FALSE(retry.on_timeout);
  REQUIRE(retry.on_status.size() == 101);  // 429 and 500..599, once each
  CHECK(retry.on_status.front() == 429);
  CHECK(retry.on_status[1] == 500);
  CHECK(retry.on_status.back() == 599);
  CHECK(retry.backoff == Duration(0));

  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  retry: {on: [reset, rest]}\n") ==
        "s.yaml:3:23: load.retry.on[1] must be reset, timeout, refused, 5xx "
        "or an HTTP status, got \"rest\" (did you mean 'reset'?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  retry: {on: [600]}\n") ==
        "s.yaml:3:16: load.retry.on[0] must be reset, timeout, refused, 5xx "
        "or an HTTP status, got 600");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  retry: {on: reset}\n") ==
        "s.yaml:3:15: load.retry.on must be a list, got \"reset\"");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  retry: {attempts: 0}\n") ==
        "s.yaml:3:21: load.retry.attempts must be a positive integer, got 0");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  retry: {backoff: fast}\n") ==
        "s.yaml:3:20: load.retry.backoff must be a duration such as 250ms, "
        "1.5s or 1m, got \"fast\"");
}

TEST_CASE("load.websockets", "[scenario]") {
  CHECK(Parse("load: {duration: 1s}\n").load.websockets.clients == 0);
  Scenario s = Parse(
      "load:\n"
      "  duration: 1s\n"
      "  websockets: {clients: 4}\n");
  CHECK(s.load.websockets.clients == 4);
  CHECK(s.load.websockets.path == "/ws");
  CHECK(s.load.websockets.port == "${port}");
  s = Parse(
      "load:\n"
      "  duration: 1s\n"
      "  websockets: {clients: 2, path: \"/feed/${seed}\", port: \"${ws_port}\"}\n");
  CHECK(s.load.websockets.path == "/feed/${seed}");
  CHECK(s.load.websockets.port == "${ws_port}");
  CHECK(s.load.websockets.port_location.ToString() == "s.yaml:3:57");
  CHECK(Parse("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 1, port: 8081}\n")
            .load.websockets.port == "8081");

  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {path: /ws}\n") == "s.yaml:3:3: load.websockets.clients is required");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 0}\n") ==
        "s.yaml:3:25: load.websockets.clients must be a positive integer, got 0");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 1001}\n") ==
        "s.yaml:3:25: load.websockets.clients must be at most 1000, got 1001");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 1, path: ws}\n") ==
        "s.yaml:3:34: load.websockets.path must be a path starting with /, got \"ws\"");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 1, port: 70000}\n") ==
        "s.yaml:3:34: load.websockets.port must be a port number (1-65535) or a "
        "template such as ${ws_port}, got 70000");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 1, port: \"${wsport}\"}\n") ==
        "s.yaml:3:34: load.websockets.port: unknown variable ${wsport} (did you mean "
        "${ws_port}?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: {clients: 1, paht: /ws}\n") ==
        "s.yaml:3:28: unknown key 'paht' in load.websockets (did you mean 'path'?)");
  CHECK(Error("load:\n"
              "  duration: 1s\n"
              "  websockets: 4\n") == "s.yaml:3:15: load.websockets must be a map, got 4");
}

}  // namespace
}  // namespace lastcall
