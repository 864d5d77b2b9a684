#include <string>
#include <vector>

#include "base/edit_distance.h"
#include "scenario/sections.h"
#include "scenario/sender.h"

namespace lastcall {

const char* RecipientName(Recipient recipient) {
  switch (recipient) {
    case Recipient::kProcess:
      return "process";
    case Recipient::kGroup:
      return "group";
    case Recipient::kTree:
      return "tree";
    case Recipient::kAll:
      return "all";
  }
  return "?";
}

namespace scenario_file {

const Keys kFaultKeys = {{"at", "when", "random", "sender", "signal", "to", "also", "grace",
                          "escalation", "deploys", "restart_delay", "after_exit"},
                         {}};
const Keys kWhenKeys = {{"in_flight", "completed", "db_transactions_open", "log", "sql"}, {}};
const Keys kRandomKeys = {{"between"}, {}};
const Keys kEscalationKeys = {{"signal", "to"}, {}};
const Keys kAfterExitKeys = {{"restart", "delay"}, {}};

namespace {

bool AsSender(YamlReader* yaml, const Value& value, const SenderPreset** out) {
  std::string name;
  if (!yaml->AsString(value, &name)) return false;
  if (!value.present) return true;
  *out = FindSender(name);
  if (*out) return true;
  std::vector<std::string> names;
  for (const SenderPreset& preset : SenderPresets()) names.push_back(preset.name);
  std::string hint = DidYouMean(name, names);
  if (hint.empty()) {
    hint = "; the senders are";
    for (const std::string& n : names) hint += (n == names.front() ? " " : ", ") + n;
  }
  return yaml->Fail(value, "unknown sender '" + name + "' in " + value.path + hint);
}

bool AsRecipient(YamlReader* yaml, const Value& value, Recipient* out) {
  static const std::vector<std::string> kNames = {"process", "group", "tree", "all"};
  std::string name;
  if (!yaml->AsString(value, &name)) return false;
  if (!value.present) return true;
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (name == kNames[i]) {
      *out = static_cast<Recipient>(i);
      return true;
    }
  }
  return yaml->Fail(value, value.path + " must be process, group, tree or all, got " +
                               Describe(value.node) + DidYouMean(name, kNames));
}

// `escalation: none`, or `{signal: KILL, to: all}`.
bool ParseEscalation(YamlReader* yaml, const Value& value, Fault* out) {
  if (!value.present) return true;
  if (value.node.IsScalar() && value.node.Scalar() == "none") {
    out->escalation_signal = 0;
    return true;
  }
  if (!value.node.IsMap())
    return yaml->Fail(value, value.path +
                                 " must be none or {signal: KILL, to: "
                                 "process|group|tree|all}, got " +
                                 Describe(value.node));
  Section section;
  return yaml->AsSection(value, kEscalationKeys, &section) &&
         yaml->AsSignal(section.Get("signal"), &out->escalation_signal) &&
         AsRecipient(yaml, section.Get("to"), &out->escalate_to);
}

bool ParseWhen(YamlReader* yaml, const Value& value, const LoadSpec& load, Trigger* out) {
  Section section;
  if (!yaml->AsSection(value, kWhenKeys, &section)) return false;
  if (section.fields.size() != 1)
    return yaml->Fail(value, value.path +
                                 " must have exactly one condition: "
                                 "in_flight, completed, "
                                 "db_transactions_open, log or sql");
  const std::string& condition = section.fields[0].key.Scalar();
  Value argument = section.Get(condition);
  if (condition == "log" || condition == "sql") {
    out->kind = condition == "log" ? Trigger::Kind::kLog : Trigger::Kind::kSql;
    // An empty text is a valid regular expression: the check below holds.
    if (!(out->kind == Trigger::Kind::kLog ? yaml->AsRegex(argument, &out->text)
                                           : yaml->AsString(argument, &out->text)))
      return false;
    if (out->text.empty()) return yaml->Fail(argument, argument.path + " must not be empty");
    return true;
  }
  out->kind = condition == "in_flight"   ? Trigger::Kind::kInFlight
              : condition == "completed" ? Trigger::Kind::kCompleted
                                         : Trigger::Kind::kDbTransactionsOpen;
  // N >= 1: a count of 0 holds before the first request, i.e. `at: 0s`.
  if (!yaml->AsInt(argument, 1, &out->count)) return false;
  // A closed loop never has more requests in flight than clients.
  if (out->kind == Trigger::Kind::kInFlight && out->count > load.clients)
    return yaml->Fail(argument, argument.path + " " + std::to_string(out->count) +
                                    " can never fire: at most " + std::to_string(load.clients) +
                                    " requests are in flight (load.clients)");
  return true;
}

// Exactly one of at, random and when.
bool ParseTrigger(YamlReader* yaml, const Section& fault, const LoadSpec& load, Trigger* out) {
  Value at = fault.Get("at");
  Value random = fault.Get("random");
  Value when = fault.Get("when");
  std::vector<const Value*> given;
  for (const Value* trigger : {&at, &random, &when})
    if (trigger->present) given.push_back(trigger);
  if (given.empty())
    return yaml->Fail(fault.self, fault.self.path +
                                      " needs a trigger (at, random or when), or "
                                      "after_exit");
  if (given.size() > 1)
    return yaml->Fail(given[1]->key, fault.self.path + " has both " + given[0]->key.Scalar() +
                                         " and " + given[1]->key.Scalar() +
                                         "; a fault has exactly one trigger");
  if (at.present) {
    // at: 0s is allowed: a signal racing the very first requests.
    out->kind = Trigger::Kind::kAt;
    return yaml->AsDuration(at, true, &out->at);
  }
  if (when.present) return ParseWhen(yaml, when, load, out);
  Section section;
  std::vector<Value> bounds;
  if (!yaml->AsSection(random, kRandomKeys, &section) || !yaml->Require(section, "between") ||
      !yaml->AsList(section.Get("between"), &bounds))
    return false;
  Value between = section.Get("between");
  if (bounds.size() != 2) return yaml->Fail(between, between.path + " must be [min, max]");
  out->kind = Trigger::Kind::kRandom;
  if (!yaml->AsDuration(bounds[0], true, &out->random_min) ||
      !yaml->AsDuration(bounds[1], true, &out->random_max))
    return false;
  if (out->random_min > out->random_max)
    return yaml->Fail(between, between.path + ": min is greater than max");
  return true;
}

bool ParseAfterExit(YamlReader* yaml, const Value& value, Fault* out) {
  Section section;
  if (!yaml->AsSection(value, kAfterExitKeys, &section) || !yaml->Require(section, "restart"))
    return false;
  Value restart = section.Get("restart");
  bool enabled = false;
  if (!yaml->AsBool(restart, &enabled)) return false;
  if (!enabled)
    return yaml->Fail(restart, restart.path +
                                   " must be true: restarting is the "
                                   "only action after exit");
  return yaml->AsDuration(section.Get("delay"), true, &out->restart_delay);
}

bool ParseFault(YamlReader* yaml, const Value& value, const LoadSpec& load, Fault* out,
                int64_t* deploys, Duration* restart_delay) {
  Section section;
  if (!yaml->AsSection(value, kFaultKeys, &section)) return false;
  out->location = yaml->Location(value.node);

  Value after_exit = section.Get("after_exit");
  if (after_exit.present) {
    for (const Field& field : section.fields) {
      if (field.key.Scalar() != "after_exit")
        return yaml->Fail(field.key, section.PathOf(field.key.Scalar()) +
                                         " does not apply to an after_exit fault");
    }
    *out = Fault();
    out->kind = Fault::Kind::kRestart;
    out->location = yaml->Location(value.node);
    return ParseAfterExit(yaml, after_exit, out);
  }

  const SenderPreset* preset = nullptr;
  if (!AsSender(yaml, section.Get("sender"), &preset)) return false;
  if (preset) ApplySender(*preset, out);
  if (!ParseTrigger(yaml, section, load, &out->trigger)) return false;

  Value to = section.Get("to");
  std::vector<Value> also;
  if (!yaml->AsSignal(section.Get("signal"), &out->signal) || !AsRecipient(yaml, to, &out->to) ||
      !yaml->AsList(section.Get("also"), &also) ||
      // grace: 0s escalates at once.
      !yaml->AsDuration(section.Get("grace"), true, &out->grace))
    return false;
  // Without a preset the escalation goes where the signal went.
  if (out->sender.empty()) out->escalate_to = out->to;
  if (section.Get("also").present) {
    out->also.assign(also.size(), 0);
    for (size_t i = 0; i < also.size(); ++i) {
      if (!yaml->AsSignal(also[i], &out->also[i])) return false;
    }
  }
  if (!ParseEscalation(yaml, section.Get("escalation"), out)) return false;

  Value count = section.Get("deploys");
  Value delay = section.Get("restart_delay");
  if (!yaml->AsInt(count, 1, 1000, deploys) || !yaml->AsDuration(delay, true, restart_delay))
    return false;
  if ((count.present || delay.present) && out->trigger.kind != Trigger::Kind::kAt)
    return yaml->Fail(count.present ? count.key : delay.key,
                      value.path +
                          ": deploys need an `at` trigger (each deploy "
                          "after the first fires that long after the new "
                          "instance is ready)");
  if (delay.present && !count.present) *deploys = 1;
  return true;
}

}  // namespace

bool ParseFaults(YamlReader* yaml, const Value& value, const Value& sender, const LoadSpec& load,
                 std::vector<Fault>* out) {
  const SenderPreset* preset = nullptr;
  if (!AsSender(yaml, sender, &preset)) return false;
  std::vector<Value> faults;
  if (!yaml->AsList(value, &faults)) return false;
  for (const Value& item : faults) {
    Fault fault;
    if (preset) ApplySender(*preset, &fault);
    int64_t deploys = 1;
    Duration restart_delay{0};
    if (!ParseFault(yaml, item, load, &fault, &deploys, &restart_delay)) return false;
    if (deploys == 1 && restart_delay.count() == 0) {
      out->push_back(fault);
      continue;
    }
    // A deploy is a signal, the exit, and a new instance; the next one's
    // trigger counts from the moment that instance is ready.
    Fault restart;
    restart.kind = Fault::Kind::kRestart;
    restart.restart_delay = restart_delay;
    restart.location = fault.location;
    for (int64_t i = 0; i < deploys; ++i) {
      out->push_back(fault);
      out->push_back(restart);
      fault.trigger.since_ready = true;
    }
  }
  return true;
}

}  // namespace scenario_file
}  // namespace lastcall
