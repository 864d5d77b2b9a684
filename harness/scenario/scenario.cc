#include "scenario/scenario.h"
#include "base/file.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
// With -fsanitize (LASTCALL_SANITIZE), GCC 12 warns of maybe-uninitialized
// members inside libstdc++'s regex compiler: a false positive, GCC PR 105616.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#include <sstream>

#include "base/edit_distance.h"
#include "scenario/matrix.h"
#include "scenario/sender.h"
#include "scenario/substitution.h"
#include "base/visible_text.h"

namespace lastcall {

namespace fs = std::filesystem;


bool Expectation::MustPass(const std::string& check) const {
  return pass && (pass_checks.empty() || std::find(pass_checks.begin(),
                                                   pass_checks.end(),
                                                   check) != pass_checks.end());
}

std::string SourceLocation::ToString() const {
  if (line <= 0)
    return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const std::vector<CheckInfo>& CheckCatalogue() {
  static const std::vector<CheckInfo> kChecks = {
      {"lost", "a payment acknowledged (2xx) that is not in the database",
       "audit.applied; ${key} in load.request"},
      {"duplicated", "a payment applied more than once (a double charge)",
       "audit.applied; ${key} in load.request"},
      {"phantom", "a payment the target said failed that was applied after all",
       "audit.applied; ${key} in load.request"},
      {"invariants", "an audit.invariants query that returns rows", "audit.invariants"},
      {"drained",
       "a request the target took (in flight at a graceful signal, or accepted during the "
       "drain) that got no answer, or a 5xx other than 503; the kernel tells taken from "
       "never accepted",
       "a fault with a graceful signal (TERM, INT...)"},
      {"unannounced_close",
       "a response during a drain that kept its connection alive (no Connection: close), "
       "then the target closed that connection under the client's next request",
       "a fault with a graceful signal; load.keep_alive"},
      {"refused_while_draining",
       "reported, never failed: requests never taken while draining, by cause",
       "a fault with a graceful signal"},
      {"exit",
       "no exit by itself within the grace with a target.clean_exit status (SIGKILL "
       "needed), or death by a signal it should handle",
       "a fault with a graceful signal; target.clean_exit"},
      {"connections_leaked",
       "database sessions of the target still open (or idle in transaction) after it exited",
       "the target uses the run's database (any role)"},
      {"unclean_disconnects",
       "a session that ended without the protocol's Terminate message after a graceful signal",
       "the embedded database; a fault with a graceful signal"},
      {"transactions_abandoned", "a session that disconnected inside a transaction",
       "the embedded database"},
      {"orphans", "a process the target started that outlived it (double forks included)",
       "nothing"},
      {"temp_files", "files left in the private TMPDIR the target was given",
       "the target writes temp files under $TMPDIR"},
      {"jobs", "a background job enqueued and never done, or done twice",
       "jobs, redis"},
      {"websocket_close", "a WebSocket closed without a close frame (1001 Going Away)",
       "load.websockets; a fault with a graceful signal"},
      {"client_errors",
       "more client errors during a rolling restart than "
       "load_balancer.rolling_restart.allowed_client_errors",
       "load_balancer.rolling_restart"},
      {"faults", "a fault that never fired (a signal that never came proves nothing)",
       "faults"},
  };
  return kChecks;
}

Duration MaxDuration(const LoadSpec& load) {
  if (load.max_duration.count() > 0) return load.max_duration;
  if (load.duration.count() > 0) return load.duration * 10;
  return std::chrono::seconds(60);
}

const std::vector<std::string>& KnownChecks() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const CheckInfo& check : CheckCatalogue()) names.push_back(check.name);
    return names;
  }();
  return kNames;
}

namespace {

// The longest duration a scenario may write: about 146 years, far beyond any
// sensible one, and safe to add to (twice it still fits a Duration).
constexpr Duration kMaxDuration =
    std::chrono::seconds(std::numeric_limits<int64_t>::max() / 2 / 1000000000);

enum class DurationReading { kValid, kMalformed, kTooLarge };

DurationReading ReadDuration(const std::string& text, Duration* out) {
  // A decimal number (digits, optionally '.' and more digits), then a unit.
  size_t end = 0;
  while (end < text.size() && isdigit(static_cast<unsigned char>(text[end])))
    ++end;
  if (end == 0)
    return DurationReading::kMalformed;
  if (end < text.size() && text[end] == '.') {
    size_t fraction = ++end;
    while (end < text.size() && isdigit(static_cast<unsigned char>(text[end])))
      ++end;
    if (end == fraction)
      return DurationReading::kMalformed;
  }
  const std::string unit = text.substr(end);
  long double nanoseconds_per_unit;
  if (unit == "ms")
    nanoseconds_per_unit = 1e6L;
  else if (unit == "s")
    nanoseconds_per_unit = 1e9L;
  else if (unit == "m")
    nanoseconds_per_unit = 60e9L;
  else
    return DurationReading::kMalformed;
  long double ns =
      std::strtold(text.substr(0, end).c_str(), nullptr) * nanoseconds_per_unit;
  if (ns > static_cast<long double>(kMaxDuration.count()))
    return DurationReading::kTooLarge;
  *out = Duration(std::llround(ns));
  return DurationReading::kValid;
}

}  // namespace

std::optional<Duration> ParseDuration(const std::string& text) {
  Duration duration{0};
  if (ReadDuration(text, &duration) != DurationReading::kValid)
    return std::nullopt;
  return duration;
}

std::string DurationText(Duration duration) {
  const int64_t ns = duration.count();
  if (ns % 1000000000 == 0)
    return std::to_string(ns / 1000000000) + "s";
  std::string text = std::to_string(ns / 1000000);
  if (int64_t rest = ns % 1000000) {
    std::string fraction = std::to_string(1000000 + rest).substr(1);
    text += "." + fraction.substr(0, fraction.find_last_not_of('0') + 1);
  }
  return text + "ms";
}

namespace {

bool IsDigits(const std::string& text) {
  if (text.empty())
    return false;
  for (char c : text) {
    if (!isdigit(static_cast<unsigned char>(c)))
      return false;
  }
  return true;
}

}  // namespace

const char* RecipientName(Recipient recipient) {
  switch (recipient) {
    case Recipient::kProcess: return "process";
    case Recipient::kGroup: return "group";
    case Recipient::kTree: return "tree";
    case Recipient::kAll: return "all";
  }
  return "?";
}


