// A variation (Jepsen would say: one draw of the generator) is what `lastcall
// explore` changes in a scenario from one run to the next, within the bounds
// of its `explore:` section: the number of clients, the load's length, and
// the faults — each a signal, its trigger, its grace period, and whether a
// new instance follows it. Drawn from (seed, run index) only, so the same
// seed gives the same sequence on every machine.
#ifndef LASTCALL_VARIATION_H_
#define LASTCALL_VARIATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "scenario/scenario.h"

namespace lastcall {

struct VariedFault {
  int signal = 15;  // SIGTERM
  Trigger::Kind trigger = Trigger::Kind::kAt;
  int64_t value = 0;  // kAt: nanoseconds since the load started; else a count
  Duration grace{0};
  bool restart = false;  // a new instance once this one has exited
};

struct Variation {
  uint64_t seed = 0;  // the scenario's seed for the run (keys, amounts)
  int clients = 1;
  Duration duration{0};  // the load's length: one of duration and requests
  int64_t requests = 0;
  std::vector<VariedFault> faults;

  bool operator==(const Variation& o) const;
};

// Run `run`'s variation of `base` within base.explore, drawn from `seed` and
// `run` only. The load's length is the base's.
Variation DrawVariation(const Scenario& base, uint64_t seed, int64_t run);

// One line for people: "4 clients, 1s; TERM at 420ms (grace 2s), restart".
std::string DescribeVariation(const Variation& variation);

}  // namespace lastcall

#endif  // LASTCALL_VARIATION_H_
