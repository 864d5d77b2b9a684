#include "history/history.h"

#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace lastcall;

TEST_CASE("Classify gives each ending its outcome") {
  CHECK(Classify(201, NetError::kNone) == Outcome::kOk);
  CHECK(Classify(422, NetError::kNone) == Outcome::kFailed);
  CHECK(Classify(503, NetError::kNone) == Outcome::kFailed);
  CHECK(Classify(500, NetError::kNone) == Outcome::kUnknown);
  CHECK(Classify(502, NetError::kNone) == Outcome::kUnknown);
  CHECK(Classify(0, NetError::kRefused) == Outcome::kFailed);
  CHECK(Classify(0, NetError::kWriteFailed) == Outcome::kFailed);
  CHECK(Classify(0, NetError::kReset) == Outcome::kUnknown);
  CHECK(Classify(0, NetError::kEof) == Outcome::kUnknown);
  CHECK(Classify(0, NetError::kTimeout) == Outcome::kUnknown);
}

TEST_CASE("Keys are unique per request and stable across retries") {
  CHECK(History::KeyFor(42, 7) == "lc-42-7");
  CHECK(History::KeyFor(42, 7) != History::KeyFor(42, 8));
  CHECK(History::KeyFor(42, 7) != History::KeyFor(43, 7));
}

TEST_CASE("The JSONL history is Jepsen-style and in time order") {
  History history(2);
  Attempt a;
  a.seq = 1;
  a.client = 1;
  a.send_start = 30;
  a.send_end = 35;
  a.done = 90;
  a.status = 201;
  a.outcome = Outcome::kOk;
  history.attempts(1).push_back(a);
  Attempt b;
  b.seq = 0;
  b.client = 0;
  b.send_start = 10;
  b.send_end = 12;
  b.done = 50;
  b.error = NetError::kReset;
  b.outcome = Outcome::kUnknown;
  history.attempts(0).push_back(b);
  history.RecordAt(40, "signal", "TERM to process", 1);

  std::ostringstream out;
  history.WriteJsonl(out, 5);
  std::istringstream in(out.str());
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  REQUIRE(lines.size() == 5);
  CHECK(lines[0]["type"] == "invoke");
  CHECK(lines[0]["value"]["key"] == "lc-5-0");
  CHECK(lines[1]["type"] == "invoke");
  CHECK(lines[2]["process"] == "nemesis");
  CHECK(lines[2]["f"] == "signal");
  CHECK(lines[3]["type"] == "info");  // the reset: unknown
  CHECK(lines[3]["value"]["error"] == "reset");
  CHECK(lines[4]["type"] == "ok");
  CHECK(lines[4]["value"]["status"] == 201);
}

TEST_CASE("SeqOfKey inverts KeyFor, one spelling per key") {
  CHECK(History::SeqOfKey(7, History::KeyFor(7, 123)) == 123);
  CHECK(History::SeqOfKey(7, "lc-7-0") == 0);
  CHECK(History::SeqOfKey(18446744073709551615u, "lc-18446744073709551615-9") == 9);
  for (const char* other : {"lc-7-07", "lc-7-", "lc-7-1x", "lc-7--1", "lc-7-+1", "lc-8-1",
                            "lc-77-1", "lc-7", "made-up", ""})
    CHECK_FALSE(History::SeqOfKey(7, other).has_value());
}

TEST_CASE("CombineOutcomes: ok wins, then unknown, then failed") {
  CHECK(CombineOutcomes(Outcome::kFailed, Outcome::kOk) == Outcome::kOk);
  CHECK(CombineOutcomes(Outcome::kOk, Outcome::kUnknown) == Outcome::kOk);
  CHECK(CombineOutcomes(Outcome::kFailed, Outcome::kUnknown) == Outcome::kUnknown);
  CHECK(CombineOutcomes(Outcome::kUnknown, Outcome::kFailed) == Outcome::kUnknown);
  CHECK(CombineOutcomes(Outcome::kFailed, Outcome::kFailed) == Outcome::kFailed);
}

TEST_CASE("The JSONL attempt lines are byte for byte what nlohmann::json writes") {
  History history(1);
  Attempt a;
  a.seq = 12;
  a.attempt = 2;
  a.connection = 7;
  a.reused_connection = true;
  a.send_start = -1;
  a.send_end = -1;
  a.done = 5;
  a.error = NetError::kRefused;
  a.outcome = Outcome::kFailed;
  history.attempts(0).push_back(a);
  a.seq = 13;
  a.attempt = 1;
  a.reused_connection = false;
  a.send_start = 6;
  a.send_end = 7;
  a.done = 9;
  a.status = 503;
  a.error = NetError::kNone;
  history.attempts(0).push_back(a);
  std::ostringstream out;
  history.WriteJsonl(out, 42);
  std::istringstream in(out.str());
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines)
    CHECK(line == nlohmann::json::parse(line).dump());  // sorted keys, no spaces
  CHECK(lines == 4);
  CHECK(out.str().find(R"("key":"lc-42-13","outcome":"failed","reused_connection":false,)"
                       R"("send_end":7,"status":503}})") != std::string::npos);
}

TEST_CASE("WriteJsonl merges the sources in time order, across 1 MiB blocks") {
  History history(3);
  // 3 clients of 4000 attempts each (12,000 * ~150 bytes: several blocks),
  // their times interleaved; client 2's list is out of order, as a history
  // made by hand may be.
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 4000; ++i) {
      Attempt a;
      a.seq = 3 * i + c;
      a.client = c;
      a.send_start = 100 * (c == 2 ? 3999 - i : i) + c;
      a.send_end = a.send_start + 1;
      a.done = a.send_start + 50;
      a.status = 201;
      a.outcome = Outcome::kOk;
      history.attempts(c).push_back(a);
    }
  }
  // An event line longer than a block, and one at the same time as an invoke.
  history.RecordAt(200050, "log", std::string(3 << 20, 'x'));
  history.RecordAt(100, "signal", "TERM to process", 1);

  std::ostringstream out;
  history.WriteJsonl(out, 5);
  std::istringstream in(out.str());
  int64_t last_time = -1;
  size_t lines = 0, long_lines = 0;
  nlohmann::json at_100 = nlohmann::json::array();
  for (std::string line; std::getline(in, line); ++lines) {
    nlohmann::json op = nlohmann::json::parse(line);
    INFO("line " << lines);
    CHECK(op["time"].get<int64_t>() >= last_time);
    last_time = op["time"].get<int64_t>();
    long_lines += line.size() > (1 << 20);
    if (op["time"] == 100) at_100.push_back(op["process"]);
  }
  // Equal times: attempts before events.
  CHECK(at_100 == nlohmann::json::array({0, "nemesis"}));
  CHECK(lines == 2 * 12000 + 2);
  CHECK(long_lines == 1);
}
