#include <filesystem>
#include <string>

#include "scenario/sections.h"

namespace lastcall::scenario_file {

namespace fs = std::filesystem;

const Keys kDatabaseKeys = {{"embedded", "url", "schema", "setup", "timeout"}, {}};
const Keys kJobsKeys = {{"enqueue", "rate", "via", "queue", "processing"}, {}};
const Keys kRedisKeys = {{"url"}, {}};

bool ParseDatabase(YamlReader* yaml, const Value& value, DatabaseSpec* out) {
  Section section;
  if (!yaml->AsSection(value, kDatabaseKeys, &section)) return false;
  Value embedded = section.Get("embedded");
  Value url = section.Get("url");
  Value schema = section.Get("schema");
  if (!yaml->AsBool(embedded, &out->embedded) || !yaml->AsTemplate(url, Scope::kRun, &out->url) ||
      !yaml->AsPath(schema, &out->schema_path) ||
      !yaml->AsString(section.Get("setup"), &out->setup_sql) ||
      !yaml->AsDuration(section.Get("timeout"), false, &out->timeout))
    return false;
  if (url.present) {
    if (embedded.present && out->embedded)
      return yaml->Fail(url.key, "database.url cannot be used with embedded: true");
    out->embedded = false;
  } else if (!out->embedded) {
    return yaml->Fail(embedded, "database.embedded: false needs database.url");
  }
  if (schema.present && !fs::is_regular_file(out->schema_path))
    return yaml->Fail(schema, "database.schema: no such file " + out->schema_path);
  return true;
}

bool ParseJobs(YamlReader* yaml, const Value& value, JobsSpec* out) {
  Section section;
  std::string via = "redis";
  if (!yaml->AsSection(value, kJobsKeys, &section)) return false;
  out->enabled = value.present;
  Value via_value = section.Get("via");
  Value queue = section.Get("queue");
  Value processing = section.Get("processing");
  if (!out->enabled) return true;
  if (!yaml->Require(section, "enqueue") ||
      !yaml->AsInt(section.Get("enqueue"), 1, 10'000'000, &out->enqueue) ||
      !yaml->AsInt(section.Get("rate"), 1, 1'000'000, &out->rate) ||
      !yaml->AsString(via_value, &via) || !yaml->AsString(queue, &out->queue) ||
      !yaml->AsString(processing, &out->processing))
    return false;
  if (via != "redis")
    return yaml->Fail(via_value,
                      "jobs.via must be redis (the only queue lastcall "
                      "drives), got " +
                          Describe(via_value.node));
  if (out->queue.empty()) return yaml->Fail(queue, "jobs.queue must be a non-empty list name");
  if (out->processing.empty())
    return yaml->Fail(processing, "jobs.processing must be a non-empty list name");
  if (out->queue == out->processing)
    return yaml->Fail(processing.present ? processing : queue,
                      "jobs.queue and jobs.processing must be different lists");
  return true;
}

// After the target and the jobs: whether the run needs Redis at all.
bool ParseRedis(YamlReader* yaml, const Value& value, Scenario* out) {
  Section section;
  if (!yaml->AsSection(value, kRedisKeys, &section) ||
      (value.present && !yaml->Require(section, "url")))
    return false;
  Value url = section.Get("url");
  if (!yaml->AsTemplate(url, Scope::kRun, &out->redis_url)) return false;
  if (url.present && out->redis_url.rfind("redis://", 0) != 0 &&
      out->redis_url.rfind("unix://", 0) != 0 && out->redis_url.rfind("${", 0) != 0)
    return yaml->Fail(url,
                      "redis.url must be redis://[[user]:password@]host[:port][/db] "
                      "or unix:///path/to/socket[?db=N], got " +
                          Describe(url.node));
  if (out->redis_url.find("${redis_url}") != std::string::npos)
    return yaml->Fail(url, "redis.url cannot be ${redis_url}: it is what defines it");
  // A plain text search: ${redis_url} is what starting Redis is for.
  bool named = false;
  for (const std::string& arg : out->target.command)
    named = named || arg.find("${redis_url}") != std::string::npos;
  for (const auto& [name, text] : out->target.env)
    named = named || text.find("${redis_url}") != std::string::npos;
  out->uses_redis = out->jobs.enabled || named;
  return true;
}

}  // namespace lastcall::scenario_file
