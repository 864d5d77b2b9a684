#include "history.h"

#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace lastcall;

TEST_CASE("Classify follows SPEC section 4") {
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
  a.seq = 1; a.client = 1; a.send_start = 30; a.send_end = 35; a.done = 90;
  a.status = 201; a.outcome = Outcome::kOk;
  history.attempts(1).push_back(a);
  Attempt b;
  b.seq = 0; b.client = 0; b.send_start = 10; b.send_end = 12; b.done = 50;
  b.error = NetError::kReset; b.outcome = Outcome::kUnknown;
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
