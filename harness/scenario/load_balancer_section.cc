#include "scenario/sections.h"

namespace lastcall {

const Keys kLoadBalancerKeys = {{"check", "retries", "redispatch",
                                  "rolling_restart"},
                                 {}};
const Keys kHealthCheckKeys = {{"path", "interval", "rise", "fall"}, {}};
const Keys kRollingRestartKeys = {{"at", "deregister", "pre_stop",
                                   "propagation", "signal", "grace",
                                   "allowed_client_errors"},
                                  {}};
bool Parser::ParseHealthCheck(const Value& value, LoadBalancerSpec* out) {
  Section section;
  if (!AsSection(value, kHealthCheckKeys, &section) ||
      !AsString(section.Get("path"), &out->check_path) ||
      !AsDuration(section.Get("interval"), false, &out->check_interval) ||
      !AsInt(section.Get("rise"), 1, 100, &out->rise) ||
      !AsInt(section.Get("fall"), 1, 100, &out->fall))
    return false;
  Value path = section.Get("path");
  if (out->check_path.empty() || out->check_path[0] != '/' ||
      out->check_path.find_first_of(" \t\r\n") != std::string::npos)
    return Fail(path, "load_balancer.check.path must be a path starting "
                      "with / and without spaces, got " + Describe(path.node));
  return true;
}

bool Parser::ParseRollingRestart(const Value& value, RollingRestart* out) {
  static const std::vector<std::string> kTimings = {"with_signal", "pre_stop",
                                                    "health_checks"};
  Section section;
  std::string timing = "with_signal";
  if (!AsSection(value, kRollingRestartKeys, &section))
    return false;
  out->enabled = value.present;
  Value deregister = section.Get("deregister");
  Value pre_stop = section.Get("pre_stop");
  if (!AsDuration(section.Get("at"), true, &out->at) ||
      !AsString(deregister, &timing) ||
      !AsDuration(pre_stop, true, &out->pre_stop) ||
      !AsDuration(section.Get("propagation"), true, &out->propagation) ||
      !AsSignal(section.Get("signal"), &out->signal) ||
      !AsDuration(section.Get("grace"), true, &out->grace) ||
      !AsInt(section.Get("allowed_client_errors"), 0,
             &out->allowed_client_errors))
    return false;
  auto found = std::find(kTimings.begin(), kTimings.end(), timing);
  if (found == kTimings.end())
    return Fail(deregister, deregister.path +
                                " must be with_signal, pre_stop or "
                                "health_checks, got " +
                                Describe(deregister.node) +
                                DidYouMean(timing, kTimings));
  out->deregister = static_cast<Deregistration>(found - kTimings.begin());
  if ((out->deregister == Deregistration::kPreStop) != pre_stop.present)
    return Fail(pre_stop.present ? pre_stop.key : deregister.key,
                value.path + ": pre_stop goes with deregister: pre_stop, "
                             "and only with it");
  return true;
}

// After the target and faults: the load balancer is on when the section is
// present or the target has several instances.
bool Parser::ParseLoadBalancer(const Value& value, const Scenario& scenario,
                               LoadBalancerSpec* out) {
  Section section;
  if (!AsSection(value, kLoadBalancerKeys, &section))
    return false;
  out->enabled = value.present || scenario.target.instances > 1;
  if (!out->enabled)
    return true;
  if (!scenario.faults.empty()) {
    error_ = scenario.faults[0].location.ToString() +
             ": faults with a load balancer are not supported yet; a deploy "
             "is load_balancer.rolling_restart";
    return false;
  }
  if (scenario.target.container)
    return Fail(value.key, "target.container with a load balancer is not "
                           "supported yet");
  return ParseHealthCheck(section.Get("check"), out) &&
         AsInt(section.Get("retries"), 0, 100, &out->retries) &&
         AsBool(section.Get("redispatch"), &out->redispatch) &&
         ParseRollingRestart(section.Get("rolling_restart"),
                             &out->rolling_restart);
}


}  // namespace lastcall
