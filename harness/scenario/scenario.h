// The scenario: a complete, seeded description of one shutdown experiment,
// read from a YAML file. Parsing validates everything it can before
// anything is started; values that depend on the run (${port}, ...) stay as
// templates and are expanded by substitution.h at run time.
#ifndef LASTCALL_SCENARIO_H_
#define LASTCALL_SCENARIO_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/duration.h"
#include "base/exit_status.h"
#include "base/signal_name.h"

namespace lastcall {

// Where something was written in a scenario file, for error messages.
struct SourceLocation {
  std::string file;
  int line = 0;                  // 1-based; 0 when unknown
  int column = 0;                // 1-based
  std::string ToString() const;  // "file:line:column"; "file" when line is 0
};

// How the harness decides the target is ready to take load.
struct ReadyProbe {
  enum class Kind { kHttp, kLog, kTcp };
  Kind kind = Kind::kHttp;
  std::string http_path = "/healthz";  // kHttp: GET must answer 2xx
  std::string log_regex;               // kLog: ECMAScript regex on a stdout/stderr line
  Duration timeout = std::chrono::seconds(10);
};

struct TargetSpec {
  // argv as written, templates unexpanded. command[0] with a slash has been
  // made absolute relative to the scenario file's folder.
  std::vector<std::string> command;
  std::map<std::string, std::string> env;  // values are templates
  std::string cwd;                         // absolute; default: scenario's folder
  ReadyProbe ready;
  std::vector<ExitStatus> clean_exit{ExitStatus{}};
  // Run as PID 1 of a new PID namespace, as container runtimes do.
  bool container = false;
  int instances = 1;        // > 1: behind the load balancer, each on its own port
  SourceLocation location;  // of the `target:` key
};

// How a rolling restart takes an instance out of the load balancer's
// rotation, relative to its signal (the Kubernetes endpoints race).
enum class Deregistration {
  kWithSignal,    // at the same moment as the signal
  kPreStop,       // pre_stop before the signal (a preStop sleep)
  kHealthChecks,  // never: only the health checks on /readyz fail it out
};

// `load_balancer.rolling_restart`: each instance in turn is taken out of
// rotation, signalled, waited for, replaced on its port, and readmitted once
// the load balancer reports the replacement UP, while the load continues.
struct RollingRestart {
  bool enabled = false;
  Duration at{0};  // since the load started
  Deregistration deregister = Deregistration::kWithSignal;
  Duration pre_stop{0};  // kPreStop: deregistration to signal
  // How long the load balancer takes to apply a deregistration (Kubernetes:
  // endpoint removal reaching kube-proxy or the ingress); 0: at once.
  Duration propagation{0};
  int signal = 15;                            // SIGTERM
  Duration grace = std::chrono::seconds(30);  // then SIGKILL
  int64_t allowed_client_errors = 0;          // the `client_errors` check's allowance
};

// `load_balancer:`, or `target.instances` > 1: HAProxy in front of the
// instances, health-checking each on its own port; clients talk only to it.
struct LoadBalancerSpec {
  bool enabled = false;
  std::string check_path = "/readyz";
  Duration check_interval = std::chrono::seconds(2);  // HAProxy's defaults
  int rise = 2, fall = 3;
  int retries = 0;          // connection retries of a request; 0 as kube-proxy
  bool redispatch = false;  // retry on another server (option redispatch)
  RollingRestart rolling_restart;
};

struct DatabaseSpec {
  bool embedded = true;
  std::string url;          // when !embedded; template
  std::string schema_path;  // absolute, or empty
  std::string setup_sql;    // run once per run, before the target starts
  // How long the schema and the setup may take together (they run when a
  // new template is made); past it they are cancelled and the run fails.
  Duration timeout = std::chrono::seconds(60);
};

// Background jobs (`jobs:`): the harness enqueues `enqueue` jobs with unique
// ids ("job-<seed>-<n>") at `rate` per second from the load's start until the
// load ends, LPUSHed onto the Redis list `queue`; the target's workers move
// each to the list `processing` while they work on it (the reliable queue).
struct JobsSpec {
  bool enabled = false;  // the scenario has a jobs section
  int64_t enqueue = 0;
  int64_t rate = 1000;
  std::string queue = "jobs";
  std::string processing = "jobs:processing";
};

struct RequestTemplate {
  std::string method = "POST";
  std::string path = "/payments";                            // template
  std::vector<std::pair<std::string, std::string>> headers;  // value templates
  std::string body;                                          // template
  Duration timeout = std::chrono::seconds(5);
};

// Which attempt outcomes are retried (with the same idempotency key).
struct RetryPolicy {
  bool on_reset = false;       // connection reset or EOF, before or after writing
  bool on_timeout = false;     // no answer within request.timeout
  bool on_refused = false;     // connect() refused
  std::vector<int> on_status;  // HTTP statuses, e.g. 503; 500..599 for "5xx"
  int attempts = 1;            // total attempts per key, >= 1
  Duration backoff = std::chrono::milliseconds(50);  // doubles per attempt
};

// WebSocket clients opened alongside the HTTP load (`load.websockets`):
// each connects before the load starts and holds its connection, counting
// the messages the target pushes, until the target closes it or the run ends.
struct WebSocketSpec {
  int clients = 0;               // 0: none
  std::string path = "/ws";      // template (run variables)
  std::string port = "${port}";  // template; must expand to a port number
  SourceLocation port_location;  // where `port` was written, for that error
};

struct LoadSpec {
  int clients = 16;
  Duration duration{0};  // one of duration / requests is set
  int64_t requests = 0;  // total keys across all clients
  // How long the load may be held past its end while a count-triggered
  // fault has not fired or a drain is under way; 0: the default
  // (MaxDuration()).
  Duration max_duration{0};
  bool keep_alive = true;
  RequestTemplate request;
  int account_count = 20;  // ${from}, ${to} in 1..account_count, distinct
  int64_t amount_min = 1;  // ${amount} in [amount_min, amount_max]
  int64_t amount_max = 500;
  RetryPolicy retry;
  WebSocketSpec websockets;
};

// load.max_duration, or its default: 10 times load.duration, or 60 s for a
// load bound by requests.
Duration MaxDuration(const LoadSpec& load);

// What makes a fault fire.
struct Trigger {
  enum class Kind {
    kAt,                  // `at`: time since load started
    kRandom,              // `random: {between: [A, B]}`: becomes kAt at run time
    kInFlight,            // requests sent and not yet answered
    kCompleted,           // requests answered
    kDbTransactionsOpen,  // the target's sessions inside a transaction
    kLog,                 // a target output line matches `text`
    kSql,                 // the query `text` returns true
    kRollingRestart,      // fired by the rolling restart, at its own step
  };
  Kind kind = Kind::kAt;
  Duration at{0};  // kAt
  // kAt: counted from the moment the current instance became ready instead
  // of the load's start (the deploys after the first of `deploys: N`).
  bool since_ready = false;
  Duration random_min{0}, random_max{0};  // kRandom
  int64_t count = 0;                      // kInFlight / kCompleted / kDbTransactionsOpen
  std::string text;                       // kLog: ECMAScript regex; kSql: query
};

// Who receives a signal, as each real sender decides (sender.h).
enum class Recipient {
  kProcess,  // the main process only (a container's PID 1, supervisord)
  kGroup,    // its process group (a terminal's Ctrl-C)
  kTree,     // the main process and its descendants (PM2's treekill)
  kAll,      // every process the target started, wherever it went (systemd's
             // control group, a Heroku dyno): found by the run id in their
             // environment
};
const char* RecipientName(Recipient recipient);

// One nemesis step: either a signal, or a restart after the target exits.
struct Fault {
  enum class Kind { kSignal, kRestart };
  Kind kind = Kind::kSignal;
  // kSignal
  std::string sender;  // the preset it came from, "" for none
  Trigger trigger;
  int signal = 15;  // SIGTERM
  Recipient to = Recipient::kProcess;
  std::vector<int> also;  // sent right after `signal`, same recipient (systemd's CONT)
  Duration grace = std::chrono::seconds(30);
  // When grace runs out: this signal (0: none, the sender never escalates)
  // to this recipient.
  int escalation_signal = 9;  // SIGKILL
  Recipient escalate_to = Recipient::kProcess;
  // kRestart (`after_exit: {restart: true, delay: ...}`)
  Duration restart_delay{0};
  SourceLocation location;
};

struct Invariant {
  std::string name;
  std::string sql;          // every returned row is a violation
  SourceLocation location;  // of `sql`, for the server's error
};

struct AuditSpec {
  // Returns (idempotency_key text, times_applied integer) rows.
  std::string applied_sql;
  SourceLocation applied_location;  // for the server's error
  std::vector<Invariant> invariants;
  std::vector<std::string> checks;  // empty: `default`, every applicable check
  // `audit.jobs`: (job id text, times it took effect integer) rows; set when
  // the scenario has jobs.
  std::string jobs_sql;
  SourceLocation jobs_location;
};

struct Expectation {
  bool pass = true;
  std::vector<std::string> fail_checks;  // when !pass: each must fail
  // When pass, from `expect: {pass: [checks]}`: the checks that must pass;
  // the others are measured, not judged. Empty: every check must pass.
  std::vector<std::string> pass_checks;
  SourceLocation location;  // of expect's value, for messages

