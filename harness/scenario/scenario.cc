#include "scenario/scenario.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "base/file.h"
#include "base/visible_text.h"
#include "scenario/matrix.h"
#include "scenario/sections.h"
#include "scenario/yaml_reader.h"

namespace lastcall {

namespace fs = std::filesystem;

bool Expectation::MustPass(const std::string& check) const {
  return pass && (pass_checks.empty() ||
                  std::find(pass_checks.begin(), pass_checks.end(), check) != pass_checks.end());
}

std::string SourceLocation::ToString() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

namespace scenario_file {
namespace {

// `matrix` is expanded before parsing (matrix.h); the parser passes over it.
const Keys kTopKeys = {
    {"name", "description", "seed", "database", "target", "load", "sender", "faults", "audit",
     "expect", "matrix", "load_balancer", "jobs", "redis", "explore", "control"},
    {}};

// The files lastcall writes at the top of the reports folder, beside the
// runs' folders.
const char* const kReportsFolderFiles[] = {"junit.xml", "summary.md", "index.html", "shard.json"};

// Why `name` cannot be the path of a run's folder under the reports folder,
// or "" when it can: one or more folder names joined by '/', each of them
// neither empty nor starting with '.' (no "..", nothing hidden), without a
// backslash or a control character, none longer than a file name may be,
// and the first not one of the reports folder's own files.
std::string ReportNameProblem(const std::string& name) {
  if (name.empty()) return "it is empty";
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return "it has a control character";
    if (c == '\\') return "it has a backslash";
  }
  constexpr size_t kMaxFileName = 255;  // NAME_MAX of Linux's file systems
  size_t start = 0;
  for (size_t slash; start <= name.size(); start = slash + 1) {
    slash = std::min(name.find('/', start), name.size());
    const std::string part = name.substr(start, slash - start);
    if (part.empty()) return "it starts or ends with '/', or has '//'";
    if (part[0] == '.') return "'" + part + "' starts with '.'";
    if (part.size() > kMaxFileName)
      return "a part between slashes is longer than " + std::to_string(kMaxFileName) + " bytes";
    if (start == 0)
      for (const char* file : kReportsFolderFiles)
        if (part == file) return "lastcall writes " + part + " in the reports folder itself";
  }
  return "";
}

// The name is the path of the run's folder under the reports folder: it must
// not lead out of it, nor onto files lastcall writes there.
bool CheckName(YamlReader* yaml, const Section& top, const std::string& name) {
  const std::string problem = ReportNameProblem(name);
  if (problem.empty()) return true;
  const std::string rule =
      " must be folder names joined by '/', none empty or starting with '.', "
      "without '\\' or control characters: ";
  Value value = top.Get("name");
  if (value.present)
    return yaml->Fail(value, "name" + rule + problem + ", got " + Describe(value.node));
  return yaml->Fail(top.self.node, "the scenario's name, from its file name (\"" + name + "\")," +
                                       rule + problem + "; give it a name:");
}

bool ParseSeed(YamlReader* yaml, const Value& value, uint64_t* out) {
  if (!value.present) return true;
  const std::string text = value.node.IsScalar() ? value.node.Scalar() : "";
  errno = 0;
  uint64_t seed = IsDigits(text) ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (!IsDigits(text) || errno == ERANGE)
    return yaml->Fail(value,
                      "seed must be an unsigned 64-bit integer, got " + Describe(value.node));
  *out = seed;
  return true;
}

// Reads the scenario's YAML tree into *scenario, each section in turn.
bool ParseDocument(YamlReader* yaml, const YAML::Node& root, Scenario* scenario) {
  Section top;
  if (!yaml->AsSection(Value{true, root, root, ""}, kTopKeys, &top)) return false;
  return yaml->Require(top, "target") && yaml->Require(top, "load") &&
         yaml->Require(top, "audit") && yaml->AsString(top.Get("name"), &scenario->name) &&
         CheckName(yaml, top, scenario->name) &&
         yaml->AsString(top.Get("description"), &scenario->description) &&
         ParseSeed(yaml, top.Get("seed"), &scenario->seed) &&
         ParseDatabase(yaml, top.Get("database"), &scenario->database) &&
         ParseTarget(yaml, top.Get("target"), &scenario->target) &&
         ParseLoad(yaml, top.Get("load"), &scenario->load) &&
         // After the load: triggers are checked against load.clients.
         ParseFaults(yaml, top.Get("faults"), top.Get("sender"), scenario->load,
                     &scenario->faults) &&
         ParseLoadBalancer(yaml, top.Get("load_balancer"), *scenario, &scenario->load_balancer) &&
         ParseJobs(yaml, top.Get("jobs"), &scenario->jobs) &&
         ParseRedis(yaml, top.Get("redis"), scenario) &&
         ParseAudit(yaml, top.Get("audit"), scenario->jobs, &scenario->audit,
                    &scenario->written_check_names) &&
         ParseExpect(yaml, top.Get("expect"), &scenario->expect, &scenario->written_check_names) &&
         yaml->AsBool(top.Get("control"), &scenario->control) &&
         // Last: its defaults come from the load and the faults.
         ParseExplore(yaml, top.Get("explore"), *scenario, &scenario->explore);
}

}  // namespace
}  // namespace scenario_file

