// payment-server: the reference target of lastcall.
//
// A small payment service (cpp-httplib + libpqxx) with a correct graceful
// shutdown, and a catalogue of realistic shutdown bugs behind --bug NAME
// for the harness to catch. The shutdown sequence is in shut_down(); each
// bug is a few lines on the path it breaks, under a comment "bug <name>:"
// that says why the mistake looks reasonable to whoever makes it.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "children.h"
#include "config.h"
#include "db_pool.h"
#include "http_server.h"
#include "job_worker.h"
#include "log.h"
#include "payments.h"
#include "status.h"
#include "websocket.h"

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kHost[] = "127.0.0.1";
constexpr milliseconds kStatusPeriod{1000};
// bug slow-drain: a fixed wait for things to settle, longer than the grace
// period of most process managers.
constexpr std::chrono::seconds kSettleTime{45};

const char kUsage[] =
    "usage: payment-server --port N [--ws-port N] [--bug NAME]\n"
    "  env: DATABASE_URL (required), DRAIN_TIMEOUT (10s),\n"
    "       PAYMENT_LATENCY (0), SHUTDOWN_DELAY (0), DB_POOL_SIZE (8),\n"
    "       PORT (if no --port), TMPDIR\n"
    "  job workers: --redis URL [--workers N (4)];\n"
    "       env JOB_QUEUE (jobs), JOB_PROCESSING (jobs:processing), JOB_LATENCY (20ms)";

std::string signal_name(int signal) {
  switch (signal) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return "signal " + std::to_string(signal);
  }
}

long long ms_since(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
}

// The signals that start the graceful shutdown. They are blocked in every
// thread (the mask is set before any thread starts, and threads inherit it)
// and taken by sigwait() in main, so no work runs in a signal handler.
sigset_t shutdown_signals(Bug bug) {
  sigset_t signals;
  sigemptyset(&signals);
  // bug no-handler, ignore-signal: "the platform stops us with SIGKILL".
  if (bug == Bug::kNoHandler || bug == Bug::kIgnoreSignal) return signals;
  sigaddset(&signals, SIGTERM);
  // bug sigint-unhandled: "SIGINT is only for Ctrl-C in a terminal".
  if (bug != Bug::kSigintUnhandled) sigaddset(&signals, SIGINT);
  return signals;
}

// bug ignore-signal: a handler whose shutdown code was to come "later". Any
// handler replaces the default action, so the signal no longer ends us.
void log_signal(int) {
  const char message[] = "received shutdown signal\n";
  ssize_t ignored = ::write(STDERR_FILENO, message, sizeof(message) - 1);
  (void)ignored;
}

int wait_for_signal(const sigset_t& signals) {
  int signal = 0;
  while (sigwait(&signals, &signal) != 0) {
  }
  return signal;
}

// Drops "--bug NAME", so the wrapped server runs without it.
std::vector<std::string> without_bug(std::vector<std::string> args) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--bug") {
      args.erase(args.begin() + i, args.begin() + i + 2);
      break;
    }
  }
  return args;
}

// Whether /readyz says 200: false from the shutdown signal on, so that a
// load balancer's health checks take us out of rotation.
std::atomic<bool> g_ready{true};

void add_routes(DrainingServer& server, PaymentService& payments, WebSocketHub& feed) {
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  server.Get("/readyz", [](const httplib::Request&, httplib::Response& res) {
    if (!g_ready) res.status = 503;
    res.set_content(g_ready ? "ok" : "draining", "text/plain");
  });
  server.Post("/payments", [&payments, &feed](const httplib::Request& req, httplib::Response& res) {
    Payment payment;
    std::optional<Reply> invalid =
        parse_payment(req.get_header_value("Idempotency-Key"), req.body, &payment);
    Reply reply = invalid ? *invalid : payments.pay(payment);
    res.status = reply.status;
    if (reply.replayed) res.set_header("Idempotent-Replayed", "true");
    if (reply.status == 503) res.set_header("Retry-After", "1");
    res.set_content(reply.body, "application/json");
    if (reply.status == 201 && !reply.replayed) feed.broadcast(reply.body);
  });
}

