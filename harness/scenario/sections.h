// The sections of the scenario file, each read by a file of its own with a
// YamlReader: target_section.cc, load_section.cc, faults_section.cc,
// services_section.cc (database, jobs, redis), load_balancer_section.cc,
// audit_section.cc (audit and expect) and explore_section.cc. scenario.cc
// reads the top level and calls them in an order where each finds what it
// depends on already read.
#ifndef LASTCALL_SCENARIO_SECTIONS_H_
#define LASTCALL_SCENARIO_SECTIONS_H_

#include <vector>

#include "scenario/scenario.h"
#include "scenario/yaml_reader.h"

namespace lastcall::scenario_file {

// The keys of each mapping, listed by ScenarioSections() with their paths.
extern const Keys kDatabaseKeys, kJobsKeys, kRedisKeys;
extern const Keys kTargetKeys, kReadyKeys;
extern const Keys kLoadKeys, kRequestKeys, kAccountsKeys, kRetryKeys, kWebSocketKeys;
extern const Keys kFaultKeys, kWhenKeys, kRandomKeys, kEscalationKeys, kAfterExitKeys;
extern const Keys kLoadBalancerKeys, kHealthCheckKeys, kRollingRestartKeys;
extern const Keys kAuditKeys, kInvariantKeys, kExpectKeys;
extern const Keys kExploreKeys, kExploreTriggerKeys;

bool ParseDatabase(YamlReader* yaml, const Value& value, DatabaseSpec* out);
bool ParseTarget(YamlReader* yaml, const Value& value, TargetSpec* out);
bool ParseLoad(YamlReader* yaml, const Value& value, LoadSpec* out);
// `sender` is the top-level preset; triggers are checked against `load`.
bool ParseFaults(YamlReader* yaml, const Value& value, const Value& sender, const LoadSpec& load,
                 std::vector<Fault>* out);
bool ParseLoadBalancer(YamlReader* yaml, const Value& value, const Scenario& scenario,
                       LoadBalancerSpec* out);
bool ParseJobs(YamlReader* yaml, const Value& value, JobsSpec* out);
bool ParseRedis(YamlReader* yaml, const Value& value, Scenario* out);
// Both add the check names they read to *written.
bool ParseAudit(YamlReader* yaml, const Value& value, const JobsSpec& jobs, AuditSpec* out,
                std::vector<WrittenCheckName>* written);
bool ParseExpect(YamlReader* yaml, const Value& value, Expectation* out,
                 std::vector<WrittenCheckName>* written);
bool ParseExplore(YamlReader* yaml, const Value& value, const Scenario& scenario, ExploreSpec* out);

}  // namespace lastcall::scenario_file

#endif  // LASTCALL_SCENARIO_SECTIONS_H_
