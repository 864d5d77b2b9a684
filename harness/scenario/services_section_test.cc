#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "scenario/scenario.h"
#include "scenario/scenario_test_support.h"

namespace lastcall {
namespace {

TEST_CASE("database", "[scenario]") {
  Scenario s = Parse(
      "database:\n"
      "  url: postgresql://lastcall@127.0.0.1:${port}/db\n"
      "  setup: INSERT INTO t VALUES (1)\n");
  CHECK_FALSE(s.database.embedded);
  CHECK(s.database.url == "postgresql://lastcall@127.0.0.1:${port}/db");
  CHECK(s.database.setup_sql == "INSERT INTO t VALUES (1)");
  CHECK_FALSE(Parse("database: {embedded: false, url: x}\n").database.embedded);

  CHECK(Error("database: postgres\n") == "s.yaml:1:11: database must be a map, got \"postgres\"");
  CHECK(Error("database:\n"
              "  embedded: maybe\n") ==
        "s.yaml:2:13: database.embedded must be true or false, got \"maybe\"");
  CHECK(Error("database:\n"
              "  embedded: true\n"
              "  url: postgresql://db\n") ==
        "s.yaml:3:3: database.url cannot be used with embedded: true");
  CHECK(Error("database:\n"
              "  embedded: false\n") == "s.yaml:2:13: database.embedded: false needs database.url");
  CHECK(Error("database:\n"
              "  url: postgresql://db:${prot}/x\n") ==
        "s.yaml:2:8: database.url: unknown variable ${prot} (did you mean "
        "${port}?)");
}

TEST_CASE("Background jobs and Redis", "[scenario]") {
  Scenario s = Parse(
      "jobs: {enqueue: 2000, rate: 500, queue: q, processing: q:busy}\n"
      "audit:\n"
      "  applied: SELECT 1\n"
      "  jobs: SELECT job_id, count(*) FROM job_effects GROUP BY 1\n");
  CHECK(s.jobs.enabled);
  CHECK(s.jobs.enqueue == 2000);
  CHECK(s.jobs.rate == 500);
  CHECK(s.jobs.queue == "q");
  CHECK(s.jobs.processing == "q:busy");
  CHECK(s.audit.jobs_sql == "SELECT job_id, count(*) FROM job_effects GROUP BY 1");
  CHECK(s.uses_redis);
  CHECK(s.redis_url.empty());  // the embedded one

  Scenario defaults = Parse(
      "jobs: {enqueue: 10}\n"
      "audit: {applied: SELECT 1, jobs: SELECT 2}\n");
  CHECK(defaults.jobs.rate == 1000);
  CHECK(defaults.jobs.queue == "jobs");
  CHECK(defaults.jobs.processing == "jobs:processing");

  Scenario none = Parse("name: x\n");
  CHECK_FALSE(none.jobs.enabled);
  CHECK_FALSE(none.uses_redis);

  // ${redis_url} in the target's environment or command starts Redis too.
  Scenario named = Parse(
      "target:\n"
      "  command: [server]\n"
      "  env: {REDIS: \"${redis_url}\"}\n"
      "redis: {url: \"redis://:secret@127.0.0.1:6390/2\"}\n");
  CHECK(named.uses_redis);
  CHECK_FALSE(named.jobs.enabled);
  CHECK(named.redis_url == "redis://:secret@127.0.0.1:6390/2");
}

TEST_CASE("Bad jobs and redis values are errors at their position", "[scenario]") {
  CHECK(Error("jobs: {enqueue: 0}\naudit: {applied: a, jobs: b}\n") ==
        "s.yaml:1:17: jobs.enqueue must be a positive integer, got 0");
  CHECK(Error("jobs: {rate: 5}\naudit: {applied: a, jobs: b}\n") ==
        "s.yaml:1:1: jobs.enqueue is required");
  CHECK(Error("jobs: {enqueue: 5, via: kafka}\naudit: {applied: a, jobs: b}\n") ==
        "s.yaml:1:25: jobs.via must be redis (the only queue lastcall drives), "
        "got \"kafka\"");
  CHECK(Error("jobs: {enqueue: 5, queue: q, processing: q}\n"
              "audit: {applied: a, jobs: b}\n") ==
        "s.yaml:1:42: jobs.queue and jobs.processing must be different lists");
  CHECK(Error("jobs: {enqueue: 5, rates: 4}\naudit: {applied: a, jobs: b}\n") ==
        "s.yaml:1:20: unknown key 'rates' in jobs (did you mean 'rate'?)");
  CHECK(Error("jobs: {enqueue: 5}\naudit: {applied: a}\n") ==
        "s.yaml:2:1: audit.jobs is required when the scenario has jobs: a query "
        "of (job id, times it took effect)");
  CHECK(Error("audit: {applied: a, jobs: b}\n") ==
        "s.yaml:1:21: audit.jobs needs a jobs section that enqueues them");
  CHECK(Error("redis: {url: \"http://x\"}\n") ==
        "s.yaml:1:14: redis.url must be redis://[[user]:password@]host[:port][/db] "
        "or unix:///path/to/socket[?db=N], got \"http://x\"");
  CHECK(Error("redis: {uri: x}\n") ==
        "s.yaml:1:9: unknown key 'uri' in redis (did you mean 'url'?)");
  CHECK(Error("redis: {}\n") == "s.yaml:1:1: redis.url is required");
}

}  // namespace
}  // namespace lastcall
