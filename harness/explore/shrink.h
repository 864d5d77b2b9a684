// Shrinking, as QuickCheck and Jepsen do it: a variation that made the
// target fail is replaced by a simpler one as long as the simpler one still
// fails, so that the file a person finally reads has only what the failure
// needs. Pure logic: whether a candidate still fails is the caller's
// question (explore.h runs it against the target).
#ifndef LASTCALL_SHRINK_H_
#define LASTCALL_SHRINK_H_

#include <functional>
#include <vector>

#include "explore/variation.h"

namespace lastcall {

// The variations one step simpler than `v`, the biggest simplification
// first: a fault fewer, no restart after a fault, fewer clients, a shorter
// load, each trigger earlier (a smaller count or time), TERM instead of
// another graceful signal, a shorter grace. Each keeps what makes a fault
// able to fire: `at` before the load ends, in_flight at most the clients.
std::vector<Variation> SimplerVariations(const Variation& v);

// The variations of `v` with one `at` fault's time replaced by a state of
// the target that such a time usually aims at: a request in flight
// (`in_flight: 1`) or a transaction open (`db_transactions_open: 1`). A
// time lands in a window of a few milliseconds only now and then, on a
// busy machine less often; a state trigger waits for the window, so a
// failure that needs one reproduces more often. Among SimplerVariations,
// right after a fault fewer; explore also tries them on a failure that
// did not fail in every confirming run, before giving up shrinking it.
std::vector<Variation> SteadierVariations(const Variation& v);

struct ShrinkResult {
  Variation smallest;  // the failing variation if no candidate failed
  int steps = 0;       // candidates accepted
  int tried = 0;       // candidates asked about
};

// Greedy: asks `still_fails` about SimplerVariations(current) in order; the
// first that still fails becomes current and the search starts again from
// it. Ends when none does, after `max_tried` candidates, or as soon as
// `stop()` (time is up, lastcall is interrupted) says so.
ShrinkResult Shrink(const Variation& failing,
                    const std::function<bool(const Variation&)>& still_fails, int max_tried,
                    const std::function<bool()>& stop);

}  // namespace lastcall

#endif  // LASTCALL_SHRINK_H_
