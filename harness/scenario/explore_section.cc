#include <algorithm>
#include <climits>
#include <csignal>
#include <string>
#include <vector>

#include "scenario/sections.h"

namespace lastcall::scenario_file {

constexpr int64_t kMaxExploredFaults = 10;
const Keys kExploreKeys = {{"signals", "triggers", "grace", "faults", "restart", "clients"}, {}};
const Keys kExploreTriggerKeys = {{"at", "in_flight", "completed", "db_transactions_open"}, {}};

namespace {

// `[min, max]`, or one value for both: durations (0 allowed) or integers
// of at least `min`.
bool AsRange(YamlReader* yaml, const Value& value, bool durations, int64_t min,
             ExploreSpec::Range* out) {
  if (!value.present) return true;
  std::vector<Value> bounds = {value, value};
  if (value.node.IsSequence() && !yaml->AsList(value, &bounds)) return false;
  if (bounds.size() != 2) return yaml->Fail(value, value.path + " must be [min, max] or one value");
  int64_t parsed[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    Duration duration{0};
    if (durations ? !yaml->AsDuration(bounds[i], true, &duration)
                  : !yaml->AsInt(bounds[i], min, INT_MAX, &parsed[i]))
      return false;
    if (durations) parsed[i] = duration.count();
  }
  if (parsed[0] > parsed[1]) return yaml->Fail(value, value.path + ": min is greater than max");
  *out = {parsed[0], parsed[1]};
  return true;
}

// `restart: true`, or a list to draw from: `[false, true]`.
bool ParseExploreRestart(YamlReader* yaml, const Value& value, ExploreSpec* out) {
  if (!value.present) return true;
  std::vector<Value> choices = {value};
  if (value.node.IsSequence() && !yaml->AsList(value, &choices)) return false;
  if (choices.empty())
    return yaml->Fail(value, value.path + " must be true, false or a list of them");
  out->restart.assign(choices.size(), false);
  for (size_t i = 0; i < choices.size(); ++i) {
    bool choice = false;
    if (!yaml->AsBool(choices[i], &choice)) return false;
    out->restart[i] = choice;
  }
  return true;
}

bool ParseExploreTriggers(YamlReader* yaml, const Value& value, const Scenario& scenario,
                          ExploreSpec* out) {
  if (!value.present) return true;
  Section section;
  if (!yaml->AsSection(value, kExploreTriggerKeys, &section)) return false;
  if (section.fields.empty())
    return yaml->Fail(value, value.path +
                                 " must name at least one of at, "
                                 "in_flight, completed and "
                                 "db_transactions_open");
  out->triggers.clear();
  for (const Field& field : section.fields) {
    const std::string& name = field.key.Scalar();
    Value range{true, field.value, field.key, section.PathOf(name)};
    ExploreSpec::TriggerRange trigger;
    trigger.kind = name == "at"          ? Trigger::Kind::kAt
                   : name == "in_flight" ? Trigger::Kind::kInFlight
                   : name == "completed" ? Trigger::Kind::kCompleted
                                         : Trigger::Kind::kDbTransactionsOpen;
    if (!AsRange(yaml, range, name == "at", 1, &trigger.range)) return false;
    const int64_t load = scenario.load.duration.count();
    if (name == "at" && load > 0 && trigger.range.max >= load)
      return yaml->Fail(range, range.path +
                                   " must end before the load does "
                                   "(load.duration): a fault drawn later "
                                   "would never fire");
    // A closed loop never has more requests in flight than clients.
    if (name == "in_flight" && trigger.range.min > out->clients.max)
      return yaml->Fail(range, range.path + " can never fire: at most " +
                                   std::to_string(out->clients.max) +
                                   " requests are in flight (explore.clients)");
    out->triggers.push_back(trigger);
  }
  return true;
}

}  // namespace

// `explore:`, the bounds of `lastcall explore`. Every key has a default from
// the rest of the scenario, so `explore: {}` is enough.
bool ParseExplore(YamlReader* yaml, const Value& value, const Scenario& scenario,
                  ExploreSpec* out) {
  out->signals = {SIGTERM, SIGINT, SIGKILL};
  out->clients = {scenario.load.clients, scenario.load.clients};
  Duration grace = std::chrono::seconds(30);
  for (const Fault& fault : scenario.faults) {
    if (fault.kind == Fault::Kind::kSignal) {
      grace = fault.grace;
      break;
    }
  }
  out->grace = {grace.count(), grace.count()};
  const int64_t load = scenario.load.duration.count();
  // 80 % without multiplying first: a load may be as long as kMaxDuration,
  // or as many requests as an int64_t holds.
  auto eight_tenths = [](int64_t n) { return n / 10 * 8 + n % 10 * 8 / 10; };
  if (load > 0)
    out->triggers = {{Trigger::Kind::kAt, {load / 10, eight_tenths(load)}}};
  else
    out->triggers = {{Trigger::Kind::kCompleted,
                      {1, std::max<int64_t>(1, eight_tenths(scenario.load.requests))}}};

  Section section;
  if (!yaml->AsSection(value, kExploreKeys, &section)) return false;
  Value signals = section.Get("signals");
  std::vector<Value> names;
  if (!yaml->AsList(signals, &names)) return false;
  if (signals.present && names.empty())
    return yaml->Fail(signals, signals.path + " must name at least one signal");
  if (signals.present) out->signals.assign(names.size(), 0);
  for (size_t i = 0; i < names.size(); ++i) {
    if (!yaml->AsSignal(names[i], &out->signals[i])) return false;
  }
  Value faults = section.Get("faults");
  if (!AsRange(yaml, section.Get("grace"), true, 0, &out->grace) ||
      !AsRange(yaml, section.Get("clients"), false, 1, &out->clients) ||
      !AsRange(yaml, faults, false, 1, &out->faults))
    return false;
  if (out->faults.max > kMaxExploredFaults)
    return yaml->Fail(faults, faults.path + " must be at most " +
                                  std::to_string(kMaxExploredFaults) + " signals per run");
  return ParseExploreRestart(yaml, section.Get("restart"), out) &&
         ParseExploreTriggers(yaml, section.Get("triggers"), scenario, out);
}

}  // namespace lastcall::scenario_file