namespace {

// The keys a mapping of the scenario file may have.
struct Keys {
  std::vector<std::string> known;
  // Part of the format but not implemented by this version: rejected as
  // "not supported yet" rather than as unknown, since the spec documents them.
  std::vector<std::string> unsupported;
};

// `matrix` is expanded before parsing (matrix.h); the parser passes over it.
const Keys kTopKeys = {{"name", "description", "seed", "database", "target",
                        "load", "sender", "faults", "audit", "expect",
                        "matrix", "load_balancer", "jobs", "redis",
                        "explore", "control"},
                       {}};
const Keys kDatabaseKeys = {{"embedded", "url", "schema", "setup", "timeout"}, {}};
const Keys kTargetKeys = {
    {"command", "env", "ready", "cwd", "clean_exit", "instances", "container"},
    {}};
const Keys kReadyKeys = {{"http", "log", "tcp", "timeout"}, {}};
constexpr int kMaxWebSocketClients = 1000;
const Keys kWebSocketKeys = {{"clients", "path", "port"}, {}};
const Keys kLoadKeys = {{"clients", "rate", "duration", "requests",
                         "max_duration", "keep_alive", "request", "accounts",
                         "retry", "websockets"},
                        {}};
const Keys kRequestKeys = {{"method", "path", "headers", "body", "timeout"},
                           {}};
const Keys kAccountsKeys = {{"count", "amount"}, {}};
const Keys kRetryKeys = {{"on", "attempts", "backoff"}, {}};
const Keys kFaultKeys = {{"at", "when", "random", "sender", "signal", "to",
                          "also", "grace", "escalation", "deploys",
                          "restart_delay", "after_exit"},
                         {}};
const Keys kWhenKeys = {
    {"in_flight", "completed", "db_transactions_open", "log", "sql"}, {}};
const Keys kRandomKeys = {{"between"}, {}};
const Keys kEscalationKeys = {{"signal", "to"}, {}};
const Keys kAfterExitKeys = {{"restart", "delay"}, {}};
const Keys kJobsKeys = {{"enqueue", "rate", "via", "queue", "processing"}, {}};
const Keys kRedisKeys = {{"url"}, {}};
const Keys kLoadBalancerKeys = {{"check", "retries", "redispatch",
                                  "rolling_restart"},
                                 {}};
const Keys kHealthCheckKeys = {{"path", "interval", "rise", "fall"}, {}};
const Keys kRollingRestartKeys = {{"at", "deregister", "pre_stop",
                                   "propagation", "signal", "grace",
                                   "allowed_client_errors"},
                                  {}};
const Keys kAuditKeys = {{"applied", "invariants", "checks", "jobs"}, {}};
const Keys kInvariantKeys = {{"name", "sql"}, {}};
const Keys kExpectKeys = {{"fail", "pass"}, {}};
constexpr int64_t kMaxExploredFaults = 10;
const Keys kExploreKeys = {
    {"signals", "triggers", "grace", "faults", "restart", "clients"}, {}};
const Keys kExploreTriggerKeys = {
    {"at", "in_flight", "completed", "db_transactions_open"}, {}};

// Merge keys (<<) may merge maps that merge maps; yaml-cpp accepts an
// anchor that contains its own alias, so the nesting needs a bound.
const int kMaxMergeDepth = 8;

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

const TemplateVariables& VariablesFor(Scope scope) {
  static const TemplateVariables kRun{{}, RunVariableNames()};
  static const TemplateVariables kRequest = [] {
    TemplateVariables variables;
    variables.slots = RequestVariableNames();
    variables.slots.insert(variables.slots.end(), RunVariableNames().begin(),
                           RunVariableNames().end());
    return variables;
  }();
  return scope == Scope::kRun ? kRun : kRequest;
}

// " in load" for messages about keys; nothing at the top level.
std::string InSection(const std::string& path) {
  return path.empty() ? "" : " in " + path;
}

// " (did you mean 'clients'?)", or "".
std::string DidYouMean(const std::string& word,
                       const std::vector<std::string>& candidates) {
  std::string suggestion = SpellingSuggestion(word, candidates);
  return suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)";
}

bool Contains(const std::vector<std::string>& list, const std::string& word) {
  for (const std::string& item : list) {
    if (item == word)
      return true;
  }
  return false;
}

// A decimal integer with an optional minus sign; out-of-range values clamp.
bool ParseInteger(const std::string& text, int64_t* out) {
  bool negative = !text.empty() && text[0] == '-';
  if (!IsDigits(negative ? text.substr(1) : text))
    return false;
  *out = std::strtoll(text.c_str(), nullptr, 10);
  return true;
}

bool IsNumber(const std::string& text) {
  size_t dot = text.find('.');
  std::string whole = text.substr(0, dot);
  if (!whole.empty() && whole[0] == '-')
    whole.erase(0, 1);
  return IsDigits(whole) &&
         (dot == std::string::npos || IsDigits(text.substr(dot + 1)));
}

// How a wrong value is shown after "got": numbers bare, other text quoted.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return IsNumber(node.Scalar()) ? node.Scalar()
                                     : "\"" + node.Scalar() + "\"";
    default:
      return "nothing";
  }
}

// 1-based; the start of the file when yaml-cpp has no position (an empty
// document), so that every message has one.
SourceLocation LocationOf(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null())
    return SourceLocation{file, 1, 1};
  return SourceLocation{file, mark.line + 1, mark.column + 1};
}

std::string IntegerKind(int64_t min) {
  if (min == 0)
    return "a non-negative integer";
  if (min == 1)
    return "a positive integer";
  return "an integer >= " + std::to_string(min);
}

// The files lastcall writes at the top of the reports folder, beside the
// runs' folders.
const char* const kReportsFolderFiles[] = {"junit.xml", "summary.md", "index.html",
                                           "shard.json"};

// Why `name` cannot be the path of a run's folder under the reports folder,
// or "" when it can: one or more folder names joined by '/', each of them
// neither empty nor starting with '.' (no "..", nothing hidden), without a
// backslash or a control character, none longer than a file name may be,
// and the first not one of the reports folder's own files.
std::string ReportNameProblem(const std::string& name) {
  if (name.empty())
    return "it is empty";
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f)
      return "it has a control character";
    if (c == '\\')
      return "it has a backslash";
  }
  constexpr size_t kMaxFileName = 255;  // NAME_MAX of Linux's file systems
  size_t start = 0;
  for (size_t slash; start <= name.size(); start = slash + 1) {
    slash = std::min(name.find('/', start), name.size());
    const std::string part = name.substr(start, slash - start);
    if (part.empty())
      return "it starts or ends with '/', or has '//'";
    if (part[0] == '.')
      return "'" + part + "' starts with '.'";
    if (part.size() > kMaxFileName)
      return "a part between slashes is longer than " + std::to_string(kMaxFileName) +
             " bytes";
    if (start == 0)
      for (const char* file : kReportsFolderFiles)
        if (part == file)
          return "lastcall writes " + part + " in the reports folder itself";
  }
  return "";
}

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

SourceLocation Parser::Location(const YAML::Node& node) const {
  return LocationOf(file_, node.Mark());
}

bool Parser::Fail(const YAML::Node& at, const std::string& message) {
  error_ = Location(at).ToString() + ": " + message;
  return false;
}

bool Parser::Fail(const Value& value, const std::string& message) {
  // An empty value ("clients:") has the position of whatever follows it.
  return Fail(value.present && !value.node.IsNull() ? value.node : value.key,
              message);
}

bool Parser::Require(const Section& section, const std::string& key) {
  if (section.Get(key).present)
    return true;
  return Fail(section.self.key, section.PathOf(key) + " is required");
}

bool Parser::CollectFields(const YAML::Node& map, const std::string& path,
                           int depth, std::vector<Field>* out) {
  // yaml-cpp 0.7 leaves merge keys (`<<: *defaults`, `<<: [*a, *b]`) as
  // ordinary keys. Resolve them as YAML 1.1 does: explicit keys win over
  // merged ones, earlier merged maps over later ones.
  const std::string where = InSection(path);
  std::vector<Field> merged;
  size_t first = out->size();
  for (const auto& pair : map) {
    const YAML::Node key = pair.first;
    const YAML::Node value = pair.second;
    if (!key.IsScalar())
      return Fail(key, "keys" + where + " must be names, got " + Describe(key));
    if (key.Scalar() != "<<") {
      for (size_t i = first; i < out->size(); ++i) {
        if ((*out)[i].key.Scalar() == key.Scalar())
          return Fail(key, "duplicate key '" + key.Scalar() + "'" + where);
      }
      out->push_back(Field{key, value});
      continue;
    }
    if (depth >= kMaxMergeDepth)
      return Fail(key, "merge keys (<<) nested too deeply" + where);
    std::vector<YAML::Node> sources;
    if (value.IsSequence()) {
      for (const YAML::Node& source : value)
        sources.push_back(source);
    } else {
      sources.push_back(value);
    }
    for (const YAML::Node& source : sources) {
      if (!source.IsMap())
        return Fail(source, "<<" + where + " must merge a map, got " +
                                Describe(source));
      if (!CollectFields(source, path, depth + 1, &merged))
        return false;
    }
  }
  for (const Field& field : merged) {
    bool overridden = false;
    for (size_t i = first; i < out->size() && !overridden; ++i)
      overridden = (*out)[i].key.Scalar() == field.key.Scalar();
    if (!overridden)
      out->push_back(field);
  }
  return true;
}