namespace {

// "payments.yaml" -> "payments".
std::string DefaultName(const fs::path& file) {
  std::string extension = file.extension().string();
  if (extension == ".yaml" || extension == ".yml") return file.stem().string();
  return file.filename().string();
}

// The YAML tree of `yaml_text`, with `overrides` applied.
bool LoadTree(const std::string& yaml_text, const std::string& file_path,
              const std::vector<std::string>& overrides, YAML::Node* root, std::string* error) {
  try {
    *root = YAML::Load(yaml_text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for it is "bad file".
    *error = scenario_file::LocationOf(file_path, e.mark).ToString() +
             ": lists and maps nested deeper than " + std::to_string(e.depth() - 1) + " levels";
    return false;
  } catch (const YAML::Exception& e) {
    *error = scenario_file::LocationOf(file_path, e.mark).ToString() + ": " + e.msg;
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
bool ParseTree(const YAML::Node& root, const std::string& file_path, Scenario* scenario,
               std::string* error) {
  *scenario = Scenario();
  std::error_code ignored;
  fs::path file = fs::absolute(file_path, ignored).lexically_normal();
  scenario->file = file.string();
  scenario->dir = file.parent_path().string();
  scenario->name = DefaultName(file);
  scenario->target.cwd = scenario->dir;
  scenario_file::YamlReader yaml(file_path, scenario->dir);
  if (!scenario_file::ParseDocument(&yaml, root, scenario)) {
    *error = yaml.error();
    return false;
  }
  return true;
}

// The scenario of one combination, from a tree of its own.
bool ParseCombination(YAML::Node root, const std::string& file_path, const Combination& combination,
                      Scenario* scenario, std::string* error) {
  if (!SubstituteMatrix(combination, file_path, root, error)) return false;
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
                       const std::vector<std::string>& overrides, std::vector<Scenario>* scenarios,
                       std::string* error) {
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
        !ParseCombination(root, file_path, combinations[i], &(*scenarios)[i], error))
      return false;
  }
  return true;
}

}  // namespace

bool ParseScenarioText(const std::string& yaml_text, const std::string& file_path,
                       const std::vector<std::string>& overrides, std::vector<Scenario>* scenarios,
                       std::string* error) {
  if (ParseCombinations(yaml_text, file_path, overrides, scenarios, error)) return true;
  // Messages quote the file's values, and are printed on a terminal.
  *error = VisibleText(*error);
  return false;
}

bool ParseScenarioText(const std::string& yaml_text, const std::string& file_path,
                       Scenario* scenario, std::string* error) {
  std::vector<Scenario> scenarios;
  if (!ParseScenarioText(yaml_text, file_path, {}, &scenarios, error)) return false;
  if (scenarios.size() != 1) {
    *error = file_path + ": a matrix of " + std::to_string(scenarios.size()) +
             " combinations where one scenario was expected";
    return false;
  }
  *scenario = std::move(scenarios[0]);
  return true;
}

bool LoadScenario(const std::string& path, const std::vector<std::string>& overrides,
                  std::vector<Scenario>* scenarios, std::string* error) {
  std::string text;
  return ReadFile(path, &text, error) && ParseScenarioText(text, path, overrides, scenarios, error);
}

const std::vector<SectionKeys>& ScenarioSections() {
  // A new section's Keys needs a line here, and its keys a place in
  // schema/scenario.schema.json; scenario_schema_test says what is missing.
  static const std::vector<SectionKeys> kSections = [] {
    using namespace scenario_file;
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
