#include <algorithm>
#include <string>
#include <vector>

#include "base/edit_distance.h"
#include "scenario/sections.h"

namespace lastcall::scenario_file {

const Keys kLoadBalancerKeys = {{"check", "retries", "redispatch", "rolling_restart"}, {}};
const Keys kHealthCheckKeys = {{"path", "interval", "rise", "fall"}, {}};
const Keys kRollingRestartKeys = {
    {"at", "deregister", "pre_stop", "propagation", "signal", "grace", "allowed_client_errors"},
    {}};

namespace {

bool ParseHealthCheck(YamlReader* yaml, const Value& value, LoadBalancerSpec* out) {
  Section section;
  if (!yaml->AsSection(value, kHealthCheckKeys, &section) ||
      !yaml->AsString(section.Get("path"), &out->check_path) ||
      !yaml->AsDuration(section.Get("interval"), false, &out->check_interval) ||
      !yaml->AsInt(section.Get("rise"), 1, 100, &out->rise) ||
      !yaml->AsInt(section.Get("fall"), 1, 100, &out->fall))
    return false;
  Value path = section.Get("path");
  if (out->check_path.empty() || out->check_path[0] != '/' ||
      out->check_path.find_first_of(" \t\r\n") != std::string::npos)
    return yaml->Fail(path,
                      "load_balancer.check.path must be a path starting "
                      "with / and without spaces, got " +
                          Describe(path.node));
  return true;
}

bool ParseRollingRestart(YamlReader* yaml, const Value& value, RollingRestart* out) {
  static const std::vector<std::string> kTimings = {"with_signal", "pre_stop", "health_checks"};
  Section section;
  std::string timing = "with_signal";
  if (!yaml->AsSection(value, kRollingRestartKeys, &section)) return false;
  out->enabled = value.present;
  Value deregister = section.Get("deregister");
  Value pre_stop = section.Get("pre_stop");
  if (!yaml->AsDuration(section.Get("at"), true, &out->at) ||
      !yaml->AsString(deregister, &timing) || !yaml->AsDuration(pre_stop, true, &out->pre_stop) ||
      !yaml->AsDuration(section.Get("propagation"), true, &out->propagation) ||
      !yaml->AsSignal(section.Get("signal"), &out->signal) ||
      !yaml->AsDuration(section.Get("grace"), true, &out->grace) ||
      !yaml->AsInt(section.Get("allowed_client_errors"), 0, &out->allowed_client_errors))
    return false;
  auto found = std::find(kTimings.begin(), kTimings.end(), timing);
  if (found == kTimings.end())
    return yaml->Fail(deregister, deregister.path +
                                      " must be with_signal, pre_stop or "
                                      "health_checks, got " +
                                      Describe(deregister.node) + DidYouMean(timing, kTimings));
  out->deregister = static_cast<Deregistration>(found - kTimings.begin());
  if ((out->deregister == Deregistration::kPreStop) != pre_stop.present)
    return yaml->Fail(pre_stop.present ? pre_stop.key : deregister.key,
                      value.path +
                          ": pre_stop goes with deregister: pre_stop, "
                          "and only with it");
  return true;
}

}  // namespace

// After the target and faults: the load balancer is on when the section is
// present or the target has several instances.
bool ParseLoadBalancer(YamlReader* yaml, const Value& value, const Scenario& scenario,
                       LoadBalancerSpec* out) {
  Section section;
  if (!yaml->AsSection(value, kLoadBalancerKeys, &section)) return false;
  out->enabled = value.present || scenario.target.instances > 1;
  if (!out->enabled) return true;
  if (!scenario.faults.empty()) {
    return yaml->Fail(scenario.faults[0].location,
                      "faults with a load balancer are not supported yet; a "
                      "deploy is load_balancer.rolling_restart");
  }
  if (scenario.target.container)
    return yaml->Fail(value.key,
                      "target.container with a load balancer is not "
                      "supported yet");
  return ParseHealthCheck(yaml, section.Get("check"), out) &&
         yaml->AsInt(section.Get("retries"), 0, 100, &out->retries) &&
         yaml->AsBool(section.Get("redispatch"), &out->redispatch) &&
         ParseRollingRestart(yaml, section.Get("rolling_restart"), &out->rolling_restart);
}

}  // namespace lastcall::scenario_file
