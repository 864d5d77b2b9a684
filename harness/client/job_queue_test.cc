// The job generator against a real (embedded) Redis.
#include "client/job_queue.h"

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include "base/temp_dir.h"
#include "base/wait_until.h"

namespace lastcall {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct RedisFixture {
  TempDir dir;
  // As root the server runs as another user, who must reach its folder.
  int reachable = ::chmod(dir.path.c_str(), 0711);
  std::string error;
  std::unique_ptr<EmbeddedRedis> redis =
      EmbeddedRedis::Start((dir.path / "redis").string(), &error);
  std::unique_ptr<RedisClient> client =
      redis ? RedisClient::Connect(redis->url(), &error) : nullptr;
  JobsSpec spec;
  RedisFixture() {
    INFO(error);
    REQUIRE(client != nullptr);
    spec.enabled = true;
  }
};

TEST_CASE("JobGenerator enqueues every job once and empties stale lists first") {
  RedisFixture f;
  REQUIRE(f.client->Command({"RPUSH", "jobs:processing", "stale"}, nullptr, &f.error));
  f.spec.enqueue = 300;
  f.spec.rate = 100000;
  std::unique_ptr<JobGenerator> jobs = JobGenerator::Create(f.redis->url(), f.spec, 7, &f.error);
  REQUIRE(jobs != nullptr);
  jobs->Start(Clock::now());
  CHECK(WaitUntil([&] { return jobs->enqueued() == 300; }));
  jobs->Stop();
  CHECK(jobs->error().empty());
  JobLists lists;
  REQUIRE(jobs->ReadLists(&lists, &f.error));
  CHECK(lists.processing.empty());
  REQUIRE(lists.queue.size() == 300);
  // LPUSH: the oldest job at the right end, where workers take from.
  CHECK(lists.queue.back() == "job-7-0");
  CHECK(lists.queue.front() == "job-7-299");
}

TEST_CASE("JobGenerator keeps to its rate and stops when told") {
  RedisFixture f;
  f.spec.enqueue = 1000;
  f.spec.rate = 100;  // 10 s for all of them
  std::unique_ptr<JobGenerator> jobs = JobGenerator::Create(f.redis->url(), f.spec, 1, &f.error);
  REQUIRE(jobs != nullptr);
  const Clock::time_point start = Clock::now();
  jobs->Start(start);
  REQUIRE(WaitUntil([&] { return jobs->enqueued() >= 20; }));
  jobs->Stop();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // Job n is due at n / rate: never ahead of time.
  CHECK(jobs->enqueued() <= static_cast<int64_t>(seconds * 100) + 1);
  CHECK(seconds >= 0.19);
  JobLists lists;
  REQUIRE(jobs->ReadLists(&lists, &f.error));
  CHECK(static_cast<int64_t>(lists.queue.size()) == jobs->enqueued());
}

}  // namespace
}  // namespace lastcall