std::string describe(const DrainingServer& server) {
  return "pid " + std::to_string(::getpid()) + "\nstate " +
         (server.draining() ? "draining" : "serving") + "\nrequests_in_flight " +
         std::to_string(server.requests_in_flight()) + "\nrequests_served " +
         std::to_string(server.requests_served()) + "\n";
}

// Tells every WebSocket client that we are going away (close frame 1001)
// and waits for their close frames until `deadline`.
void close_feed(WebSocketHub& feed, steady_clock::time_point deadline, Bug bug) {
  // bug ws-no-close: "the process is exiting, the sockets close anyway"
  // (with a bare FIN as the feed is destroyed, which tells a client nothing
  // about why).
  if (bug == Bug::kWsNoClose || !feed.started()) return;
  int open = feed.close_all(deadline);
  log_line("closed " + std::to_string(open) + " websockets (1001 going away)");
}

// Ends the process while request threads may still be running, which rules
// out joining or destroying the server: releases what can be released and
// exits. Transactions still open roll back as their connections close.
[[noreturn]] void exit_leaving_requests(int code, const Config& config, StatusReporter& reporter,
                                        WebSocketHub& feed, DbPool& pool, StatusFile& status_file) {
  reporter.stop();
  close_feed(feed, steady_clock::now(), config.bug);  // no time left to wait
  pool.close();
  status_file.remove();
  log_line("exit " + std::to_string(code));
  std::_Exit(code);
}

// The graceful shutdown. Returns the exit code.
int shut_down(int signal, const Config& config, DrainingServer& server, StatusReporter& reporter,
              WebSocketHub& feed, DbPool& pool, StatusFile& status_file, JobWorkers* workers) {
  steady_clock::time_point start = steady_clock::now();
  log_line("received " + signal_name(signal) + ", draining " +
           std::to_string(server.requests_in_flight()) + " in-flight requests");
  // bug no-drain: "the load balancer retries whatever we drop".
  if (config.bug == Bug::kNoDrain) std::exit(0);
  // bug ready-stays-up: "the listener closes on SIGTERM, so the health
  // checks fail anyway" (only after the delay, and only `fall` checks later).
  if (config.bug != Bug::kReadyStaysUp) g_ready = false;
  if (config.shutdown_delay.count() > 0) {
    // Still serving, already unready: the load balancer's health checks
    // (or the deregistration a preStop hook waits for) take us out first.
    log_line("not ready; serving " + std::to_string(config.shutdown_delay.count()) +
             " ms more before draining");
    std::this_thread::sleep_for(config.shutdown_delay);
  }
  if (config.bug == Bug::kCloseDbFirst) {
    // bug close-db-first: "no new payment may start once we are going away".
    log_line("closed database pool (" + std::to_string(pool.close()) + " connections)");
  }

  // 1. Flip readiness, refuse new connections, close the idle ones; job
  // workers take no new job.
  server.begin_drain();
  if (workers) workers->stop_taking_jobs();
  if (config.bug == Bug::kAbandonTransaction) {
    // bug abandon-transaction: "the listener is closed, nothing new can
    // arrive: we are done" (the requests already inside are not).
    exit_leaving_requests(0, config, reporter, feed, pool, status_file);
  }
  if (config.bug == Bug::kSlowDrain) {
    // bug slow-drain: "give in-flight requests and load balancers time to
    // settle", a fixed sleep that ignores DRAIN_TIMEOUT.
    std::this_thread::sleep_for(kSettleTime);
  }

  // 2. Let in-flight requests and claimed jobs finish, within DRAIN_TIMEOUT;
  // a job not done by then goes back to the queue.
  const bool drained = server.wait_drained(start + config.drain_timeout);
  if (workers) log_line(workers->finish(start + config.drain_timeout));
  if (!drained) {
    log_line("drain timeout (" + std::to_string(config.drain_timeout.count()) +
             " ms) exceeded with " + std::to_string(server.requests_in_flight()) +
             " requests in flight; abandoning them");
    exit_leaving_requests(1, config, reporter, feed, pool, status_file);
  }
  log_line("drained in " + std::to_string(ms_since(start)) + " ms");

  // 3. Stop background work, then release the rest in reverse order of
  // acquisition: HTTP server, WebSocket feed (after the drain, so that its
  // clients hear of every payment applied), database pool, status file.
  reporter.stop();
  server.join();
  close_feed(feed, start + config.drain_timeout, config.bug);
  if (config.bug == Bug::kNoDbClose) {
    // bug no-db-close: "the process is ending anyway, skip the slow
    // destructors" (the pool's Terminate messages among them).
    status_file.remove();
    std::_Exit(0);
  }
  log_line("closed database pool (" + std::to_string(pool.close()) + " connections)");
  status_file.remove();
  log_line("shutdown complete in " + std::to_string(ms_since(start)) + " ms");
  return 0;
}