bool Parser::AsMap(const Value& value, Section* out) {
  out->self = value;
  if (!value.present)
    return true;
  if (!value.node.IsMap()) {
    std::string what = value.path.empty() ? "the scenario" : value.path;
    return Fail(value, what + " must be a map, got " + Describe(value.node));
  }
  return CollectFields(value.node, value.path, 0, &out->fields);
}

bool Parser::AsSection(const Value& value, const Keys& keys, Section* out) {
  if (!AsMap(value, out))
    return false;
  for (const Field& field : out->fields) {
    const std::string& key = field.key.Scalar();
    if (Contains(keys.known, key))
      continue;
    if (Contains(keys.unsupported, key))
      return Fail(field.key, out->PathOf(key) + " is not supported yet");
    return Fail(field.key, "unknown key '" + key + "'" +
                               InSection(value.path) +
                               DidYouMean(key, keys.known));
  }
  return true;
}

bool Parser::AsList(const Value& value, std::vector<Value>* out) {
  if (!value.present)
    return true;
  if (!value.node.IsSequence())
    return Fail(value, value.path + " must be a list, got " +
                           Describe(value.node));
  out->clear();
  for (size_t i = 0; i < value.node.size(); ++i) {
    YAML::Node item = value.node[i];
    out->push_back(
        Value{true, item, item, value.path + "[" + std::to_string(i) + "]"});
  }
  return true;
}

bool Parser::AsString(const Value& value, std::string* out) {
  if (!value.present)
    return true;
  if (!value.node.IsScalar())
    return Fail(value, value.path + " must be a string, got " +
                           Describe(value.node));
  *out = value.node.Scalar();
  return true;
}

bool Parser::AsBool(const Value& value, bool* out) {
  if (!value.present)
    return true;
  if (!value.node.IsScalar() || !YAML::convert<bool>::decode(value.node, *out))
    return Fail(value, value.path + " must be true or false, got " +
                           Describe(value.node));
  return true;
}

bool Parser::AsInt(const Value& value, int64_t min, int64_t max,
                   int64_t* out) {
  if (!value.present)
    return true;
  int64_t n = 0;
  if (!value.node.IsScalar() || !ParseInteger(value.node.Scalar(), &n) ||
      n < min)
    return Fail(value, value.path + " must be " + IntegerKind(min) + ", got " +
                           Describe(value.node));
  if (n > max)
    return Fail(value, value.path + " must be at most " + std::to_string(max) +
                           ", got " + Describe(value.node));
  *out = n;
  return true;
}

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

bool Parser::AsDuration(const Value& value, bool allow_zero, Duration* out) {
  if (!value.present)
    return true;
  Duration duration{0};
  DurationReading reading = DurationReading::kMalformed;
  if (value.node.IsScalar())
    reading = ReadDuration(value.node.Scalar(), &duration);
  if (reading == DurationReading::kTooLarge)
    return Fail(value, value.path + " must be at most " +
                           DurationText(kMaxDuration) + " (about 146 years), got " +
                           Describe(value.node));
  if (reading != DurationReading::kValid)
    return Fail(value, value.path +
                           " must be a duration such as 250ms, 1.5s or 1m, "
                           "got " + Describe(value.node));
  if (!allow_zero && duration.count() == 0)
    return Fail(value, value.path + " must be greater than 0, got " +
                           Describe(value.node));
  *out = duration;
  return true;
}

bool Parser::AsTemplate(const Value& value, Scope scope, std::string* out) {
  if (!AsString(value, out))
    return false;
  if (!value.present)
    return true;
  // Only the names are checked here; values are substituted at run time.
  std::string error;
  if (Template::Compile(*out, VariablesFor(scope), &error))
    return true;
  std::string unused;
  if (scope == Scope::kRun &&
      Template::Compile(*out, VariablesFor(Scope::kRequest), &unused))
    error = "request variables (${key}, ${from}, ${to}, ${amount}, ${seq}) "
            "exist only inside load.request";
  return Fail(value, value.path + ": " + error);
}

bool Parser::AsPath(const Value& value, std::string* out) {
  std::string path;
  if (!AsString(value, &path))
    return false;
  if (value.present)
    *out = (fs::path(dir_) / path).lexically_normal().string();
  return true;
}

bool Parser::AsSignal(const Value& value, int* out) {
  std::string name;
  if (!AsString(value, &name))
    return false;
  if (!value.present)
    return true;
  std::optional<int> signal = ParseSignal(name);
  if (!signal) {
    return Fail(value, value.path +
                           " must be a signal such as TERM, INT or KILL, got " +
                           Describe(value.node) + DidYouMean(name, SignalNames()));
  }
  *out = *signal;
  return true;
}

bool Parser::AsCheckNames(const Value& value, std::vector<std::string>* out) {
  std::vector<Value> items;
  if (!AsList(value, &items))
    return false;
  if (value.present && items.empty())
    return Fail(value, value.path + " must name at least one check");
  for (const Value& item : items) {
    std::string name;
    if (!AsString(item, &name))
      return false;
    if (!Contains(KnownChecks(), name)) {
      std::string hint = DidYouMean(name, KnownChecks());
      if (hint.empty()) {  // nothing close: name them all
        hint = "; the checks are";
        for (const std::string& check : KnownChecks())
          hint += (check == KnownChecks().front() ? " " : ", ") + check;
      }
      return Fail(item, "unknown check '" + name + "' in " + value.path + hint);
    }
    out->push_back(name);
  }
  return true;
}

bool Parser::Parse(const YAML::Node& root, Scenario* scenario) {
  Section top;
  if (!AsSection(Value{true, root, root, ""}, kTopKeys, &top))
    return false;
  return Require(top, "target") && Require(top, "load") &&
         Require(top, "audit") &&
         AsString(top.Get("name"), &scenario->name) &&
         CheckName(top, scenario->name) &&
         AsString(top.Get("description"), &scenario->description) &&
         ParseSeed(top.Get("seed"), &scenario->seed) &&
         ParseDatabase(top.Get("database"), &scenario->database) &&
         ParseTarget(top.Get("target"), &scenario->target) &&
         ParseLoad(top.Get("load"), &scenario->load) &&
         // After the load: triggers are checked against load.clients.
         ParseFaults(top.Get("faults"), top.Get("sender"), scenario->load,
                     &scenario->faults) &&
         ParseLoadBalancer(top.Get("load_balancer"), *scenario,
                           &scenario->load_balancer) &&
         ParseJobs(top.Get("jobs"), &scenario->jobs) &&
         ParseRedis(top.Get("redis"), scenario) &&
         ParseAudit(top.Get("audit"), scenario->jobs, &scenario->audit) &&
         ParseExpect(top.Get("expect"), &scenario->expect) &&
         CheckExpectRuns(top.Get("expect"), *scenario) &&
         AsBool(top.Get("control"), &scenario->control) &&
         // Last: its defaults come from the load and the faults.
         ParseExplore(top.Get("explore"), *scenario, &scenario->explore);
}

