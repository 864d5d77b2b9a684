// Command line and environment of the payment server.
#ifndef PAYMENT_SERVER_CONFIG_H_
#define PAYMENT_SERVER_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

// The catalogue of shutdown bugs the harness must catch; kNone is the
// correct server. Each is named on the command line as in the spec.
enum class Bug {
  kNone,
  kNoIdempotency,
  kRespondBeforeCommit,
  kIgnoreSignal,
  kNoDrain,
  kNoHandler,
  kSigintUnhandled,
  kCloseDbFirst,
  kNoDbClose,
  kAbandonTransaction,
  kSlowDrain,
  kLeakTempfiles,
  kOrphanWorker,
  kWrapperNoForward,
  kWorkerDrop,
  kWorkerNoAckIdempotency,
  kWsNoClose,
  kReadyStaysUp,
  kKeepAliveDrain,
};

struct Config {
  int port = 0;
  int ws_port = 0;  // GET /ws listens here; 0: no WebSocket feed
  Bug bug = Bug::kNone;
  // Internal: run as the background reconciler child (bug orphan-worker).
  bool reconciler = false;

  std::string database_url;
  std::chrono::milliseconds drain_timeout{10000};
  std::chrono::milliseconds payment_latency{0};
  // Between the signal and the drain: readiness already says 503, new
  // connections are still served, so a load balancer can take us out.
  std::chrono::milliseconds shutdown_delay{0};
  std::size_t db_pool_size = 8;
  std::string tmpdir = "/tmp";

  // Background job workers (job_worker.h), on when redis_url is set.
  std::string redis_url;                           // --redis URL
  int workers = 4;                                 // --workers N
  std::string job_queue = "jobs";                  // JOB_QUEUE
  std::string job_processing = "jobs:processing";  // JOB_PROCESSING
  std::chrono::milliseconds job_latency{20};       // JOB_LATENCY: work per job
};

// Reads argv and the environment. On a usage error, returns false with a
// message in *error.
bool parse_config(const std::vector<std::string>& args, Config* config, std::string* error);

// "10s", "500ms", "1.5s", "2m"; a bare "0" too. False if malformed.
bool parse_duration(const std::string& text, std::chrono::milliseconds* out);

#endif  // PAYMENT_SERVER_CONFIG_H_
