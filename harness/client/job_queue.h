// The harness's side of background jobs (scenario key `jobs`): the
// generator that enqueues jobs on a Redis list while the load runs, and the
// look at the queue and processing lists once the target is gone.
#ifndef LASTCALL_JOB_QUEUE_H_
#define LASTCALL_JOB_QUEUE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "process/redis.h"
#include "scenario/scenario.h"

namespace lastcall {

// "job-<seed>-<n>": unique in the run, and telling which run made it.
std::string JobId(uint64_t seed, int64_t n);

// What the Redis lists held after the run.
struct JobLists {
  std::vector<std::string> queue;       // jobs never taken, or returned
  std::vector<std::string> processing;  // jobs a worker took and never acknowledged
};

// Enqueues the scenario's jobs on its own thread: at `rate` per second from
// Start(), LPUSHing every job that is due in one command, until `enqueue`
// jobs or Stop().
class JobGenerator {
 public:
  // Connects to Redis at `url` and deletes the scenario's queue and
  // processing lists, so that the run starts from empty lists (on an
  // existing server too). Returns nullptr and sets *error on failure.
  static std::unique_ptr<JobGenerator> Create(const std::string& url, const JobsSpec& spec,
                                              uint64_t seed, std::string* error);
  // Stop().
  ~JobGenerator();

  // Starts enqueuing; the first job is due at `start`.
  void Start(std::chrono::steady_clock::time_point start);
  // Stops enqueuing and waits for the thread. Idempotent.
  void Stop();

  // Jobs Redis has acknowledged, "job-<seed>-0" to "job-<seed>-(n-1)".
  int64_t enqueued() const { return enqueued_; }
  // Why enqueuing stopped early ("" if it did not). Call after Stop().
  const std::string& error() const { return error_; }

  // Reads the queue and processing lists. Call after Stop(). Returns false
  // and sets *error when Redis cannot be read.
  bool ReadLists(JobLists* out, std::string* error);

 private:
  JobGenerator(std::unique_ptr<RedisClient> client, const JobsSpec& spec, uint64_t seed)
      : client_(std::move(client)), spec_(spec), seed_(seed) {}
  void Run(std::chrono::steady_clock::time_point start);

  std::unique_ptr<RedisClient> client_;  // the thread's while it runs
  const JobsSpec spec_;
  const uint64_t seed_;
  std::atomic<int64_t> enqueued_{0};
  std::string error_;
  Mutex mutex_;
  CondVar stop_requested_{&mutex_};
  bool stopping_ GUARDED_BY(mutex_) = false;
  std::thread thread_;  // last: it uses everything above
};

}  // namespace lastcall

#endif  // LASTCALL_JOB_QUEUE_H_
