#include <string>
#include <vector>

#include "base/exit_status.h"
#include "base/signal_name.h"
#include "scenario/sections.h"

namespace lastcall::scenario_file {

const Keys kTargetKeys = {
    {"command", "env", "ready", "cwd", "clean_exit", "instances", "container"}, {}};
const Keys kReadyKeys = {{"http", "log", "tcp", "timeout"}, {}};

namespace {

bool ParseReady(YamlReader* yaml, const Value& value, ReadyProbe* out) {
  Section section;
  if (!yaml->AsSection(value, kReadyKeys, &section) ||
      !yaml->AsDuration(section.Get("timeout"), false, &out->timeout))
    return false;
  Value http = section.Get("http");
  Value log = section.Get("log");
  Value tcp = section.Get("tcp");
  if (http.present + log.present + tcp.present > 1)
    return yaml->Fail(value.key, "target.ready takes only one of http, log and tcp");
  if (http.present) {
    if (!yaml->AsString(http, &out->http_path)) return false;
    if (out->http_path.empty() || out->http_path[0] != '/')
      return yaml->Fail(http,
                        "target.ready.http must be a path starting with /, "
                        "got " +
                            Describe(http.node));
    out->kind = ReadyProbe::Kind::kHttp;
  } else if (log.present) {
    if (!yaml->AsRegex(log, &out->log_regex)) return false;
    out->kind = ReadyProbe::Kind::kLog;
  } else if (tcp.present) {
    bool enabled = false;
    if (!yaml->AsBool(tcp, &enabled)) return false;
    if (!enabled)
      return yaml->Fail(tcp, "target.ready.tcp must be true, got " + Describe(tcp.node));
    out->kind = ReadyProbe::Kind::kTcp;
  }
  return true;
}

bool ParseExitStatus(YamlReader* yaml, const Value& value, ExitStatus* out) {
  std::string text;
  if (!yaml->AsString(value, &text)) return false;
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
  return yaml->Fail(value, value.path +
                               " must be an exit code (0-255) or a signal such as "
                               "SIGTERM, got " +
                               Describe(value.node));
}

}  // namespace

bool ParseTarget(YamlReader* yaml, const Value& value, TargetSpec* out) {
  Section section;
  if (!yaml->AsSection(value, kTargetKeys, &section) || !yaml->Require(section, "command"))
    return false;
  out->location = yaml->Location(value.key);

  Value command = section.Get("command");
  std::vector<Value> argv;
  if (!yaml->AsList(command, &argv)) return false;
  if (argv.empty()) return yaml->Fail(command, "target.command must not be empty");
  out->command.resize(argv.size());
  for (size_t i = 0; i < argv.size(); ++i) {
    if (!yaml->AsTemplate(argv[i], Scope::kRun, &out->command[i])) return false;
  }
  // A program with a slash is relative to the scenario, like every path in
  // it; a bare name is looked up in PATH at run time. One that starts with a
  // variable (${run_dir}/...) is absolute once expanded.
  std::string& program = out->command[0];
  if (program.find('/') != std::string::npos && program[0] != '$') program = yaml->Resolve(program);

  Section env;
  if (!yaml->AsMap(section.Get("env"), &env)) return false;
  for (const Field& field : env.fields) {
    const std::string& name = field.key.Scalar();
    Value variable{true, field.value, field.key, env.PathOf(name)};
    if (!yaml->AsTemplate(variable, Scope::kRun, &out->env[name])) return false;
  }

  if (!ParseReady(yaml, section.Get("ready"), &out->ready) ||
      !yaml->AsPath(section.Get("cwd"), &out->cwd) ||
      !yaml->AsBool(section.Get("container"), &out->container))
    return false;

  Value clean_exit = section.Get("clean_exit");
  std::vector<Value> statuses;
  if (!yaml->AsList(clean_exit, &statuses)) return false;
  if (clean_exit.present) {
    if (statuses.empty())
      return yaml->Fail(clean_exit, "target.clean_exit must list at least one status");
    out->clean_exit.resize(statuses.size());
    for (size_t i = 0; i < statuses.size(); ++i) {
      if (!ParseExitStatus(yaml, statuses[i], &out->clean_exit[i])) return false;
    }
  }

  return yaml->AsInt(section.Get("instances"), 1, 100, &out->instances);
}

}  // namespace lastcall::scenario_file