  // Whether a failure of `check` goes against this expectation.
  bool MustPass(const std::string& check) const;
};

// A check name as written in audit.checks, expect.fail or expect.pass. The
// checks are known above the parser, in check/ (which reads the Scenario):
// the parser records each name with its place, and ValidateCheckNames()
// (check/check_names.h) rejects those it does not know.
struct WrittenCheckName {
  std::string name;
  std::string list;  // "audit.checks", "expect.fail" or "expect.pass"
  SourceLocation location;
};

// The bounds of `lastcall explore` (the `explore:` section): each run draws
// a variation of the scenario within them (variation.h). `lastcall run`
// ignores them and runs the scenario's own faults. Absent keys get defaults
// from the rest of the scenario, filled in by the parser.
struct ExploreSpec {
  // Inclusive; nanoseconds for durations.
  struct Range {
    int64_t min = 0, max = 0;
  };
  // A trigger kind a fault may draw (kAt, kInFlight, kCompleted,
  // kDbTransactionsOpen), with the range of its value.
  struct TriggerRange {
    Trigger::Kind kind = Trigger::Kind::kAt;
    Range range;
  };
  std::vector<int> signals;            // default TERM, INT, KILL
  std::vector<TriggerRange> triggers;  // default `at` over 10-80 % of the load
  Range grace;                         // default: the first fault's grace
  Range faults{1, 1};                  // signals per run
  std::vector<bool> restart{false};    // after each signal, a new instance?
  Range clients;                       // default: load.clients
};

struct Scenario {
  std::string file;  // absolute path of the YAML file
  std::string dir;   // its folder
  std::string name;  // defaults to the file name without .yaml
  std::string description;
  uint64_t seed = 0;
  DatabaseSpec database;
  TargetSpec target;
  LoadSpec load;
  std::vector<Fault> faults;
  LoadBalancerSpec load_balancer;
  JobsSpec jobs;
  // `redis.url` (a template): an existing Redis instead of the embedded one.
  std::string redis_url;
  // Whether the run needs Redis: it has jobs, or ${redis_url} appears in the
  // target's command or environment.
  bool uses_redis = false;
  AuditSpec audit;
  Expectation expect;
  // Every check name of audit.checks and expect, in file order.
  std::vector<WrittenCheckName> written_check_names;
  // `control`: run the scenario once without its faults first; a check it
  // fails there makes the verdict "invalid" (docs/control-run.md).
  bool control = false;
  // Set for a control run (control.h), never by a file: before lastcall's
  // teardown stops the target, wait at most this long for it to be at rest.
  Duration rest_before_teardown{0};
  ExploreSpec explore;
  // This scenario's combination of its file's matrix, each name
  // with its value; empty when the file has no matrix. `name` then ends in
  // "/" and the combination's label: "compare-timeouts/grace=1s,drain=10s".
  std::vector<std::pair<std::string, std::string>> matrix;
};

// The keys each mapping of the scenario file accepts, by its path: "" for
// the top level, "target.ready", "faults[]" for each item of a list. The
// JSON Schema (schema/scenario.schema.json) must say the same; its test
// compares them.
struct SectionKeys {
  std::string path;
  std::vector<std::string> known;
  // Part of the format but not built yet: rejected as "not supported yet".
  std::vector<std::string> unsupported;
};
const std::vector<SectionKeys>& ScenarioSections();

// Parses and validates the scenario file at `path`, after applying
// `overrides` to it in order (`--set KEY=VALUE`, see matrix.h). On success
// returns true and sets *scenarios to one scenario per combination of the
// file's matrix, the first name varying slowest, or to the file's one
// scenario. On failure returns false and sets *error to
// "file:line:column: message" (with a "did you mean" for misspelt keys);
// *scenarios is then unspecified.
bool LoadScenario(const std::string& path, const std::vector<std::string>& overrides,
                  std::vector<Scenario>* scenarios, std::string* error);

// LoadScenario() on text already read: `file_path` is used in messages as
// given, and to resolve relative paths and the default name.
bool ParseScenarioText(const std::string& yaml_text, const std::string& file_path,
                       const std::vector<std::string>& overrides, std::vector<Scenario>* scenarios,
                       std::string* error);

// ParseScenarioText() for text that describes one scenario, with no
// overrides: a matrix of more than one combination is an error. For tests,
// and for scenarios that do not come from a file of their own.
bool ParseScenarioText(const std::string& yaml_text, const std::string& file_path,
                       Scenario* scenario, std::string* error);

// The text of scenario file `file_path` with `overrides` (--set KEY=VALUE)
// applied, written out again by yaml-cpp; `yaml_text` itself when there are
// none (comments and all). For explore, which writes every variation from
// it, so that a repro file holds the overridden values. Returns false and
// sets *error as LoadScenario() does when the text or an override does not
// apply.
bool OverriddenScenarioText(const std::string& yaml_text, const std::string& file_path,
                            const std::vector<std::string>& overrides, std::string* out,
                            std::string* error);

// Parses a duration: a non-negative decimal number and a unit, one of ms, s,
// m ("250ms", "2s", "1.5s", "1m"). Returns nullopt on anything else.
std::optional<Duration> ParseDuration(const std::string& text);
// The text ParseDuration() reads back as exactly `duration`: whole seconds
// as "2s", anything else in milliseconds ("250ms", "1.5ms").
std::string DurationText(Duration duration);

}  // namespace lastcall

#endif  // LASTCALL_SCENARIO_H_
