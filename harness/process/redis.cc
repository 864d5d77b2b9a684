// The embedded Redis and the harness's Redis client. See redis.h.
#include "process/redis.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <hiredis/hiredis.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "base/last_lines.h"
#include "process/service_user.h"

namespace lastcall {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr Duration kStartTimeout = 10s;
constexpr Duration kStopTimeout = 5s;
constexpr int kConnectTimeoutSeconds = 5;
constexpr size_t kLogLinesShown = 20;  // of the server's log, in an error

// The server's settings. `port 0`: no TCP at all, only the socket, whose
// folder (mode 0700) is the only guard needed. `save ""` and `appendonly
// no`: nothing is ever written to disk.
std::string ServerConfig(const std::string& dir, const std::string& socket) {
  return "port 0\n"
         "unixsocket " +
         socket +
         "\n"
         "unixsocketperm 700\n"
         "save \"\"\n"
         "appendonly no\n"
         "dir " +
         dir +
         "\n"
         "daemonize no\n"
         "logfile \"\"\n";
}

std::string ServerBinary() {
  const char* binary = std::getenv("LASTCALL_REDIS_SERVER");
  return binary && *binary ? binary : "redis-server";
}

// The end of the server's log, for an error message.
std::string LogEnd(const std::string& path) {
  std::string log = LastLinesOfFile(path, kLogLinesShown);
  return log.empty() ? "" : "; its log:" + log;
}

}  // namespace

std::unique_ptr<EmbeddedRedis> EmbeddedRedis::Start(const std::string& dir, std::string* error) {
  std::unique_ptr<EmbeddedRedis> redis(new EmbeddedRedis());
  const std::string folder = fs::absolute(dir).lexically_normal().string();
  const std::string socket = folder + "/redis.sock";
  if (socket.size() >= sizeof(sockaddr_un{}.sun_path)) {
    *error = "the Redis socket path " + socket +
             " is longer than a unix socket allows; set TMPDIR to a shorter folder";
    return nullptr;
  }
  if (::mkdir(folder.c_str(), 0700) != 0) {
    *error = "cannot create " + folder + ": " + std::strerror(errno);
    return nullptr;
  }
  redis->dir_ = folder;  // from here on, the destructor removes it
  redis->socket_path_ = socket;

  ServiceUser user;
  if (!LookupServiceUser(&user, error) || !Chown(folder, user, error)) return nullptr;
  const std::string config = folder + "/redis.conf";
  const std::string log = folder + "/redis.log";
  std::ofstream(config) << ServerConfig(folder, socket);
  if (!Chown(config, user, error)) return nullptr;
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    *error = "cannot create " + log + ": " + std::strerror(errno);
    return nullptr;
  }
  SpawnOptions options;
  ApplyUser(user, &options);
  options.argv = {ServerBinary(), config};
  const char* path = std::getenv("PATH");
  options.env = {std::string("PATH=") + (path ? path : "/usr/bin:/bin"), "LC_ALL=C"};
  options.cwd = folder;
  options.output_fd = log_fd;
  redis->server_ = Subprocess::Start(options, error);
  ::close(log_fd);  // the child has its own copy
  if (!redis->server_) {
    *error += " (install it with: apt-get install redis-server)";
    return nullptr;
  }

  const Clock::time_point deadline = Clock::now() + kStartTimeout;
  std::string last_error;
  while (!redis->server_->TryReap() && Clock::now() < deadline) {
    std::unique_ptr<RedisClient> client = RedisClient::Connect(redis->url(), &last_error);
    if (client && client->Command({"PING"}, nullptr, &last_error)) return redis;
    redis->server_->Wait(5ms);  // wakes at once if the server exits
  }
  *error = redis->server_->exited()
               ? "redis-server exited during start-up (" +
                     redis->server_->exit_status()->ToString() + ")" + LogEnd(log)
               : "redis-server did not answer within 10 s (" + last_error + ")" + LogEnd(log);
  return nullptr;  // the destructor stops what was started
}