// The name is the path of the run's folder under the reports folder: it must
// not lead out of it, nor onto files lastcall writes there.
bool Parser::CheckName(const Section& top, const std::string& name) {
  const std::string problem = ReportNameProblem(name);
  if (problem.empty())
    return true;
  const std::string rule =
      " must be folder names joined by '/', none empty or starting with '.', "
      "without '\\' or control characters: ";
  Value value = top.Get("name");
  if (value.present)
    return Fail(value, "name" + rule + problem + ", got " + Describe(value.node));
  return Fail(top.self.node, "the scenario's name, from its file name (\"" + name +
                                 "\")," + rule + problem + "; give it a name:");
}

// An expectation on a check that audit.checks leaves out could never be met.
bool Parser::CheckExpectRuns(const Value& expect, const Scenario& scenario) {
  const std::vector<std::string>& runs = scenario.audit.checks;
  if (runs.empty()) return true;  // default: every check runs
  const Expectation& e = scenario.expect;
  for (const std::string& name : e.pass ? e.pass_checks : e.fail_checks)
    if (!Contains(runs, name))
      return Fail(expect, std::string(e.pass ? "expect.pass" : "expect.fail") +
                              " names '" + name +
                              "', which audit.checks does not run");
  return true;
}

bool Parser::ParseSeed(const Value& value, uint64_t* out) {
  if (!value.present)
    return true;
  const std::string text = value.node.IsScalar() ? value.node.Scalar() : "";
  errno = 0;
  uint64_t seed = IsDigits(text) ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (!IsDigits(text) || errno == ERANGE)
    return Fail(value, "seed must be an unsigned 64-bit integer, got " +
                           Describe(value.node));
  *out = seed;
  return true;
}

bool Parser::ParseDatabase(const Value& value, DatabaseSpec* out) {
  Section section;
  if (!AsSection(value, kDatabaseKeys, &section))
    return false;
  Value embedded = section.Get("embedded");
  Value url = section.Get("url");
  Value schema = section.Get("schema");
  if (!AsBool(embedded, &out->embedded) ||
      !AsTemplate(url, Scope::kRun, &out->url) ||
      !AsPath(schema, &out->schema_path) ||
      !AsString(section.Get("setup"), &out->setup_sql) ||
      !AsDuration(section.Get("timeout"), false, &out->timeout))
    return false;
  if (url.present) {
    if (embedded.present && out->embedded)
      return Fail(url.key, "database.url cannot be used with embedded: true");
    out->embedded = false;
  } else if (!out->embedded) {
    return Fail(embedded, "database.embedded: false needs database.url");
  }
  if (schema.present && !fs::is_regular_file(out->schema_path))
    return Fail(schema, "database.schema: no such file " + out->schema_path);
  return true;
}

