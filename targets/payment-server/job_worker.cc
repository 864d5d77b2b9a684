#include "job_worker.h"

#include <cstdlib>
#include <stdexcept>

#include <hiredis/hiredis.h>
#include <pqxx/pqxx>

#include "log.h"

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// How long BLMOVE waits for a job: how soon a worker notices the shutdown.
constexpr char kClaimWait[] = "0.1";
constexpr timeval kRedisTimeout{5, 0};

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             steady_clock::now().time_since_epoch())
      .count();
}

// Frees a hiredis reply.
struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

// Connects to redis://[[user]:password@]host[:port][/db] or
// unix:///path[?db=N], then AUTH and SELECT as the URL says.
redisContext* connect_redis(const std::string& url) {
  redisContext* context = nullptr;
  std::string rest, password, user, db;
  if (url.rfind("unix://", 0) == 0) {
    rest = url.substr(7);
    size_t query = rest.find("?db=");
    if (query != std::string::npos) db = rest.substr(query + 4);
    context = redisConnectUnixWithTimeout(rest.substr(0, query).c_str(), kRedisTimeout);
  } else if (url.rfind("redis://", 0) == 0) {
    rest = url.substr(8);
    size_t at = rest.rfind('@');
    if (at != std::string::npos) {
      std::string credentials = rest.substr(0, at);
      size_t colon = credentials.find(':');
      user = credentials.substr(0, colon);
      if (colon != std::string::npos) password = credentials.substr(colon + 1);
      rest = rest.substr(at + 1);
    }
    size_t slash = rest.find('/');
    if (slash != std::string::npos) db = rest.substr(slash + 1);
    std::string host = rest.substr(0, slash);
    size_t colon = host.rfind(':');
    int port = colon == std::string::npos ? 6379 : std::atoi(host.c_str() + colon + 1);
    context = redisConnectWithTimeout(host.substr(0, colon).c_str(), port, kRedisTimeout);
  } else {
    throw std::runtime_error("--redis must be a redis:// or unix:// URL");
  }
  if (context == nullptr || context->err) {
    std::string why = context ? context->errstr : "out of memory";
    redisFree(context);
    throw std::runtime_error("cannot connect to Redis: " + why);
  }
  redisSetTimeout(context, kRedisTimeout);
  Reply auth(static_cast<redisReply*>(
      password.empty() ? nullptr
      : user.empty()   ? redisCommand(context, "AUTH %s", password.c_str())
                       : redisCommand(context, "AUTH %s %s", user.c_str(), password.c_str())));
  Reply select(static_cast<redisReply*>(
      db.empty() ? nullptr : redisCommand(context, "SELECT %s", db.c_str())));
  if ((auth && auth->type == REDIS_REPLY_ERROR) || (select && select->type == REDIS_REPLY_ERROR)) {
    redisFree(context);
    throw std::runtime_error("Redis refused AUTH or SELECT");
  }
  return context;
}

// Runs a command; throws when the connection breaks or Redis answers an error.
Reply command(redisContext* redis, const char* format, const std::string& a,
              const std::string& b = "") {
  Reply reply(static_cast<redisReply*>(
      redisCommand(redis, format, a.data(), a.size(), b.data(), b.size())));
  if (!reply) throw std::runtime_error(std::string("Redis: ") + redis->errstr);
  if (reply->type == REDIS_REPLY_ERROR)
    throw std::runtime_error("Redis: " + std::string(reply->str, reply->len));
  return reply;
}

}  // namespace

// One worker's connections, opened by the constructor and closed by
// finish(): Redis first, then PostgreSQL, the reverse of their opening.
struct JobWorkers::Worker {
  int id = 0;
  std::unique_ptr<pqxx::connection> db;
  redisContext* redis = nullptr;
  void close() {
    redisFree(redis);
    redis = nullptr;
    if (db) db->disconnect();
    db.reset();
  }
};

JobWorkers::JobWorkers(const Config& config) : config_(config) {
  try {
    for (int i = 1; i <= config.workers; ++i) {
      auto worker = std::make_unique<Worker>();
      worker->id = i;
      worker->db = std::make_unique<pqxx::connection>(config.database_url);
      worker->redis = connect_redis(config.redis_url);
      workers_.push_back(std::move(worker));
    }
    // The previous instance is gone (SIGKILLed, crashed): what it held in
    // the processing list goes back to the front of the queue.
    long requeued = 0;
    while (command(workers_.front()->redis, "LMOVE %b %b RIGHT RIGHT", config.job_processing,
                   config.job_queue)
               ->type == REDIS_REPLY_STRING)
      ++requeued;
    if (requeued > 0)
      log_line("requeued " + std::to_string(requeued) + " jobs left in " + config.job_processing);
  } catch (...) {
    for (auto it = workers_.rbegin(); it != workers_.rend(); ++it) (*it)->close();
    throw;
  }
  for (const auto& worker : workers_) threads_.emplace_back(&JobWorkers::run, this, worker.get());
  log_line(std::to_string(config.workers) + " job workers on " + config.job_queue);
}

