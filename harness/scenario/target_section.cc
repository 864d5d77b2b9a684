#include "scenario/sections.h"

namespace lastcall {

const Keys kTargetKeys = {
    {"command", "env", "ready", "cwd", "clean_exit", "instances", "container"},
    {}};
const Keys kReadyKeys = {{"http", "log", "tcp", "timeout"}, {}};
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


}  // namespace lastcall
