#include "base/edit_distance.h"

#include <algorithm>

namespace lastcall {

int EditDistance(std::string_view s1, std::string_view s2, int max_distance) {
  // The classic dynamic-programming algorithm over the (|s1|+1) x (|s2|+1)
  // table of distances between prefixes, keeping only the rows it reads:
  // the one being computed and the two above it (for swaps).
  const size_t n = s2.size();
  std::vector<int> before_last(n + 1), last(n + 1), row(n + 1);
  for (size_t x = 0; x <= n; ++x) row[x] = static_cast<int>(x);
  int best_in_last = 0;

  for (size_t y = 1; y <= s1.size(); ++y) {
    before_last.swap(last);
    last.swap(row);
    row[0] = static_cast<int>(y);
    int best_in_row = row[0];
    for (size_t x = 1; x <= n; ++x) {
      int replace = last[x - 1] + (s1[y - 1] == s2[x - 1] ? 0 : 1);
      row[x] = std::min(replace, std::min(row[x - 1], last[x]) + 1);
      if (y > 1 && x > 1 && s1[y - 1] == s2[x - 2] && s1[y - 2] == s2[x - 1])
        row[x] = std::min(row[x], before_last[x - 2] + 1);
      best_in_row = std::min(best_in_row, row[x]);
    }
    // An entry is at least the smallest of the row above, or of the row
    // before that plus one; once two rows in a row are over the limit, so
    // is every later one.
    if (max_distance > 0 && best_in_row > max_distance && best_in_last > max_distance)
      return max_distance + 1;
    best_in_last = best_in_row;
  }
  if (max_distance > 0 && row[n] > max_distance) return max_distance + 1;
  return row[n];
}

std::string SpellingSuggestion(const std::string& word,
                               const std::vector<std::string>& candidates) {
  // Up to 3 edits, but no more than half the word: two letters can be
  // turned into any other two, which would make every short word "close".
  const int max_distance = std::min(3, std::max(1, static_cast<int>(word.size()) / 2));
  int best_distance = max_distance + 1;
  const std::string* best = nullptr;
  for (const std::string& candidate : candidates) {
    int distance = EditDistance(word, candidate, max_distance);
    if (distance < best_distance) {
      best_distance = distance;
      best = &candidate;
    }
  }
  return best ? *best : std::string();
}

std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string suggestion = SpellingSuggestion(word, candidates);
  return suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)";
}

}  // namespace lastcall