JobWorkers::~JobWorkers() { finish(steady_clock::now()); }

void JobWorkers::stop_taking_jobs() {
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_ = true;
  changed_.notify_all();
}

bool JobWorkers::stopping() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

std::string JobWorkers::finish(steady_clock::time_point deadline) {
  if (finished_) return "";
  finished_ = true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    deadline_ = deadline;
    changed_.notify_all();
  }
  for (std::thread& thread : threads_) thread.join();
  for (auto it = workers_.rbegin(); it != workers_.rend(); ++it) (*it)->close();
  const double seconds = (last_done_ns_ - first_claim_ns_) / 1e9;
  std::string rate = seconds > 0 ? std::to_string(static_cast<long>(done_ / seconds)) : "-";
  return "job workers: " + std::to_string(done_) + " jobs done (" + rate + " jobs/s), " +
         std::to_string(returned_) + " returned to the queue, " + std::to_string(abandoned_) +
         " abandoned; connections closed";
}

bool JobWorkers::work_for(milliseconds length) {
  const steady_clock::time_point until = steady_clock::now() + length;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    // bug worker-drop: "we are shutting down, the job can wait": the worker
    // walks away from the job it holds, neither finishing nor returning it.
    if (config_.bug == Bug::kWorkerDrop && stopping_) return false;
    const steady_clock::time_point now = steady_clock::now();
    if (now >= deadline_) return false;
    if (now >= until) return true;
    changed_.wait_until(lock, std::min(until, deadline_));
  }
}

JobWorkers::Outcome JobWorkers::apply(Worker* worker, const std::string& job) {
  pqxx::work tx(*worker->db);
  if (config_.bug == Bug::kWorkerNoAckIdempotency) {
    // bug worker-no-ack-idempotency: "a job runs once, the queue guarantees
    // it": the effect is committed without a record of the job, and the
    // acknowledgement waits for the follow-up work (a notification).
    tx.exec_params("INSERT INTO job_effects (job_id) VALUES ($1)", job);
    tx.commit();
    work_for(config_.job_latency);
    return Outcome::kDone;
  }
  // First to record the job as done does it; a re-run (after a crash
  // between COMMIT and the acknowledgement) finds it and only acknowledges.
  pqxx::result claimed =
      tx.exec_params("INSERT INTO jobs_done (job_id) VALUES ($1) ON CONFLICT DO NOTHING", job);
  if (claimed.affected_rows() == 1) {
    if (!work_for(config_.job_latency))
      return config_.bug == Bug::kWorkerDrop ? Outcome::kAbandon : Outcome::kReturn;
    tx.exec_params("INSERT INTO job_effects (job_id) VALUES ($1)", job);
  }
  tx.commit();
  return Outcome::kDone;
}

void JobWorkers::run(Worker* worker) {
  try {
    while (!stopping()) {
      Reply claimed =
          command(worker->redis, ("BLMOVE %b %b RIGHT LEFT " + std::string(kClaimWait)).c_str(),
                  config_.job_queue, config_.job_processing);
      if (claimed->type != REDIS_REPLY_STRING) continue;  // nil: nothing within the wait
      const std::string job(claimed->str, claimed->len);
      long long zero = 0;
      first_claim_ns_.compare_exchange_strong(zero, now_ns());
      Outcome outcome = Outcome::kReturn;
      try {
        outcome = apply(worker, job);
      } catch (const std::exception& e) {
        log_line("job worker " + std::to_string(worker->id) + ": " + job + ": " + e.what());
      }
      if (outcome == Outcome::kAbandon) {
        ++abandoned_;
        return;
      }
      if (outcome == Outcome::kDone) {
        command(worker->redis, "LREM %b 1 %b", config_.job_processing, job);
        ++done_;
        last_done_ns_ = now_ns();
        continue;
      }
      // Unfinished: back to the front of the queue, atomically.
      command(worker->redis, "MULTI", "");
      command(worker->redis, "LREM %b 1 %b", config_.job_processing, job);
      command(worker->redis, "RPUSH %b %b", config_.job_queue, job);
      command(worker->redis, "EXEC", "");
      ++returned_;
    }
  } catch (const std::exception& e) {
    log_line("job worker " + std::to_string(worker->id) + " stopped: " + e.what());
  }
}
