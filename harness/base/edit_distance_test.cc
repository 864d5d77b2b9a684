#include "base/edit_distance.h"

#include <algorithm>

#include <catch2/catch.hpp>

namespace lastcall {
namespace {

TEST_CASE("EditDistance counts insertions, deletions, replacements, swaps", "[edit_distance]") {
  CHECK(EditDistance("", "") == 0);
  CHECK(EditDistance("clients", "clients") == 0);
  CHECK(EditDistance("", "abc") == 3);
  CHECK(EditDistance("abc", "") == 3);
  CHECK(EditDistance("client", "clients") == 1);    // insertion
  CHECK(EditDistance("clientss", "clients") == 1);  // deletion
  CHECK(EditDistance("clienys", "clients") == 1);   // replacement
  CHECK(EditDistance("clinets", "clients") == 1);   // swap
  CHECK(EditDistance("prot", "port") == 1);         // swap
  CHECK(EditDistance("ab", "ba") == 1);             // swap
  CHECK(EditDistance("abc", "ca") == 3);            // no edits of an already-swapped pair
  CHECK(EditDistance("kitten", "sitting") == 3);
  CHECK(EditDistance("sitting", "kitten") == 3);  // symmetric
}

TEST_CASE("EditDistance stops at max_distance", "[edit_distance]") {
  CHECK(EditDistance("kitten", "sitting", 3) == 3);
  CHECK(EditDistance("kitten", "sitting", 2) == 3);
  CHECK(EditDistance("abcdef", "uvwxyz", 1) == 2);
  CHECK(EditDistance("", "abcdef", 2) == 3);
  CHECK(EditDistance("abc", "abc", 1) == 0);
}

TEST_CASE("EditDistance with a max agrees with the full computation", "[edit_distance]") {
  // Every pair of short strings over a small alphabet, where typos abound.
  std::vector<std::string> words = {""};
  for (size_t i = 0; i < words.size() && words.size() < 400; ++i) {
    if (words[i].size() < 4) {
      for (char c : {'a', 'b', 'c'}) words.push_back(words[i] + c);
    }
  }
  for (const std::string& a : words) {
    for (const std::string& b : words) {
      int full = EditDistance(a, b);
      for (int max = 1; max <= 3; ++max) {
        if (EditDistance(a, b, max) != std::min(full, max + 1))
          FAIL_CHECK("'" << a << "' '" << b << "' max " << max);
      }
    }
  }
}

TEST_CASE("SpellingSuggestion returns the closest plausible candidate", "[edit_distance]") {
  const std::vector<std::string> keys = {"clients", "rate", "duration", "requests", "keep_alive"};
  CHECK(SpellingSuggestion("clinets", keys) == "clients");
  CHECK(SpellingSuggestion("duraton", keys) == "duration");
  CHECK(SpellingSuggestion("request", keys) == "requests");
  CHECK(SpellingSuggestion("keepalive", keys) == "keep_alive");
  CHECK(SpellingSuggestion("rate", keys) == "rate");
}

TEST_CASE("SpellingSuggestion returns nothing for far-off words", "[edit_distance]") {
  const std::vector<std::string> keys = {"at", "when", "signal", "to"};
  CHECK(SpellingSuggestion("xy", keys).empty());  // 2 edits from "at"
  CHECK(SpellingSuggestion("completely", keys).empty());
  CHECK(SpellingSuggestion("", keys).empty());
  CHECK(SpellingSuggestion("signal", {}).empty());
}

TEST_CASE("SpellingSuggestion prefers the earliest of equally close ones", "[edit_distance]") {
  CHECK(SpellingSuggestion("cat", {"bat", "hat"}) == "bat");
  CHECK(SpellingSuggestion("cat", {"hat", "bat"}) == "hat");
  CHECK(SpellingSuggestion("cat", {"hat", "ca"}) == "hat");
}

}  // namespace
}  // namespace lastcall
