#include "explore/variation_file.h"

#include <csignal>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace lastcall {

namespace {

const char* TriggerKey(Trigger::Kind kind) {
  switch (kind) {
    case Trigger::Kind::kInFlight:
      return "in_flight";
    case Trigger::Kind::kCompleted:
      return "completed";
    default:
      return "db_transactions_open";
  }
}

// How the base's faults reach the target: the first signal fault's
// recipient, extra signals and escalation (its sender's, if it has one).
Fault DeliveryOf(const Scenario& base) {
  for (const Fault& fault : base.faults)
    if (fault.kind == Fault::Kind::kSignal) return fault;
  return Fault();
}

YAML::Node FaultNode(const VariedFault& varied, const Fault& delivery) {
  YAML::Node node(YAML::NodeType::Map);
  node.SetStyle(YAML::EmitterStyle::Flow);
  if (varied.trigger == Trigger::Kind::kAt) {
    node["at"] = DurationText(Duration(varied.value));
  } else {
    node["when"][TriggerKey(varied.trigger)] = varied.value;
  }
  node["signal"] = SignalName(varied.signal);
  node["grace"] = DurationText(varied.grace);
  if (delivery.to != Recipient::kProcess) node["to"] = RecipientName(delivery.to);
  if (!delivery.also.empty()) {
    for (int signal : delivery.also) node["also"].push_back(SignalName(signal));
  }
  // Without a sender, the escalation is KILL to the signal's recipient.
  if (delivery.escalation_signal == 0) {
    node["escalation"] = "none";
  } else if (delivery.escalation_signal != SIGKILL || delivery.escalate_to != delivery.to) {
    node["escalation"]["signal"] = SignalName(delivery.escalation_signal);
    node["escalation"]["to"] = RecipientName(delivery.escalate_to);
  }
  return node;
}

YAML::Node FaultsNode(const Variation& variation, const Fault& delivery) {
  YAML::Node faults(YAML::NodeType::Sequence);
  for (const VariedFault& varied : variation.faults) {
    faults.push_back(FaultNode(varied, delivery));
    if (!varied.restart) continue;
    YAML::Node restart(YAML::NodeType::Map);
    restart.SetStyle(YAML::EmitterStyle::Flow);
    restart["after_exit"]["restart"] = true;
    faults.push_back(restart);
  }
  return faults;
}

// The paths of the base, which were relative to its folder, made absolute;
// the target runs in the base's folder, as it did.
void MakePathsAbsolute(const Scenario& base, YAML::Node root) {
  if (!base.database.schema_path.empty()) root["database"]["schema"] = base.database.schema_path;
  root["target"]["command"][0] = base.target.command[0];
  root["target"]["cwd"] = base.target.cwd;
}

void SetLoad(const Variation& variation, YAML::Node load) {
  load["clients"] = variation.clients;
  load.remove(variation.requests > 0 ? "duration" : "requests");
  if (variation.requests > 0)
    load["requests"] = variation.requests;
  else
    load["duration"] = DurationText(variation.duration);
}

}  // namespace

bool VariationYaml(const std::string& base_yaml, const Scenario& base, const Variation& variation,
                   const VariationFile& file, std::string* yaml, std::string* error) {
  YAML::Node root;
  try {
    root = YAML::Load(base_yaml);
  } catch (const YAML::Exception& e) {
    *error = base.file + ": " + e.what();
    return false;
  }
  if (!root.IsMap()) {
    *error = base.file + ": not a YAML map";
    return false;
  }
  root.remove("explore");
  root.remove("sender");
  root["name"] = file.name;
  root["seed"] = std::to_string(variation.seed);
  MakePathsAbsolute(base, root);
  SetLoad(variation, root["load"]);
  root["faults"] = FaultsNode(variation, DeliveryOf(base));
  if (!file.expect_fail.empty()) {
    root.remove("expect");
    YAML::Node fail(YAML::NodeType::Sequence);
    fail.SetStyle(YAML::EmitterStyle::Flow);
    for (const std::string& check : file.expect_fail) fail.push_back(check);
    root["expect"]["fail"] = fail;
  }
  std::ostringstream out;
  std::istringstream comment(file.comment);
  for (std::string line; std::getline(comment, line);) out << "# " << line << "\n";
  YAML::Emitter emitter;
  emitter << root;
  out << emitter.c_str() << "\n";
  *yaml = out.str();
  return true;
}

}  // namespace lastcall