int serve(const Config& config, const sigset_t& signals) {
  // Acquired in this order; shut_down() releases them in reverse.
  StatusFile status_file(config.tmpdir);
  DbPool pool(config.database_url, config.db_pool_size);
  PaymentService payments(&pool, config.payment_latency, config.tmpdir, config.bug);
  std::unique_ptr<JobWorkers> workers;
  if (!config.redis_url.empty()) workers = std::make_unique<JobWorkers>(config);
  // Before the HTTP server: once /healthz answers, /ws is listening too.
  WebSocketHub feed;
  std::string feed_error;
  if (config.ws_port && !feed.start(kHost, config.ws_port, &feed_error)) {
    log_line("cannot listen on " + std::string(kHost) + ":" + std::to_string(config.ws_port) +
             ": " + feed_error);
    return 1;
  }
  DrainingServer server(config.bug != Bug::kKeepAliveDrain);
  add_routes(server, payments, feed);
  if (!server.start(kHost, config.port)) {
    log_line("cannot listen on " + std::string(kHost) + ":" + std::to_string(config.port));
    return 1;
  }
  StatusReporter reporter(
      &status_file, [&server] { return describe(server); }, kStatusPeriod);
  // bug orphan-worker: started here and never stopped.
  if (config.bug == Bug::kOrphanWorker) start_reconciler();
  log_line("listening on " + std::string(kHost) + ":" + std::to_string(config.port));

  if (sigisemptyset(&signals)) {
    server.join();  // Serves until killed.
    return 0;
  }
  int signal = wait_for_signal(signals);
  return shut_down(signal, config, server, reporter, feed, pool, status_file, workers.get());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Config config;
  std::string error;
  if (!parse_config(args, &config, &error)) {
    log_line("payment-server: " + error + "\n" + kUsage);
    return 2;
  }
  if (config.reconciler) return run_reconciler(config);
  if (config.bug == Bug::kWrapperNoForward) {
    // bug wrapper-no-forward: a start script that runs the server as its
    // child instead of exec'ing it, and forwards no signal.
    exec_through_shell(without_bug(args));
    return 1;
  }

  sigset_t signals = shutdown_signals(config.bug);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A signal ignored since exec (a shell's background job ignores SIGINT) is
  // discarded instead of left pending, and sigwait() would never see it.
  // Restore the default action; it never runs, the signals are blocked.
  for (int signal : {SIGTERM, SIGINT}) {
    if (sigismember(&signals, signal)) ::signal(signal, SIG_DFL);
  }
  if (config.bug == Bug::kIgnoreSignal) {
    ::signal(SIGTERM, log_signal);
    ::signal(SIGINT, log_signal);
  }

  try {
    return serve(config, signals);
  } catch (const std::exception& e) {
    log_line(std::string("payment-server: ") + e.what());
    return 1;
  }
}
