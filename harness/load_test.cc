#include "load.h"

#include <set>

#include <catch2/catch.hpp>

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
