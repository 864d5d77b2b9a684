// Tests of the embedded Redis and the harness's Redis client, on a real
// redis-server.
#include "process/redis.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include "base/temp_dir.h"
#include "base/wait_until.h"

namespace lastcall {
namespace {

namespace fs = std::filesystem;

// Gone, or a zombie nobody reaps.
bool ProcessGone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  size_t close = line.rfind(')');
  return close + 2 < line.size() && (line[close + 2] == 'Z' || line[close + 2] == 'X');
}

TEST_CASE("The embedded Redis serves lists on a private socket and leaves nothing behind") {
  TempDir parent;
  ::chmod(parent.path.c_str(), 0711);  // as root the server runs as another user
  const std::string dir = (parent.path / "redis").string();
  std::string error;
  std::unique_ptr<EmbeddedRedis> redis = EmbeddedRedis::Start(dir, &error);
  REQUIRE(redis != nullptr);
  INFO(error);
  const pid_t pid = redis->pid();
  REQUIRE(redis->url() == "unix://" + dir + "/redis.sock");

  // Only the server's user may enter the socket's folder.
  struct stat folder;
  REQUIRE(::stat(dir.c_str(), &folder) == 0);
  CHECK((folder.st_mode & 0777) == 0700);
  if (::geteuid() == 0) CHECK(folder.st_uid != 0);  // not root

  std::unique_ptr<RedisClient> client = RedisClient::Connect(redis->url(), &error);
  REQUIRE(client != nullptr);
  std::vector<std::string> items;
  REQUIRE(client->Command({"RPUSH", "jobs", "job-1", "job 2"}, nullptr, &error));
  REQUIRE(client->Command({"LRANGE", "jobs", "0", "-1"}, &items, &error));
  CHECK(items == std::vector<std::string>{"job-1", "job 2"});
  // No persistence, whatever a packaged redis.conf would say.
  REQUIRE(client->Command({"CONFIG", "GET", "save"}, &items, &error));
  CHECK(items == std::vector<std::string>{"save", ""});
  REQUIRE(client->Command({"CONFIG", "GET", "appendonly"}, &items, &error));
  CHECK(items == std::vector<std::string>{"appendonly", "no"});
  CHECK_FALSE(client->Command({"NOSUCHCOMMAND"}, nullptr, &error));
  CHECK(error.find("unknown command") != std::string::npos);

  client.reset();
  redis.reset();
  CHECK(WaitUntil([&] { return ProcessGone(pid); }));
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("A Redis URL that is malformed or unreachable is an error that says so") {
  std::string error;
  CHECK(RedisClient::Connect("http://127.0.0.1:6379", &error) == nullptr);
  CHECK(error.find("not a Redis URL") != std::string::npos);
  TempDir nowhere;
  CHECK(RedisClient::Connect("unix://" + (nowhere.path / "none.sock").string(), &error) == nullptr);
  CHECK(error.find("cannot connect to Redis") != std::string::npos);
}

TEST_CASE("EmbeddedRedis fails with the server's own words when it cannot start") {
  TempDir parent;
  std::string error;
  setenv("LASTCALL_REDIS_SERVER", "/bin/false", 1);
  std::unique_ptr<EmbeddedRedis> redis =
      EmbeddedRedis::Start((parent.path / "redis").string(), &error);
  unsetenv("LASTCALL_REDIS_SERVER");
  CHECK(redis == nullptr);
  CHECK(error.find("exited during start-up (exit 1)") != std::string::npos);
  CHECK_FALSE(fs::exists(parent.path / "redis"));
}

}  // namespace
}  // namespace lastcall
