// `lastcall explore`: finds the shutdown bugs nobody scripted.
// Each run draws a variation of a base scenario within its `explore:`
// bounds (variation.h) and runs it exactly as `lastcall run` would; a check
// that fails where the base expects it to pass is a failure. A failure is
// confirmed by running it again, shrunk (shrink.h) while it keeps failing,
// and written as an ordinary scenario file that reproduces it.
#ifndef LASTCALL_EXPLORE_H_
#define LASTCALL_EXPLORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "base/interrupt.h"
#include "run/run.h"

namespace lastcall {

struct ExploreOptions {
  std::string path;              // the base scenario file
  int64_t runs = 20;             // variations to try
  std::optional<uint64_t> seed;  // default: the base scenario's seed
  bool keep_going = false;       // go on after the first failure
  // A failing variation, and each shrink candidate, is run this many times
  // in all; it "still fails" only if every run fails the same check.
  int confirmations = 3;
  int max_shrink_tries = 40;                       // shrink candidates run, at most
  Duration shrink_time = std::chrono::minutes(3);  // then the shrink stops
};

// Runs the exploration with `run_options` (reports folder, --db; its seed
// must be unset) and prints a line per run. Returns the exit code: 0 when no
// failure was found, 1 when one was (its repro file is under
// <reports>/explore/), 2 for a bad base file, 3 when the infrastructure
// failed, 128 + N when lastcall got signal N.
int Explore(const ExploreOptions& options, const RunOptions& run_options, Interrupt* interrupt);

}  // namespace lastcall

#endif  // LASTCALL_EXPLORE_H_
