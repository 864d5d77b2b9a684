#include "config.h"

#include <cstdlib>
#include <utility>

namespace {

const std::pair<const char*, Bug> kBugNames[] = {
    {"no-idempotency", Bug::kNoIdempotency},
    {"respond-before-commit", Bug::kRespondBeforeCommit},
    {"ignore-signal", Bug::kIgnoreSignal},
    {"no-drain", Bug::kNoDrain},
    {"no-handler", Bug::kNoHandler},
    {"sigint-unhandled", Bug::kSigintUnhandled},
    {"close-db-first", Bug::kCloseDbFirst},
    {"no-db-close", Bug::kNoDbClose},
    {"abandon-transaction", Bug::kAbandonTransaction},
    {"slow-drain", Bug::kSlowDrain},
    {"leak-tempfiles", Bug::kLeakTempfiles},
    {"orphan-worker", Bug::kOrphanWorker},
    {"wrapper-no-forward", Bug::kWrapperNoForward},
    {"worker-drop", Bug::kWorkerDrop},
    {"worker-no-ack-idempotency", Bug::kWorkerNoAckIdempotency},
    {"ready-stays-up", Bug::kReadyStaysUp},
    {"ws-no-close", Bug::kWsNoClose},
    {"keep-alive-drain", Bug::kKeepAliveDrain},
};

bool parse_bug(const std::string& name, Bug* bug) {
  for (const auto& [known, value] : kBugNames) {
    if (name == known) {
      *bug = value;
      return true;
    }
  }
  return false;
}

std::string bug_list() {
  std::string list;
  for (const auto& entry : kBugNames) {
    list += list.empty() ? "" : ", ";
    list += entry.first;
  }
  return list;
}

// A whole-string integer in [min, max].
bool parse_int(const std::string& text, long min, long max, long* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  long value = std::strtol(text.c_str(), &end, 10);
  if (*end != '\0' || value < min || value > max) return false;
  *out = value;
  return true;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

// --redis URL, --workers N: the job workers' flags.
bool parse_worker_flag(const std::string& flag, const std::string& value, Config* config,
                       std::string* error) {
  long workers = 0;
  if (flag == "--redis") {
    config->redis_url = value;
  } else if (!parse_int(value, 1, 256, &workers)) {
    *error = "bad --workers '" + value + "' (1..256)";
    return false;
  }
  if (workers > 0) config->workers = static_cast<int>(workers);
  return true;
}

// JOB_QUEUE, JOB_PROCESSING, JOB_LATENCY.
bool parse_job_env(Config* config, std::string* error) {
  config->job_queue = env_or("JOB_QUEUE", config->job_queue);
  config->job_processing = env_or("JOB_PROCESSING", config->job_processing);
  if (!parse_duration(env_or("JOB_LATENCY", "20ms"), &config->job_latency)) {
    *error = "JOB_LATENCY is not a duration like 20ms";
    return false;
  }
  return true;
}

bool parse_args(const std::vector<std::string>& args, Config* config, std::string* port,
                std::string* error) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--reconciler") {
      config->reconciler = true;
      continue;
    }
    if (arg == "--redis" || arg == "--workers") {
      if (i + 1 == args.size()) {
        *error = arg + " needs a value";
        return false;
      }
      if (!parse_worker_flag(arg, args[++i], config, error)) return false;
      continue;
    }
    if (arg != "--port" && arg != "--ws-port" && arg != "--bug") {
      *error = "unknown argument '" + arg + "'";
      return false;
    }
    if (i + 1 == args.size()) {
      *error = arg + " needs a value";
      return false;
    }
    const std::string& value = args[++i];
    long ws_port = 0;
    if (arg == "--port") {
      *port = value;
    } else if (arg == "--ws-port") {
      if (!parse_int(value, 1, 65535, &ws_port)) {
        *error = "bad --ws-port '" + value + "'";
        return false;
      }
      config->ws_port = static_cast<int>(ws_port);
    } else if (!parse_bug(value, &config->bug)) {
      *error = "unknown bug '" + value + "' (known: " + bug_list() + ")";
      return false;
    }
  }
  return true;
}

bool parse_env(Config* config, std::string* error) {
  config->database_url = env_or("DATABASE_URL", "");
  if (config->database_url.empty()) {
    *error = "DATABASE_URL is not set";
    return false;
  }
  if (!parse_duration(env_or("DRAIN_TIMEOUT", "10s"), &config->drain_timeout)) {
    *error = "DRAIN_TIMEOUT is not a duration like 10s or 500ms";
    return false;
  }
  if (!parse_duration(env_or("PAYMENT_LATENCY", "0"), &config->payment_latency)) {
    *error = "PAYMENT_LATENCY is not a duration like 200ms";
    return false;
  }
  if (!parse_duration(env_or("SHUTDOWN_DELAY", "0"), &config->shutdown_delay)) {
    *error = "SHUTDOWN_DELAY is not a duration like 500ms";
    return false;
  }
  long pool_size = 0;
  if (!parse_int(env_or("DB_POOL_SIZE", "8"), 1, 1000, &pool_size)) {
    *error = "DB_POOL_SIZE is not a number in 1..1000";
    return false;
  }
  config->db_pool_size = static_cast<std::size_t>(pool_size);
  config->tmpdir = env_or("TMPDIR", "/tmp");
  return true;
}

}  // namespace

bool parse_duration(const std::string& text, std::chrono::milliseconds* out) {
  if (text == "0") {
    *out = std::chrono::milliseconds(0);
    return true;
  }
  char* unit = nullptr;
  double value = std::strtod(text.c_str(), &unit);
  if (unit == text.c_str() || value < 0) return false;
  double scale = 0;
  if (std::string(unit) == "ms")
    scale = 1;
  else if (std::string(unit) == "s")
    scale = 1000;
  else if (std::string(unit) == "m")
    scale = 60 * 1000;
  else
    return false;
  *out = std::chrono::milliseconds(static_cast<long long>(value * scale));
  return true;
}

bool parse_config(const std::vector<std::string>& args, Config* config, std::string* error) {
  std::string port = env_or("PORT", "");
  if (!parse_args(args, config, &port, error) || !parse_env(config, error) ||
      !parse_job_env(config, error))
    return false;
  if (config->reconciler) return true;  // The child needs no port.
  long port_number = 0;
  if (!parse_int(port, 1, 65535, &port_number)) {
    *error = port.empty() ? "no port: pass --port N or set PORT" : "bad port '" + port + "'";
    return false;
  }
  config->port = static_cast<int>(port_number);
  return true;
}
