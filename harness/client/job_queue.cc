#include "client/job_queue.h"

#include <algorithm>

namespace lastcall {

namespace {

using Clock = std::chrono::steady_clock;

// At most this many jobs in one LPUSH: a late thread catches up in a few
// commands, not one huge one.
constexpr int64_t kMaxBatch = 1000;
// The thread wakes at least this often, however low the rate.
constexpr auto kMaxSleep = std::chrono::milliseconds(50);

}  // namespace

std::string JobId(uint64_t seed, int64_t n) {
  return "job-" + std::to_string(seed) + "-" + std::to_string(n);
}

std::unique_ptr<JobGenerator> JobGenerator::Create(const std::string& url, const JobsSpec& spec,
                                                   uint64_t seed, std::string* error) {
  std::unique_ptr<RedisClient> client = RedisClient::Connect(url, error);
  if (!client || !client->Command({"DEL", spec.queue, spec.processing}, nullptr, error))
    return nullptr;
  return std::unique_ptr<JobGenerator>(new JobGenerator(std::move(client), spec, seed));
}

JobGenerator::~JobGenerator() { Stop(); }

void JobGenerator::Start(Clock::time_point start) {
  thread_ = std::thread(&JobGenerator::Run, this, start);
}

void JobGenerator::Stop() {
  {
    MutexLock lock(&mutex_);
    stopping_ = true;
  }
  stop_requested_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

void JobGenerator::Run(Clock::time_point start) {
  const double per_job_ns = 1e9 / static_cast<double>(spec_.rate);
  MutexLock lock(&mutex_);
  while (!stopping_ && enqueued_ < spec_.enqueue) {
    // Jobs due by now: the one at `start`, then one every 1/rate.
    const double elapsed_ns = static_cast<double>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
    const int64_t due = std::min<int64_t>(
        spec_.enqueue, elapsed_ns < 0 ? 0 : static_cast<int64_t>(elapsed_ns / per_job_ns) + 1);
    if (due > enqueued_) {
      mutex_.Unlock();  // Redis's answer may take a while; Stop() must not wait for it
      std::vector<std::string> push = {"LPUSH", spec_.queue};
      for (int64_t n = enqueued_; n < std::min(due, enqueued_ + kMaxBatch); ++n)
        push.push_back(JobId(seed_, n));
      const bool pushed = client_->Command(push, nullptr, &error_);
      mutex_.Lock();
      if (!pushed) return;
      enqueued_ += static_cast<int64_t>(push.size() - 2);
      continue;
    }
    const auto next =
        start +
        std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(enqueued_) * per_job_ns));
    stop_requested_.WaitUntil(std::min(next, Clock::now() + kMaxSleep));
  }
}

bool JobGenerator::ReadLists(JobLists* out, std::string* error) {
  return client_->Command({"LRANGE", spec_.queue, "0", "-1"}, &out->queue, error) &&
         client_->Command({"LRANGE", spec_.processing, "0", "-1"}, &out->processing, error);
}

}  // namespace lastcall
