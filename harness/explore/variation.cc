#include "explore/variation.h"

#include <algorithm>
#include <csignal>

#include "base/splitmix.h"

namespace lastcall {

namespace {

constexpr int64_t kMillisecond = 1000000;  // in nanoseconds

// A stream of draws for one run: the n-th is a hash of (seed, run, n), so a
// draw never depends on how many draws another run made.
class Draws {
 public:
  Draws(uint64_t seed, int64_t run)
      : key_(SplitMix64(seed ^ SplitMix64(static_cast<uint64_t>(run)))) {}

  uint64_t Next() { return SplitMix64(key_ ^ SplitMix64(++count_)); }

  // Uniform in [min, max].
  int64_t Between(int64_t min, int64_t max) {
    uint64_t span = static_cast<uint64_t>(max) - static_cast<uint64_t>(min);
    uint64_t draw = Next();
    return static_cast<int64_t>(static_cast<uint64_t>(min) +
                                (span == UINT64_MAX ? draw : draw % (span + 1)));
  }

  // A duration in [range.min, range.max], in whole milliseconds when the
  // range holds one, so that files and progress lines read well.
  int64_t Millis(const ExploreSpec::Range& range) {
    int64_t low = (range.min + kMillisecond - 1) / kMillisecond;
    int64_t high = range.max / kMillisecond;
    return low > high ? range.min : Between(low, high) * kMillisecond;
  }

  size_t Index(size_t size) {
    return static_cast<size_t>(Between(0, static_cast<int64_t>(size) - 1));
  }

 private:
  const uint64_t key_;
  uint64_t count_ = 0;
};

// The `completed` counts of `faults`, each drawn on its own, put in
// increasing order (the faults keep their places). Faults fire in order, so
// a count the load had already reached would fire the moment its fault is
// armed, after a restart on a request sent to the new instance, not on an
// answer; in order, each fires on an answer of its own.
void IncreasingCompletedCounts(std::vector<VariedFault>* faults) {
  std::vector<int64_t> counts;
  for (const VariedFault& f : *faults)
    if (f.trigger == Trigger::Kind::kCompleted) counts.push_back(f.value);
  std::sort(counts.begin(), counts.end());
  size_t next = 0;
  for (VariedFault& f : *faults)
    if (f.trigger == Trigger::Kind::kCompleted) f.value = counts[next++];
}

}  // namespace

bool Variation::operator==(const Variation& o) const {
  if (seed != o.seed || clients != o.clients || duration != o.duration || requests != o.requests ||
      faults.size() != o.faults.size())
    return false;
  for (size_t i = 0; i < faults.size(); ++i) {
    const VariedFault& a = faults[i];
    const VariedFault& b = o.faults[i];
    if (a.signal != b.signal || a.trigger != b.trigger || a.value != b.value ||
        a.grace != b.grace || a.restart != b.restart)
      return false;
  }
  return true;
}

Variation DrawVariation(const Scenario& base, uint64_t seed, int64_t run) {
  const ExploreSpec& bounds = base.explore;
  Draws draws(seed, run);
  Variation v;
  v.seed = draws.Next();
  v.clients = static_cast<int>(draws.Between(bounds.clients.min, bounds.clients.max));
  v.duration = base.load.duration;
  v.requests = base.load.requests;
  int64_t count = draws.Between(bounds.faults.min, bounds.faults.max);
  for (int64_t i = 0; i < count; ++i) {
    VariedFault fault;
    fault.signal = bounds.signals[draws.Index(bounds.signals.size())];
    const ExploreSpec::TriggerRange& trigger = bounds.triggers[draws.Index(bounds.triggers.size())];
    fault.trigger = trigger.kind;
    ExploreSpec::Range range = trigger.range;
    if (fault.trigger == Trigger::Kind::kInFlight) {
      // Never more in flight than this run's clients.
      range.max = std::min<int64_t>(range.max, v.clients);
      range.min = std::min(range.min, range.max);
    }
    fault.value = fault.trigger == Trigger::Kind::kAt ? draws.Millis(range)
                                                      : draws.Between(range.min, range.max);
    fault.grace = Duration(draws.Millis(bounds.grace));
    fault.restart = bounds.restart[draws.Index(bounds.restart.size())];
    v.faults.push_back(fault);
  }
  IncreasingCompletedCounts(&v.faults);
  return v;
}

std::string DescribeVariation(const Variation& v) {
  std::string text =
      std::to_string(v.clients) + (v.clients == 1 ? " client, " : " clients, ") +
      (v.requests > 0 ? std::to_string(v.requests) + " requests" : DurationText(v.duration));
  for (const VariedFault& f : v.faults) {
    text += "; " + SignalName(f.signal) + " ";
    switch (f.trigger) {
      case Trigger::Kind::kAt:
        text += "at " + DurationText(Duration(f.value));
        break;
      case Trigger::Kind::kInFlight:
        text += "when in_flight " + std::to_string(f.value);
        break;
      case Trigger::Kind::kCompleted:
        text += "when completed " + std::to_string(f.value);
        break;
      default:
        text += "when db_transactions_open " + std::to_string(f.value);
        break;
    }
    if (f.signal != SIGKILL) text += " (grace " + DurationText(f.grace) + ")";
    if (f.restart) text += ", restart";
  }
  return text;
}

}  // namespace lastcall