EmbeddedRedis::~EmbeddedRedis() {
  if (server_ && !server_->exited()) {
    server_->Signal(SIGTERM, /*to_group=*/false);
    if (!server_->Wait(kStopTimeout)) server_->Signal(SIGKILL, /*to_group=*/true);
  }
  server_.reset();  // SIGKILLs the group and reaps, if still running
  std::error_code ignored;
  if (!dir_.empty()) fs::remove_all(dir_, ignored);
}

namespace {

// Where a Redis URL points.
struct RedisAddress {
  std::string socket;  // unix://; else host and port
  std::string host;
  int port = 6379;
  std::string user, password;
  std::string db;  // "" for the default (0)
};

bool ParseRedisUrl(const std::string& url, RedisAddress* out, std::string* error) {
  static const std::regex kUnix(R"(unix://(/[^?]+)(\?db=([0-9]+))?)");
  static const std::regex kTcp(
      R"(redis://(([^:@/]*)(:([^@/]*))?@)?([^:/@]+)(:([0-9]{1,5}))?(/([0-9]*))?)");
  std::smatch m;
  if (std::regex_match(url, m, kUnix)) {
    out->socket = m[1];
    out->db = m[3];
    return true;
  }
  if (std::regex_match(url, m, kTcp)) {
    out->user = m[2];
    out->password = m[4];
    out->host = m[5];
    if (m[7].matched) out->port = std::atoi(m[7].str().c_str());
    out->db = m[9];
    return true;
  }
  *error =
      "not a Redis URL (redis://[[user]:password@]host[:port][/db] or "
      "unix:///path/to/socket[?db=N]): " +
      url;
  return false;
}

}  // namespace

std::unique_ptr<RedisClient> RedisClient::Connect(const std::string& url, std::string* error) {
  RedisAddress address;
  if (!ParseRedisUrl(url, &address, error)) return nullptr;
  const timeval timeout{kConnectTimeoutSeconds, 0};
  redisContext* context = address.socket.empty()
                              ? redisConnectWithTimeout(address.host.c_str(), address.port, timeout)
                              : redisConnectUnixWithTimeout(address.socket.c_str(), timeout);
  if (context == nullptr) {
    *error = "cannot connect to Redis at " + url + ": out of memory";
    return nullptr;
  }
  std::unique_ptr<RedisClient> client(new RedisClient(context));
  if (context->err) {
    *error = "cannot connect to Redis at " + url + ": " + context->errstr;
    return nullptr;
  }
  redisSetTimeout(context, timeout);
  std::vector<std::string> auth = {"AUTH"};
  if (!address.user.empty()) auth.push_back(address.user);
  auth.push_back(address.password);
  if ((!address.password.empty() && !client->Command(auth, nullptr, error)) ||
      (!address.db.empty() && !client->Command({"SELECT", address.db}, nullptr, error)))
    return nullptr;
  return client;
}

RedisClient::~RedisClient() { redisFree(context_); }

bool RedisClient::Command(const std::vector<std::string>& words, std::vector<std::string>* items,
                          std::string* error) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& word : words) {
    argv.push_back(word.data());
    lengths.push_back(word.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (reply == nullptr) {
    *error = "Redis " + words[0] + ": " + context_->errstr;
    return false;
  }
  std::unique_ptr<redisReply, void (*)(void*)> owned(reply, freeReplyObject);
  if (reply->type == REDIS_REPLY_ERROR) {
    *error = "Redis " + words[0] + ": " + std::string(reply->str, reply->len);
    return false;
  }
  if (items == nullptr) return true;
  items->clear();
  if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS)
    items->emplace_back(reply->str, reply->len);
  for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; ++i)
    if (reply->element[i]->type == REDIS_REPLY_STRING)
      items->emplace_back(reply->element[i]->str, reply->element[i]->len);
  return true;
}

}  // namespace lastcall
