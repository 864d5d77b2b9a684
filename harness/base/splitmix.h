// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-mixed 64-bit hash. Every
// value lastcall draws from a scenario's seed goes through it, so a draw
// depends only on (seed, what is drawn) — not on thread scheduling, and not on
// the standard library (whose distributions differ between implementations).
#ifndef LASTCALL_SPLITMIX_H_
#define LASTCALL_SPLITMIX_H_

#include <cstdint>

namespace lastcall {

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace lastcall

#endif  // LASTCALL_SPLITMIX_H_
