#include "explore/shrink.h"

#include <algorithm>
#include <csignal>

namespace lastcall {

namespace {

constexpr int64_t kMillisecond = 1000000;  // in nanoseconds
// Shorter loads and grace periods than these say nothing more.
constexpr int64_t kShortestLoad = 100 * kMillisecond;
constexpr int64_t kShortestGrace = 100 * kMillisecond;

// `ns` rounded down to whole milliseconds, as drawn values are.
int64_t WholeMillis(int64_t ns) { return ns / kMillisecond * kMillisecond; }

// Smaller values to try for a trigger: half, and a quarter less (counts:
// one less), largest step first, none below `floor`.
std::vector<int64_t> SmallerValues(int64_t value, bool time, int64_t floor) {
  std::vector<int64_t> values;
  for (int64_t smaller :
       {time ? WholeMillis(value / 2) : value / 2, time ? WholeMillis(value * 3 / 4) : value - 1}) {
    if (smaller >= floor && smaller < value &&
        std::find(values.begin(), values.end(), smaller) == values.end())
      values.push_back(smaller);
  }
  return values;
}

// The latest `at` of `v`'s faults, 0 if none.
int64_t LatestAt(const Variation& v) {
  int64_t latest = 0;
  for (const VariedFault& f : v.faults)
    if (f.trigger == Trigger::Kind::kAt) latest = std::max(latest, f.value);
  return latest;
}

void AddFewerFaults(const Variation& v, std::vector<Variation>* out) {
  for (size_t i = 0; v.faults.size() > 1 && i < v.faults.size(); ++i) {
    Variation fewer = v;
    fewer.faults.erase(fewer.faults.begin() + static_cast<long>(i));
    out->push_back(fewer);
  }
  for (size_t i = 0; i < v.faults.size(); ++i) {
    if (!v.faults[i].restart) continue;
    Variation plain = v;
    plain.faults[i].restart = false;
    out->push_back(plain);
  }
}

void AddSteadierTriggers(const Variation& v, std::vector<Variation>* out) {
  for (size_t i = 0; i < v.faults.size(); ++i) {
    if (v.faults[i].trigger != Trigger::Kind::kAt) continue;
    for (Trigger::Kind state : {Trigger::Kind::kInFlight, Trigger::Kind::kDbTransactionsOpen}) {
      Variation steadier = v;
      steadier.faults[i].trigger = state;
      steadier.faults[i].value = 1;
      out->push_back(steadier);
    }
  }
}

void AddFewerClients(const Variation& v, std::vector<Variation>* out) {
  for (int64_t clients : SmallerValues(v.clients, false, 1)) {
    Variation fewer = v;
    fewer.clients = static_cast<int>(clients);
    for (VariedFault& f : fewer.faults)
      if (f.trigger == Trigger::Kind::kInFlight) f.value = std::min(f.value, clients);
    out->push_back(fewer);
  }
}

void AddShorterLoad(const Variation& v, std::vector<Variation>* out) {
  if (v.requests > 0) {
    for (int64_t requests : SmallerValues(v.requests, false, 1)) {
      Variation shorter = v;
      shorter.requests = requests;
      out->push_back(shorter);
    }
    return;
  }
  // The load must outlast every `at`, or that fault would never fire.
  int64_t floor = std::max(kShortestLoad, WholeMillis(LatestAt(v)) + kMillisecond);
  for (int64_t duration : SmallerValues(v.duration.count(), true, floor)) {
    Variation shorter = v;
    shorter.duration = Duration(duration);
    out->push_back(shorter);
  }
}

void AddEarlierTriggers(const Variation& v, std::vector<Variation>* out) {
  for (size_t i = 0; i < v.faults.size(); ++i) {
    const VariedFault& f = v.faults[i];
    bool time = f.trigger == Trigger::Kind::kAt;
    for (int64_t value : SmallerValues(f.value, time, time ? 0 : 1)) {
      Variation earlier = v;
      earlier.faults[i].value = value;
      out->push_back(earlier);
    }
  }
}

void AddPlainerSignals(const Variation& v, std::vector<Variation>* out) {
  for (size_t i = 0; i < v.faults.size(); ++i) {
    const VariedFault& f = v.faults[i];
    if (f.signal == SIGTERM || f.signal == SIGKILL) continue;
    Variation plain = v;
    plain.faults[i].signal = SIGTERM;
    out->push_back(plain);
  }
  for (size_t i = 0; i < v.faults.size(); ++i) {
    const VariedFault& f = v.faults[i];
    if (f.signal == SIGKILL) continue;  // no grace: nothing to shorten
    for (int64_t grace : SmallerValues(f.grace.count(), true, kShortestGrace)) {
      Variation shorter = v;
      shorter.faults[i].grace = Duration(grace);
      out->push_back(shorter);
    }
  }
}

}  // namespace

std::vector<Variation> SimplerVariations(const Variation& v) {
  std::vector<Variation> candidates;
  AddFewerFaults(v, &candidates);
  AddSteadierTriggers(v, &candidates);
  AddFewerClients(v, &candidates);
  AddShorterLoad(v, &candidates);
  AddEarlierTriggers(v, &candidates);
  AddPlainerSignals(v, &candidates);
  return candidates;
}

std::vector<Variation> SteadierVariations(const Variation& v) {
  std::vector<Variation> candidates;
  AddSteadierTriggers(v, &candidates);
  return candidates;
}

ShrinkResult Shrink(const Variation& failing,
                    const std::function<bool(const Variation&)>& still_fails, int max_tried,
                    const std::function<bool()>& stop) {
  ShrinkResult result;
  result.smallest = failing;
  for (bool progress = true; progress;) {
    progress = false;
    for (const Variation& candidate : SimplerVariations(result.smallest)) {
      if (result.tried >= max_tried || stop()) return result;
      ++result.tried;
      if (still_fails(candidate)) {
        result.smallest = candidate;
        ++result.steps;
        progress = true;
        break;
      }
    }
  }
  return result;
}

}  // namespace lastcall