bool Parser::ParseTarget(const Value& value, TargetSpec* out) {
  Section section;
  if (!AsSection(value, kTargetKeys, &section) ||
      !Require(section, "command"))
    return false;
  out->location = Location(value.key);

  Value command = section.Get("command");
  std::vector<Value> argv;
  if (!AsList(command, &argv))
    return false;
  if (argv.empty())
    return Fail(command, "target.command must not be empty");
  out->command.resize(argv.size());
  for (size_t i = 0; i < argv.size(); ++i) {
    if (!AsTemplate(argv[i], Scope::kRun, &out->command[i]))
      return false;
  }
  // A program with a slash is relative to the scenario, like every path in
  // it; a bare name is looked up in PATH at run time. One that starts with a
  // variable (${run_dir}/...) is absolute once expanded.
  std::string& program = out->command[0];
  if (program.find('/') != std::string::npos && program[0] != '$')
    program = (fs::path(dir_) / program).lexically_normal().string();

  Section env;
  if (!AsMap(section.Get("env"), &env))
    return false;
  for (const Field& field : env.fields) {
    const std::string& name = field.key.Scalar();
    Value variable{true, field.value, field.key, env.PathOf(name)};
    if (!AsTemplate(variable, Scope::kRun, &out->env[name]))
      return false;
  }

  if (!ParseReady(section.Get("ready"), &out->ready) ||
      !AsPath(section.Get("cwd"), &out->cwd) ||
      !AsBool(section.Get("container"), &out->container))
    return false;

  Value clean_exit = section.Get("clean_exit");
  std::vector<Value> statuses;
  if (!AsList(clean_exit, &statuses))
    return false;
  if (clean_exit.present) {
    if (statuses.empty())
      return Fail(clean_exit, "target.clean_exit must list at least one status");
    out->clean_exit.resize(statuses.size());
    for (size_t i = 0; i < statuses.size(); ++i) {
      if (!ParseExitStatus(statuses[i], &out->clean_exit[i]))
        return false;
    }
  }

  return AsInt(section.Get("instances"), 1, 100, &out->instances);
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

bool Parser::ParseReady(const Value& value, ReadyProbe* out) {
  Section section;
  if (!AsSection(value, kReadyKeys, &section) ||
      !AsDuration(section.Get("timeout"), false, &out->timeout))
    return false;
  Value http = section.Get("http");
  Value log = section.Get("log");
  Value tcp = section.Get("tcp");
  if (http.present + log.present + tcp.present > 1)
    return Fail(value.key, "target.ready takes only one of http, log and tcp");
  if (http.present) {
    if (!AsString(http, &out->http_path))
      return false;
    if (out->http_path.empty() || out->http_path[0] != '/')
      return Fail(http, "target.ready.http must be a path starting with /, "
                        "got " + Describe(http.node));
    out->kind = ReadyProbe::Kind::kHttp;
  } else if (log.present) {
    if (!AsString(log, &out->log_regex))
      return false;
    try {
      std::regex compiled(out->log_regex, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Fail(log, "target.ready.log is not a valid regular expression: " +
                           std::string(e.what()));
    }
    out->kind = ReadyProbe::Kind::kLog;
  } else if (tcp.present) {
    bool enabled = false;
    if (!AsBool(tcp, &enabled))
      return false;
    if (!enabled)
      return Fail(tcp, "target.ready.tcp must be true, got " +
                           Describe(tcp.node));
    out->kind = ReadyProbe::Kind::kTcp;
  }
  return true;
}

bool Parser::ParseExitStatus(const Value& value, ExitStatus* out) {
  std::string text;
  if (!AsString(value, &text))
    return false;
  // Integers are exit codes (so 9 is exit(9), not SIGKILL); names are signals.
  int64_t code = 0;
  if (ParseInteger(text, &code)) {
    if (code >= 0 && code <= 255) {
      *out = ExitStatus{false, static_cast<int>(code)};
      return true;
    }
  } else if (std::optional<int> signal = ParseSignal(text)) {
    *out = ExitStatus{true, *signal};
    return true;
  }
  return Fail(value, value.path +
                         " must be an exit code (0-255) or a signal such as "
                         "SIGTERM, got " + Describe(value.node));
}

bool Parser::ParseLoad(const Value& value, LoadSpec* out) {
  Section section;
  if (!AsSection(value, kLoadKeys, &section))
    return false;
  Value rate = section.Get("rate");
  int64_t requests_per_second = 0;
  if (!AsInt(section.Get("clients"), 1, &out->clients) ||
      !AsInt(rate, 0, INT_MAX, &requests_per_second))
    return false;
  if (requests_per_second > 0)
    return Fail(rate, "load.rate > 0 (open loop) is not supported yet");

  Value duration = section.Get("duration");
  Value requests = section.Get("requests");
  if (!duration.present && !requests.present)
    return Fail(value.key, "load needs duration or requests");
  if (duration.present && requests.present)
    return Fail(requests.key, "load takes duration or requests, not both");
  Value max_duration = section.Get("max_duration");
  if (!AsDuration(duration, false, &out->duration) ||
      !AsInt(requests, 1, &out->requests) ||
      !AsDuration(max_duration, false, &out->max_duration))
    return false;
  if (max_duration.present && out->max_duration < out->duration)
    return Fail(max_duration, "load.max_duration must be at least load.duration (" +
                                  DurationText(out->duration) + "), got " +
                                  DurationText(out->max_duration));
  return AsBool(section.Get("keep_alive"), &out->keep_alive) &&
         ParseRequest(section.Get("request"), &out->request) &&
         ParseAccounts(section.Get("accounts"), out) &&
         ParseRetry(section.Get("retry"), &out->retry) &&
         ParseWebSockets(section.Get("websockets"), &out->websockets);
}

bool Parser::ParseRequest(const Value& value, RequestTemplate* out) {
  Section section;
  if (!AsSection(value, kRequestKeys, &section))
    return false;
  Value method = section.Get("method");
  if (!AsString(method, &out->method))
    return false;
  bool is_token = !out->method.empty();
  for (char c : out->method)
    is_token = is_token && isupper(static_cast<unsigned char>(c));
  if (!is_token)
    return Fail(method, "load.request.method must be an HTTP method such as "
                        "GET or POST, got " + Describe(method.node));

  Section headers;
  if (!AsMap(section.Get("headers"), &headers))
    return false;
  for (const Field& field : headers.fields) {
    const std::string& name = field.key.Scalar();
    std::string text;
    if (!AsTemplate(Value{true, field.value, field.key, headers.PathOf(name)},
                    Scope::kRequest, &text))
      return false;
    out->headers.emplace_back(name, text);
  }
  return AsTemplate(section.Get("path"), Scope::kRequest, &out->path) &&
         AsTemplate(section.Get("body"), Scope::kRequest, &out->body) &&
         AsDuration(section.Get("timeout"), false, &out->timeout);
}

bool Parser::ParseAccounts(const Value& value, LoadSpec* out) {
  Section section;
  if (!AsSection(value, kAccountsKeys, &section) ||
      // ${from} and ${to} must differ.
      !AsInt(section.Get("count"), 2, &out->account_count))
    return false;
  Value amount = section.Get("amount");
  std::vector<Value> bounds;
  if (!AsList(amount, &bounds))
    return false;
  if (!amount.present)
    return true;
  if (bounds.size() != 2)
    return Fail(amount, "load.accounts.amount must be [min, max], got a list "
                        "of " + std::to_string(bounds.size()));
  if (!AsInt(bounds[0], 0, &out->amount_min) ||
      !AsInt(bounds[1], 0, &out->amount_max))
    return false;
  if (out->amount_min > out->amount_max)
    return Fail(amount, "load.accounts.amount: min " +
                            std::to_string(out->amount_min) +
                            " is greater than max " +
                            std::to_string(out->amount_max));
  return true;
}

bool Parser::ParseWebSockets(const Value& value, WebSocketSpec* out) {
  Section section;
  if (!AsSection(value, kWebSocketKeys, &section))
    return false;
  if (!value.present)
    return true;
  Value path = section.Get("path");
  Value port = section.Get("port");
  int64_t clients = 0;
  if (!Require(section, "clients") ||
      // Each client is a socket on one thread of the harness.
      !AsInt(section.Get("clients"), 1, kMaxWebSocketClients, &clients) ||
      !AsTemplate(path, Scope::kRun, &out->path) ||
      !AsTemplate(port, Scope::kRun, &out->port))
    return false;
  out->clients = static_cast<int>(clients);
  if (out->path.empty() || out->path[0] != '/')
    return Fail(path, "load.websockets.path must be a path starting with /, "
                      "got " + Describe(path.node));
  if (!port.present)
    return true;
  out->port_location = Location(port.node);
  // A template is expanded and checked at run time (StartWebSockets()).
  int64_t number = 0;
  if (out->port.find("${") == std::string::npos &&
      (!ParseInteger(out->port, &number) || number < 1 || number > 65535))
    return Fail(port, "load.websockets.port must be a port number (1-65535) "
                      "or a template such as ${ws_port}, got " +
                      Describe(port.node));
  return true;
}

bool Parser::ParseRetry(const Value& value, RetryPolicy* out) {
  Section section;
  std::vector<Value> outcomes;
  if (!AsSection(value, kRetryKeys, &section) ||
      !AsList(section.Get("on"), &outcomes))
    return false;
  for (const Value& outcome : outcomes) {
    if (!ParseRetryOutcome(outcome, out))
      return false;
  }
  std::sort(out->on_status.begin(), out->on_status.end());
  out->on_status.erase(
      std::unique(out->on_status.begin(), out->on_status.end()),
      out->on_status.end());
  return AsInt(section.Get("attempts"), 1, &out->attempts) &&
         AsDuration(section.Get("backoff"), true, &out->backoff);
}

bool Parser::ParseRetryOutcome(const Value& value, RetryPolicy* out) {
  std::string text;
  if (!AsString(value, &text))
    return false;
  int64_t status = 0;
  if (text == "reset") {
    out->on_reset = true;
  } else if (text == "timeout") {
    out->on_timeout = true;
  } else if (text == "refused") {
    out->on_refused = true;
  } else if (text == "5xx") {
    for (int code = 500; code <= 599; ++code)
      out->on_status.push_back(code);
  } else if (ParseInteger(text, &status) && status >= 100 && status <= 599) {
    out->on_status.push_back(static_cast<int>(status));
  } else {
    return Fail(value, value.path +
                           " must be reset, timeout, refused, 5xx or an HTTP "
                           "status, got " + Describe(value.node) +
                           DidYouMean(text, {"reset", "timeout", "refused"}));
  }
  return true;
}

bool Parser::ParseFaults(const Value& value, const Value& sender,
                         const LoadSpec& load, std::vector<Fault>* out) {
  const SenderPreset* preset = nullptr;
  if (!AsSender(sender, &preset))
    return false;
  std::vector<Value> faults;
  if (!AsList(value, &faults))
    return false;
  for (const Value& item : faults) {
    Fault fault;
    if (preset)
      ApplySender(*preset, &fault);
    int64_t deploys = 1;
    Duration restart_delay{0};
    if (!ParseFault(item, load, &fault, &deploys, &restart_delay))
      return false;
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

bool Parser::AsSender(const Value& value, const SenderPreset** out) {
  std::string name;
  if (!AsString(value, &name))
    return false;
  if (!value.present)
    return true;
  *out = FindSender(name);
  if (*out)
    return true;
  std::vector<std::string> names;
  for (const SenderPreset& preset : SenderPresets())
    names.push_back(preset.name);
  std::string hint = DidYouMean(name, names);
  if (hint.empty()) {
    hint = "; the senders are";
    for (const std::string& n : names)
      hint += (n == names.front() ? " " : ", ") + n;
  }
  return Fail(value, "unknown sender '" + name + "' in " + value.path + hint);
}

bool Parser::AsRecipient(const Value& value, Recipient* out) {
  static const std::vector<std::string> kNames = {"process", "group", "tree",
                                                  "all"};
  std::string name;
  if (!AsString(value, &name))
    return false;
  if (!value.present)
    return true;
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (name == kNames[i]) {
      *out = static_cast<Recipient>(i);
      return true;
    }
  }
  return Fail(value, value.path + " must be process, group, tree or all, got " +
                         Describe(value.node) + DidYouMean(name, kNames));
}

bool Parser::ParseFault(const Value& value, const LoadSpec& load, Fault* out,
                        int64_t* deploys, Duration* restart_delay) {
  Section section;
  if (!AsSection(value, kFaultKeys, &section))
    return false;
  out->location = Location(value.node);

  Value after_exit = section.Get("after_exit");
  if (after_exit.present) {
    for (const Field& field : section.fields) {
      if (field.key.Scalar() != "after_exit")
        return Fail(field.key, section.PathOf(field.key.Scalar()) +
                                   " does not apply to an after_exit fault");
    }
    *out = Fault();
    out->kind = Fault::Kind::kRestart;
    out->location = Location(value.node);
    return ParseAfterExit(after_exit, out);
  }

  const SenderPreset* preset = nullptr;
  if (!AsSender(section.Get("sender"), &preset))
    return false;
  if (preset)
    ApplySender(*preset, out);
  if (!ParseTrigger(section, load, &out->trigger))
    return false;

  Value to = section.Get("to");
  std::vector<Value> also;
  if (!AsSignal(section.Get("signal"), &out->signal) ||
      !AsRecipient(to, &out->to) || !AsList(section.Get("also"), &also) ||
      // grace: 0s escalates at once.
      !AsDuration(section.Get("grace"), true, &out->grace))
    return false;
  // Without a preset the escalation goes where the signal went.
  if (out->sender.empty())
    out->escalate_to = out->to;
  if (section.Get("also").present) {
    out->also.assign(also.size(), 0);
    for (size_t i = 0; i < also.size(); ++i) {
      if (!AsSignal(also[i], &out->also[i]))
        return false;
    }
  }
  if (!ParseEscalation(section.Get("escalation"), out))
    return false;

  Value count = section.Get("deploys");
  Value delay = section.Get("restart_delay");
  if (!AsInt(count, 1, 1000, deploys) ||
      !AsDuration(delay, true, restart_delay))
    return false;
  if ((count.present || delay.present) &&
      out->trigger.kind != Trigger::Kind::kAt)
    return Fail(count.present ? count.key : delay.key,
                value.path + ": deploys need an `at` trigger (each deploy "
                             "after the first fires that long after the new "
                             "instance is ready)");
  if (delay.present && !count.present)
    *deploys = 1;
  return true;
}

// Exactly one of at, random and when.
bool Parser::ParseTrigger(const Section& fault, const LoadSpec& load,
                          Trigger* out) {
  Value at = fault.Get("at");
  Value random = fault.Get("random");
  Value when = fault.Get("when");
  std::vector<const Value*> given;
  for (const Value* trigger : {&at, &random, &when})
    if (trigger->present)
      given.push_back(trigger);
  if (given.empty())
    return Fail(fault.self, fault.self.path +
                                " needs a trigger (at, random or when), or "
                                "after_exit");
  if (given.size() > 1)
    return Fail(given[1]->key, fault.self.path + " has both " +
                                   given[0]->key.Scalar() + " and " +
                                   given[1]->key.Scalar() +
                                   "; a fault has exactly one trigger");
  if (at.present) {
    // at: 0s is allowed: a signal racing the very first requests.
    out->kind = Trigger::Kind::kAt;
    return AsDuration(at, true, &out->at);
  }
  if (when.present)
    return ParseWhen(when, load, out);
  Section section;
  std::vector<Value> bounds;
  if (!AsSection(random, kRandomKeys, &section) ||
      !Require(section, "between") || !AsList(section.Get("between"), &bounds))
    return false;
  Value between = section.Get("between");
  if (bounds.size() != 2)
    return Fail(between, between.path + " must be [min, max]");
  out->kind = Trigger::Kind::kRandom;
  if (!AsDuration(bounds[0], true, &out->random_min) ||
      !AsDuration(bounds[1], true, &out->random_max))
    return false;
  if (out->random_min > out->random_max)
    return Fail(between, between.path + ": min is greater than max");
  return true;
}

// `escalation: none`, or `{signal: KILL, to: all}`.
bool Parser::ParseEscalation(const Value& value, Fault* out) {
  if (!value.present)
    return true;
  if (value.node.IsScalar() && value.node.Scalar() == "none") {
    out->escalation_signal = 0;
    return true;
  }
  if (!value.node.IsMap())
    return Fail(value, value.path + " must be none or {signal: KILL, to: "
                                    "process|group|tree|all}, got " +
                           Describe(value.node));
  Section section;
  return AsSection(value, kEscalationKeys, &section) &&
         AsSignal(section.Get("signal"), &out->escalation_signal) &&
         AsRecipient(section.Get("to"), &out->escalate_to);
}

bool Parser::ParseWhen(const Value& value, const LoadSpec& load,
                       Trigger* out) {
  Section section;
  if (!AsSection(value, kWhenKeys, &section))
    return false;
  if (section.fields.size() != 1)
    return Fail(value, value.path + " must have exactly one condition: "
                                    "in_flight, completed, "
                                    "db_transactions_open, log or sql");
  const std::string& condition = section.fields[0].key.Scalar();
  Value argument = section.Get(condition);
  if (condition == "log" || condition == "sql") {
    out->kind = condition == "log" ? Trigger::Kind::kLog : Trigger::Kind::kSql;
    if (!AsString(argument, &out->text))
      return false;
    if (out->text.empty())
      return Fail(argument, argument.path + " must not be empty");
    if (out->kind == Trigger::Kind::kLog) {
      try {
        std::regex compiled(out->text, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return Fail(argument, argument.path +
                                  " is not a valid regular expression: " +
                                  std::string(e.what()));
      }
    }
    return true;
  }
  out->kind = condition == "in_flight"   ? Trigger::Kind::kInFlight
              : condition == "completed" ? Trigger::Kind::kCompleted
                                         : Trigger::Kind::kDbTransactionsOpen;
  // N >= 1: a count of 0 holds before the first request, i.e. `at: 0s`.
  if (!AsInt(argument, 1, &out->count))
    return false;
  // A closed loop never has more requests in flight than clients.
  if (out->kind == Trigger::Kind::kInFlight && out->count > load.clients)
    return Fail(argument, argument.path + " " + std::to_string(out->count) +
                              " can never fire: at most " +
                              std::to_string(load.clients) +
                              " requests are in flight (load.clients)");
  return true;
}

bool Parser::ParseAfterExit(const Value& value, Fault* out) {
  Section section;
  if (!AsSection(value, kAfterExitKeys, &section) ||
      !Require(section, "restart"))
    return false;
  Value restart = section.Get("restart");
  bool enabled = false;
  if (!AsBool(restart, &enabled))
    return false;
  if (!enabled)
    return Fail(restart, restart.path + " must be true: restarting is the "
                                        "only action after exit");
  return AsDuration(section.Get("delay"), true, &out->restart_delay);
}

bool Parser::ParseJobs(const Value& value, JobsSpec* out) {
  Section section;
  std::string via = "redis";
  if (!AsSection(value, kJobsKeys, &section))
    return false;
  out->enabled = value.present;
  Value via_value = section.Get("via");
  Value queue = section.Get("queue");
  Value processing = section.Get("processing");
  if (!out->enabled)
    return true;
  if (!Require(section, "enqueue") ||
      !AsInt(section.Get("enqueue"), 1, 10'000'000, &out->enqueue) ||
      !AsInt(section.Get("rate"), 1, 1'000'000, &out->rate) ||
      !AsString(via_value, &via) || !AsString(queue, &out->queue) ||
      !AsString(processing, &out->processing))
    return false;
  if (via != "redis")
    return Fail(via_value, "jobs.via must be redis (the only queue lastcall "
                           "drives), got " + Describe(via_value.node));
  if (out->queue.empty())
    return Fail(queue, "jobs.queue must be a non-empty list name");
  if (out->processing.empty())
    return Fail(processing, "jobs.processing must be a non-empty list name");
  if (out->queue == out->processing)
    return Fail(processing.present ? processing : queue,
                "jobs.queue and jobs.processing must be different lists");
  return true;
}

// After the target and the jobs: whether the run needs Redis at all.
bool Parser::ParseRedis(const Value& value, Scenario* out) {
  Section section;
  if (!AsSection(value, kRedisKeys, &section) ||
      (value.present && !Require(section, "url")))
    return false;
  Value url = section.Get("url");
  if (!AsTemplate(url, Scope::kRun, &out->redis_url))
    return false;
  if (url.present && out->redis_url.rfind("redis://", 0) != 0 &&
      out->redis_url.rfind("unix://", 0) != 0 &&
      out->redis_url.rfind("${", 0) != 0)
    return Fail(url, "redis.url must be redis://[[user]:password@]host[:port][/db] "
                     "or unix:///path/to/socket[?db=N], got " + Describe(url.node));
  if (out->redis_url.find("${redis_url}") != std::string::npos)
    return Fail(url, "redis.url cannot be ${redis_url}: it is what defines it");
  // A plain text search: ${redis_url} is what starting Redis is for.
  bool named = false;
  for (const std::string& arg : out->target.command)
    named = named || arg.find("${redis_url}") != std::string::npos;
  for (const auto& [name, text] : out->target.env)
    named = named || text.find("${redis_url}") != std::string::npos;
  out->uses_redis = out->jobs.enabled || named;
  return true;
}

bool Parser::ParseAudit(const Value& value, const JobsSpec& jobs,
                        AuditSpec* out) {
  Section section;
  if (!AsSection(value, kAuditKeys, &section) ||
      !Require(section, "applied") ||
      !AsString(section.Get("applied"), &out->applied_sql) ||
      !AsString(section.Get("jobs"), &out->jobs_sql))
    return false;
  if (jobs.enabled && out->jobs_sql.empty())
    return Fail(section.self.key, "audit.jobs is required when the scenario "
                                  "has jobs: a query of (job id, times it took "
                                  "effect)");
  if (!jobs.enabled && section.Get("jobs").present)
    return Fail(section.Get("jobs").key, "audit.jobs needs a jobs section "
                                         "that enqueues them");
  out->applied_location = Location(section.Get("applied").node);
  out->jobs_location = Location(section.Get("jobs").node);

  std::vector<Value> invariants;
  if (!AsList(section.Get("invariants"), &invariants))
    return false;
  for (const Value& item : invariants) {
    Section invariant;
    Invariant parsed;
    if (!AsSection(item, kInvariantKeys, &invariant) ||
        !Require(invariant, "name") || !Require(invariant, "sql") ||
        !AsString(invariant.Get("name"), &parsed.name) ||
        !AsString(invariant.Get("sql"), &parsed.sql))
      return false;
    parsed.location = Location(invariant.Get("sql").node);
    out->invariants.push_back(parsed);
  }

  Value checks = section.Get("checks");
  if (checks.present && checks.node.IsScalar() &&
      checks.node.Scalar() == "default")
    return true;
  if (checks.present && !checks.node.IsSequence())
    return Fail(checks, "audit.checks must be default or a list of checks, "
                        "got " + Describe(checks.node));
  return AsCheckNames(checks, &out->checks);
}

bool Parser::ParseExpect(const Value& value, Expectation* out) {
  if (!value.present)
    return true;
  if (value.node.IsScalar() && value.node.Scalar() == "pass") {
    out->pass = true;
    return true;
  }
  if (!value.node.IsMap())
    return Fail(value, "expect must be pass, {fail: [checks]} or "
                       "{pass: [checks]}, got " + Describe(value.node));
  Section section;
  if (!AsSection(value, kExpectKeys, &section))
    return false;
  Value fail = section.Get("fail");
  Value pass = section.Get("pass");
  if (fail.present == pass.present)
    return Fail(value, "expect takes one of fail and pass");
  out->pass = pass.present;
  return AsCheckNames(fail, &out->fail_checks) &&
         AsCheckNames(pass, &out->pass_checks);
}

// `[min, max]`, or one value for both: durations (0 allowed) or integers
// of at least `min`.
bool Parser::AsRange(const Value& value, bool durations, int64_t min,
                     ExploreSpec::Range* out) {
  if (!value.present)
    return true;
  std::vector<Value> bounds = {value, value};
  if (value.node.IsSequence() && !AsList(value, &bounds))
    return false;
  if (bounds.size() != 2)
    return Fail(value, value.path + " must be [min, max] or one value");
  int64_t parsed[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    Duration duration{0};
    if (durations ? !AsDuration(bounds[i], true, &duration)
                  : !AsInt(bounds[i], min, INT_MAX, &parsed[i]))
      return false;
    if (durations)
      parsed[i] = duration.count();
  }
  if (parsed[0] > parsed[1])
    return Fail(value, value.path + ": min is greater than max");
  *out = {parsed[0], parsed[1]};
  return true;
}

// `explore:`, the bounds of `lastcall explore`. Every key has a default from
// the rest of the scenario, so `explore: {}` is enough.
bool Parser::ParseExplore(const Value& value, const Scenario& scenario,
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
  if (!AsSection(value, kExploreKeys, &section))
    return false;
  Value signals = section.Get("signals");
  std::vector<Value> names;
  if (!AsList(signals, &names))
    return false;
  if (signals.present && names.empty())
    return Fail(signals, signals.path + " must name at least one signal");
  if (signals.present)
    out->signals.assign(names.size(), 0);
  for (size_t i = 0; i < names.size(); ++i) {
    if (!AsSignal(names[i], &out->signals[i]))
      return false;
  }
  Value faults = section.Get("faults");
  if (!AsRange(section.Get("grace"), true, 0, &out->grace) ||
      !AsRange(section.Get("clients"), false, 1, &out->clients) ||
      !AsRange(faults, false, 1, &out->faults))
    return false;
  if (out->faults.max > kMaxExploredFaults)
    return Fail(faults, faults.path + " must be at most " +
                            std::to_string(kMaxExploredFaults) +
                            " signals per run");
  return ParseExploreRestart(section.Get("restart"), out) &&
         ParseExploreTriggers(section.Get("triggers"), scenario, out);
}

// `restart: true`, or a list to draw from: `[false, true]`.
bool Parser::ParseExploreRestart(const Value& value, ExploreSpec* out) {
  if (!value.present)
    return true;
  std::vector<Value> choices = {value};
  if (value.node.IsSequence() && !AsList(value, &choices))
    return false;
  if (choices.empty())
    return Fail(value, value.path + " must be true, false or a list of them");
  out->restart.assign(choices.size(), false);
  for (size_t i = 0; i < choices.size(); ++i) {
    bool choice = false;
    if (!AsBool(choices[i], &choice))
      return false;
    out->restart[i] = choice;
  }
  return true;
}

bool Parser::ParseExploreTriggers(const Value& value, const Scenario& scenario,
                                  ExploreSpec* out) {
  if (!value.present)
    return true;
  Section section;
  if (!AsSection(value, kExploreTriggerKeys, &section))
    return false;
  if (section.fields.empty())
    return Fail(value, value.path + " must name at least one of at, "
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
    if (!AsRange(range, name == "at", 1, &trigger.range))
      return false;
    const int64_t load = scenario.load.duration.count();
    if (name == "at" && load > 0 && trigger.range.max >= load)
      return Fail(range, range.path + " must end before the load does "
                                      "(load.duration): a fault drawn later "
                                      "would never fire");
    // A closed loop never has more requests in flight than clients.
    if (name == "in_flight" && trigger.range.min > out->clients.max)
      return Fail(range, range.path + " can never fire: at most " +
                             std::to_string(out->clients.max) +
                             " requests are in flight (explore.clients)");
    out->triggers.push_back(trigger);
  }
  return true;
}

// "payments.yaml" -> "payments".
std::string DefaultName(const fs::path& file) {
  std::string extension = file.extension().string();
  if (extension == ".yaml" || extension == ".yml")
    return file.stem().string();
  return file.filename().string();
}

}  // namespace

namespace {

// The YAML tree of `yaml_text`, with `overrides` applied.
bool LoadTree(const std::string& yaml_text, const std::string& file_path,
              const std::vector<std::string>& overrides, YAML::Node* root,
              std::string* error) {
  try {
    *root = YAML::Load(yaml_text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for it is "bad file".
    *error = LocationOf(file_path, e.mark).ToString() + ": lists and maps nested deeper than " +
             std::to_string(e.depth() - 1) + " levels";
    return false;
  } catch (const YAML::Exception& e) {
    *error = LocationOf(file_path, e.mark).ToString() + ": " + e.msg;
    return false;
  }
  for (const std::string& assignment : overrides) {
    if (!ApplyOverride(assignment, *root, error)) {
      *error = file_path + ": " + *error;
      return false;
    }
  }
  return true;
}

}  // namespace

bool OverriddenScenarioText(const std::string& yaml_text, const std::string& file_path,
                            const std::vector<std::string>& overrides, std::string* out,
                            std::string* error) {
  if (overrides.empty()) {
    *out = yaml_text;
    return true;
  }
  YAML::Node root;
  if (!LoadTree(yaml_text, file_path, overrides, &root, error)) {
    *error = VisibleText(*error);
    return false;
  }
  YAML::Emitter emitter;
  emitter << root;
  *out = std::string(emitter.c_str()) + "\n";
  return true;
}

namespace {

// The scenario of a YAML tree whose matrix variables are substituted.
bool ParseTree(const YAML::Node& root, const std::string& file_path,
               Scenario* scenario, std::string* error) {
  *scenario = Scenario();
  std::error_code ignored;
  fs::path file = fs::absolute(file_path, ignored).lexically_normal();
  scenario->file = file.string();
  scenario->dir = file.parent_path().string();
  scenario->name = DefaultName(file);
  scenario->target.cwd = scenario->dir;
  Parser parser(file_path, scenario->dir);
  if (!parser.Parse(root, scenario)) {
    *error = parser.error();
    return false;
  }
  return true;
}

// The scenario of one combination, from a tree of its own.
bool ParseCombination(YAML::Node root, const std::string& file_path,
                      const Combination& combination, Scenario* scenario,
                      std::string* error) {
  if (!SubstituteMatrix(combination, file_path, root, error))
    return false;
  if (!ParseTree(root, file_path, scenario, error)) {
    // The message points at the ${matrix.NAME} that made the bad value.
    if (!combination.empty())
      *error += " (in the combination " + CombinationLabel(combination) + ")";
    return false;
  }
  if (!combination.empty()) {
    scenario->name += "/" + CombinationLabel(combination);
    scenario->matrix = combination;
  }
  return true;
}

bool ParseCombinations(const std::string& yaml_text, const std::string& file_path,
                       const std::vector<std::string>& overrides,
                       std::vector<Scenario>* scenarios, std::string* error) {
  YAML::Node root;
  std::vector<Combination> combinations;
  if (!LoadTree(yaml_text, file_path, overrides, &root, error) ||
      !MatrixCombinations(root, file_path, &combinations, error))
    return false;
  scenarios->assign(combinations.size(), Scenario());
  for (size_t i = 0; i < combinations.size(); ++i) {
    // Substitution rewrites the tree, so each combination after the first
    // reads the text again (YAML::Clone would drop the positions).
    if ((i > 0 && !LoadTree(yaml_text, file_path, overrides, &root, error)) ||
        !ParseCombination(root, file_path, combinations[i], &(*scenarios)[i],
                          error))
      return false;
  }
  return true;
}

}  // namespace

bool ParseScenarioText(const std::string& yaml_text,
                       const std::string& file_path,
                       const std::vector<std::string>& overrides,
                       std::vector<Scenario>* scenarios, std::string* error) {
  if (ParseCombinations(yaml_text, file_path, overrides, scenarios, error))
    return true;
  // Messages quote the file's values, and are printed on a terminal.
  *error = VisibleText(*error);
  return false;
}

bool ParseScenarioText(const std::string& yaml_text,
                       const std::string& file_path, Scenario* scenario,
                       std::string* error) {
  std::vector<Scenario> scenarios;
  if (!ParseScenarioText(yaml_text, file_path, {}, &scenarios, error))
    return false;
  if (scenarios.size() != 1) {
    *error = file_path + ": a matrix of " + std::to_string(scenarios.size()) +
             " combinations where one scenario was expected";
    return false;
  }
  *scenario = std::move(scenarios[0]);
  return true;
}

bool LoadScenario(const std::string& path,
                  const std::vector<std::string>& overrides,
                  std::vector<Scenario>* scenarios, std::string* error) {
  std::string text;
  return ReadFile(path, &text, error) &&
         ParseScenarioText(text, path, overrides, scenarios, error);
}

const std::vector<SectionKeys>& ScenarioSections() {
  // A new section's Keys needs a line here, and its keys a place in
  // schema/scenario.schema.json; scenario_schema_test says what is missing.
  static const std::vector<SectionKeys> kSections = [] {
    const std::pair<const char*, const Keys*> kPaths[] = {
        {"", &kTopKeys},
        {"database", &kDatabaseKeys},
        {"target", &kTargetKeys},
        {"target.ready", &kReadyKeys},
        {"load", &kLoadKeys},
        {"load.request", &kRequestKeys},
        {"load.accounts", &kAccountsKeys},
        {"load.retry", &kRetryKeys},
        {"load.websockets", &kWebSocketKeys},
        {"faults[]", &kFaultKeys},
        {"faults[].when", &kWhenKeys},
        {"faults[].random", &kRandomKeys},
        {"faults[].escalation", &kEscalationKeys},
        {"faults[].after_exit", &kAfterExitKeys},
        {"load_balancer", &kLoadBalancerKeys},
        {"load_balancer.check", &kHealthCheckKeys},
        {"load_balancer.rolling_restart", &kRollingRestartKeys},
        {"jobs", &kJobsKeys},
        {"redis", &kRedisKeys},
        {"audit", &kAuditKeys},
        {"audit.invariants[]", &kInvariantKeys},
        {"expect", &kExpectKeys},
        {"explore", &kExploreKeys},
        {"explore.triggers", &kExploreTriggerKeys},
    };
    std::vector<SectionKeys> sections;
    for (const auto& [path, keys] : kPaths)
      sections.push_back({path, keys->known, keys->unsupported});
    return sections;
  }();
  return kSections;
}

}  // namespace lastcall
