#include "client/load.h"

#include <unistd.h>

#include <atomic>
#include <set>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>

#include "base/wait_until.h"
#include "process/crafted_listener.h"

using namespace lastcall;

TEST_CASE("Request values depend only on the seed and the request number") {
  LoadSpec spec;
  spec.account_count = 5;
  spec.amount_min = 10;
  spec.amount_max = 20;
  std::set<std::string> accounts;
  for (int64_t seq = 0; seq < 2000; ++seq) {
    RequestValues v = ValuesFor(7, seq, spec);
    RequestValues again = ValuesFor(7, seq, spec);
    CHECK(v.key == again.key);
    CHECK(v.from == again.from);
    CHECK(v.amount == again.amount);
    CHECK(v.from != v.to);
    int from = std::stoi(v.from), to = std::stoi(v.to), amount = std::stoi(v.amount);
    CHECK(from >= 1);
    CHECK(from <= 5);
    CHECK(to >= 1);
    CHECK(to <= 5);
    CHECK(amount >= 10);
    CHECK(amount <= 20);
    accounts.insert(v.from);
    accounts.insert(v.to);
  }
  CHECK(accounts.size() == 5);  // every account is used
}

TEST_CASE("Another seed draws other values") {
  LoadSpec spec;
  int differences = 0;
  for (int64_t seq = 0; seq < 100; ++seq)
    differences += ValuesFor(1, seq, spec).amount != ValuesFor(2, seq, spec).amount;
  CHECK(differences > 90);
}

namespace {

// Holds the load for as long as `hold` says; counts the questions.
struct HoldingObserver : LoadObserver {
  std::atomic<bool> hold{true};
  std::atomic<int> finished{0};
  void OnProgress(int64_t, int64_t) override {}
  void OnLoadFinished() override { ++finished; }
  bool HoldsLoad() override { return hold; }
};

}  // namespace

TEST_CASE("A held load goes past its requests until released, never past max_duration") {
  LoadSpec spec;
  spec.clients = 2;
  spec.requests = 3;
  spec.max_duration = std::chrono::milliseconds(300);
  spec.request.body = "{}";
  HoldingObserver observer;
  History history(spec.clients);
  std::string error;
  std::unique_ptr<Load> load =
      Load::Create(spec, {}, crafted::FreeLoopbackPort(), 1, &history, &observer, &error);
  REQUIRE(load);
  load->Start();
  REQUIRE(WaitUntil([&] { return observer.finished == 1; }, std::chrono::seconds(5)));
  load->Join();
  CHECK(load->reached_max_duration());  // held all the way
  size_t attempts = history.attempts(0).size() + history.attempts(1).size();
  CHECK(attempts > 3);

  HoldingObserver released;
  released.hold = false;
  History again(spec.clients);
  load = Load::Create(spec, {}, crafted::FreeLoopbackPort(), 1, &again, &released, &error);
  load->Start();
  REQUIRE(WaitUntil([&] { return released.finished == 1; }, std::chrono::seconds(5)));
  load->Join();
  CHECK_FALSE(load->reached_max_duration());
  CHECK(again.attempts(0).size() + again.attempts(1).size() == 3);
}
