// Background job workers: a pool of threads consuming jobs from a Redis list
// with the reliable-queue pattern. A worker atomically moves a job from the
// queue to the processing list (BLMOVE), applies it in PostgreSQL in one
// transaction that also records it as done (so a re-run is a no-op), then
// acknowledges it (LREM from the processing list). On shutdown workers take
// no new job, finish the ones they hold within the drain timeout, and return
// the unfinished ones to the queue.
#ifndef PAYMENT_SERVER_JOB_WORKER_H_
#define PAYMENT_SERVER_JOB_WORKER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config.h"

class JobWorkers {
 public:
  // Opens each worker's connections (PostgreSQL, then Redis), moves the
  // jobs an earlier instance left in the processing list back to the queue
  // (it is gone: nobody else can hold them), and starts the workers. Throws
  // std::runtime_error or pqxx::broken_connection when a connection fails.
  explicit JobWorkers(const Config& config);
  // finish() with a deadline of now, if it was not called.
  ~JobWorkers();
  JobWorkers(const JobWorkers&) = delete;
  JobWorkers& operator=(const JobWorkers&) = delete;

  // From now on no worker takes a new job; each finishes the one it holds.
  void stop_taking_jobs();

  // Waits for the workers to end: a job not done by `deadline` is rolled
  // back and returned to the queue. Then closes every worker's connections,
  // Redis before PostgreSQL (the reverse of their opening). Returns a line
  // for the log: jobs done, the rate, jobs returned. Idempotent.
  std::string finish(std::chrono::steady_clock::time_point deadline);

 private:
  struct Worker;
  enum class Outcome { kDone, kReturn, kAbandon };

  void run(Worker* worker);
  Outcome apply(Worker* worker, const std::string& job);
  // Simulated work of `length`. False when it must be given up: the
  // deadline passed, or (bug worker-drop) the shutdown began.
  bool work_for(std::chrono::milliseconds length);
  bool stopping() const;

  const Config config_;
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex mutex_;  // guards stopping_ and deadline_
  std::condition_variable changed_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  bool finished_ = false;
  std::atomic<long> done_{0}, returned_{0}, abandoned_{0};
  std::atomic<long long> first_claim_ns_{0}, last_done_ns_{0};
  std::vector<std::thread> threads_;  // last: they use everything above
};

#endif  // PAYMENT_SERVER_JOB_WORKER_H_
