#include "explore/shrink.h"

#include <csignal>

#include <catch2/catch.hpp>

using namespace lastcall;

namespace {

using std::chrono::milliseconds;

constexpr int64_t kMs = 1000000;

// 8 clients for 2 s; INT when 40 completed, restart; KILL at 1.5 s.
Variation Failing() {
  Variation v;
  v.seed = 5;
  v.clients = 8;
  v.duration = milliseconds(2000);
  v.faults = {{SIGINT, Trigger::Kind::kCompleted, 40, std::chrono::seconds(4), true},
              {SIGKILL, Trigger::Kind::kAt, 1500 * kMs, {}, false}};
  return v;
}

bool Never() { return false; }

}  // namespace

TEST_CASE("every simpler variation is smaller in one respect", "[explore]") {
  Variation v = Failing();
  std::vector<Variation> candidates = SimplerVariations(v);
  REQUIRE_FALSE(candidates.empty());
  // The biggest simplifications come first: a fault fewer.
  CHECK(candidates[0].faults.size() == 1);
  CHECK(candidates[1].faults.size() == 1);
  for (const Variation& c : candidates) {
    CHECK_FALSE(c == v);
    CHECK(c.seed == v.seed);  // the same requests
    // An `at` stays within the load, or the fault could never fire.
    for (const VariedFault& f : c.faults)
      if (f.trigger == Trigger::Kind::kAt) CHECK(f.value < c.duration.count());
  }
}

TEST_CASE("shrinking keeps what the failure needs and drops the rest", "[explore]") {
  // The failure needs a KILL at or after 300 ms with at least 3 clients.
  auto still_fails = [](const Variation& v) {
    if (v.clients < 3) return false;
    for (const VariedFault& f : v.faults)
      if (f.signal == SIGKILL && f.trigger == Trigger::Kind::kAt && f.value >= 300 * kMs)
        return true;
    return false;
  };
  ShrinkResult r = Shrink(Failing(), still_fails, 1000, Never);
  REQUIRE(r.smallest.faults.size() == 1);
  CHECK(r.smallest.faults[0].signal == SIGKILL);
  CHECK_FALSE(r.smallest.faults[0].restart);
  CHECK(r.smallest.clients == 3);
  CHECK(r.smallest.faults[0].value >= 300 * kMs);
  CHECK(r.smallest.faults[0].value < 400 * kMs);  // as early as halving allows
  CHECK(r.smallest.duration.count() > r.smallest.faults[0].value);
  CHECK(r.smallest.duration < milliseconds(2000));
  CHECK(r.steps > 3);
  CHECK(r.tried >= r.steps);
  CHECK(still_fails(r.smallest));
}

TEST_CASE("a failure that needs everything is not shrunk", "[explore]") {
  Variation v = Failing();
  ShrinkResult r = Shrink(
      v, [&](const Variation& c) { return c == v; }, 1000, Never);
  CHECK(r.smallest == v);
  CHECK(r.steps == 0);
  CHECK(r.tried == static_cast<int>(SimplerVariations(v).size()));
}

TEST_CASE("shrinking stops at its bound and when told to", "[explore]") {
  int asked = 0;
  auto always = [&](const Variation&) {
    ++asked;
    return true;
  };
  ShrinkResult bounded = Shrink(Failing(), always, 5, Never);
  CHECK(bounded.tried == 5);
  CHECK(bounded.steps == 5);
  CHECK(asked == 5);
  asked = 0;
  ShrinkResult stopped = Shrink(Failing(), always, 1000, [&] { return asked >= 2; });
  CHECK(stopped.tried == 2);
}

TEST_CASE("an `at` time can give way to the state it aimed at", "[explore]") {
  Variation v = Failing();
  std::vector<Variation> steadier = SteadierVariations(v);
  REQUIRE(steadier.size() == 2);  // only the KILL at 1.5 s has a time
  CHECK(steadier[0].faults[1].trigger == Trigger::Kind::kInFlight);
  CHECK(steadier[1].faults[1].trigger == Trigger::Kind::kDbTransactionsOpen);
  for (const Variation& c : steadier) {
    CHECK(c.faults[1].value == 1);
    CHECK(c.faults[0].trigger == Trigger::Kind::kCompleted);  // untouched
    CHECK(c.clients == v.clients);
  }
  // Among the simpler variations, right after a fault fewer (two, and the
  // restart dropped).
  std::vector<Variation> simpler = SimplerVariations(v);
  REQUIRE(simpler.size() > 4);
  CHECK(simpler[3] == steadier[0]);
  CHECK(simpler[4] == steadier[1]);
  CHECK(SteadierVariations(steadier[1]).empty());
}
