// Edit distance and "did you mean" suggestions for misspelt keys, check
// names and variables (after ninja's edit_distance.cc).
#ifndef LASTCALL_EDIT_DISTANCE_H_
#define LASTCALL_EDIT_DISTANCE_H_

#include <string>
#include <string_view>
#include <vector>

namespace lastcall {

// The edit distance between s1 and s2: the fewest single-character
// insertions, deletions, replacements and swaps of adjacent characters that
// turn one into the other (Levenshtein distance plus swaps, the commonest
// typo: "clinets" is one edit from "clients", not two).
// When max_distance > 0 and the distance is larger, returns max_distance + 1
// as soon as that is certain, so that far-off words are rejected cheaply.
int EditDistance(std::string_view s1, std::string_view s2, int max_distance = 0);

// The candidate closest to `word`, or "" when none is close enough to be a
// plausible typo. Ties go to the earliest candidate.
std::string SpellingSuggestion(const std::string& word, const std::vector<std::string>& candidates);

// " (did you mean 'clients'?)" after an error message, or "" when no
// candidate is close.
std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace lastcall

#endif  // LASTCALL_EDIT_DISTANCE_H_
