#include "scenario/scenario.h"

namespace lastcall {

// The keys a mapping of the scenario file may have.
struct Keys {
  std::vector<std::string> known;
  // Part of the format but not implemented by this version: rejected as
  // "not supported yet" rather than as unknown, since the spec documents them.
  std::vector<std::string> unsupported;
};
// A value of the scenario file, with what messages need to point at it.
struct Value {
  bool present = false;  // false: the key is absent, keep the default
  YAML::Node node;
  YAML::Node key;    // where to point when the value itself is empty
  std::string path;  // "load.clients", "faults[0]"; "" for the document
};

struct Field {
  YAML::Node key;
  YAML::Node value;
};

// A mapping of the scenario file, its keys checked, merge keys resolved.
struct Section {
  Value self;
  std::vector<Field> fields;

  std::string PathOf(const std::string& key) const {
    return self.path.empty() ? key : self.path + "." + key;
  }
  // The value of `key`; not present when the key is absent.
  Value Get(const std::string& key) const {
    for (const Field& field : fields) {
      if (field.key.Scalar() == key)
        return Value{true, field.value, field.key, PathOf(key)};
    }
    return Value{false, YAML::Node(), self.key, PathOf(key)};
  }
};

// Where template variables may appear: request variables only inside
// load.request, run variables everywhere.
enum class Scope { kRun, kRequest };

// Reads the scenario's YAML tree into a Scenario. Each step returns false
// after recording the first error, with the location of the offending node.
class Parser {
 public:
  Parser(std::string file, std::string dir)
      : file_(std::move(file)), dir_(std::move(dir)) {}

  bool Parse(const YAML::Node& root, Scenario* scenario);
  const std::string& error() const { return error_; }

 private:
  SourceLocation Location(const YAML::Node& node) const;
  bool Fail(const YAML::Node& at, const std::string& message);
  bool Fail(const Value& value, const std::string& message);
  bool CheckExpectRuns(const Value& expect, const Scenario& scenario);
  bool Require(const Section& section, const std::string& key);

  // Converters. Each leaves *out untouched when the value is not present.
  bool AsSection(const Value& value, const Keys& keys, Section* out);
  bool AsMap(const Value& value, Section* out);
  bool AsList(const Value& value, std::vector<Value>* out);
  bool AsString(const Value& value, std::string* out);
  bool AsBool(const Value& value, bool* out);
  bool AsInt(const Value& value, int64_t min, int64_t max, int64_t* out);
  template <typename Int>
  bool AsInt(const Value& value, int64_t min, Int* out);
  template <typename Int>
  bool AsInt(const Value& value, int64_t min, int64_t max, Int* out);
  bool AsDuration(const Value& value, bool allow_zero, Duration* out);
  bool AsTemplate(const Value& value, Scope scope, std::string* out);
  bool AsPath(const Value& value, std::string* out);
  bool AsSignal(const Value& value, int* out);
  bool AsCheckNames(const Value& value, std::vector<std::string>* out);
  bool CheckName(const Section& top, const std::string& name);

  bool CollectFields(const YAML::Node& map, const std::string& path, int depth,
                     std::vector<Field>* out);

  bool ParseSeed(const Value& value, uint64_t* out);
  bool ParseDatabase(const Value& value, DatabaseSpec* out);
  bool ParseTarget(const Value& value, TargetSpec* out);
  bool ParseReady(const Value& value, ReadyProbe* out);
  bool ParseExitStatus(const Value& value, ExitStatus* out);
  bool ParseLoad(const Value& value, LoadSpec* out);
  bool ParseRequest(const Value& value, RequestTemplate* out);
  bool ParseAccounts(const Value& value, LoadSpec* out);
  bool ParseRetry(const Value& value, RetryPolicy* out);
  bool ParseWebSockets(const Value& value, WebSocketSpec* out);
  bool ParseFaults(const Value& value, const Value& sender,
                   const LoadSpec& load, std::vector<Fault>* out);
  bool AsSender(const Value& value, const SenderPreset** out);
  bool AsRecipient(const Value& value, Recipient* out);
  bool ParseTrigger(const Section& fault, const LoadSpec& load, Trigger* out);
  bool ParseEscalation(const Value& value, Fault* out);
  bool ParseRetryOutcome(const Value& value, RetryPolicy* out);
  bool ParseFault(const Value& value, const LoadSpec& load, Fault* out,
                  int64_t* deploys, Duration* restart_delay);
  bool ParseWhen(const Value& value, const LoadSpec& load, Trigger* out);
  bool ParseAfterExit(const Value& value, Fault* out);
  bool ParseJobs(const Value& value, JobsSpec* out);
  bool ParseRedis(const Value& value, Scenario* out);
  bool ParseAudit(const Value& value, const JobsSpec& jobs, AuditSpec* out);
  bool ParseLoadBalancer(const Value& value, const Scenario& scenario,
                         LoadBalancerSpec* out);
  bool ParseHealthCheck(const Value& value, LoadBalancerSpec* out);
  bool ParseRollingRestart(const Value& value, RollingRestart* out);
  bool ParseExpect(const Value& value, Expectation* out);
  bool ParseExplore(const Value& value, const Scenario& scenario,
                    ExploreSpec* out);
  bool ParseExploreRestart(const Value& value, ExploreSpec* out);
  bool ParseExploreTriggers(const Value& value, const Scenario& scenario,
                            ExploreSpec* out);
  bool AsRange(const Value& value, bool durations, int64_t min,
               ExploreSpec::Range* out);

  const std::string file_;  // as given, for messages
  const std::string dir_;   // absolute, for relative paths
  std::string error_;
};

template <typename Int>
bool Parser::AsInt(const Value& value, int64_t min, Int* out) {
  return AsInt(value, min, std::numeric_limits<Int>::max(), out);
}

template <typename Int>
bool Parser::AsInt(const Value& value, int64_t min, int64_t max, Int* out) {
  int64_t n = *out;
  if (!AsInt(value, min, max, &n))
    return false;
  *out = static_cast<Int>(n);
  return true;
}


}  // namespace lastcall
