// Redis for scenarios with background jobs: the embedded redis-server the
// harness runs itself (one per scenario run that needs it), and the small
// client the harness enqueues jobs and reads lists with. An existing server
// (scenario key redis.url) is reached with the same client.
#ifndef LASTCALL_REDIS_H_
#define LASTCALL_REDIS_H_

#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include "process/subprocess.h"

struct redisContext;

namespace lastcall {

// One redis-server for one scenario run, from the system's binary (Debian's
// redis-server, or $LASTCALL_REDIS_SERVER). No TCP port: it listens only on a
// unix socket in a folder that only its user can enter, so no other local
// user can reach it and no port can be taken by someone else. No persistence
// (no RDB snapshots, no AOF): the run's lists live and die with it. As root
// it runs as the unprivileged user of the embedded PostgreSQL.
class EmbeddedRedis {
 public:
  // Starts the server in `dir`, a folder that must not exist yet (its parent
  // is the caller's and must be reachable by the server's user); the server
  // owns the folder and removes it when it stops. Returns nullptr and sets
  // *error (with the end of the server's log) if the binary is missing or
  // the server does not answer PING within 10 s.
  static std::unique_ptr<EmbeddedRedis> Start(const std::string& dir, std::string* error);

  // Stops the server (SIGTERM: with no persistence it exits at once; SIGKILL
  // after 5 s) and removes its folder.
  ~EmbeddedRedis();

  EmbeddedRedis(const EmbeddedRedis&) = delete;
  EmbeddedRedis& operator=(const EmbeddedRedis&) = delete;

  // unix:///.../redis.sock: what ${redis_url} expands to.
  std::string url() const { return "unix://" + socket_path_; }
  pid_t pid() const { return server_ ? server_->pid() : -1; }
  const std::string& dir() const { return dir_; }

 private:
  EmbeddedRedis() = default;
  std::unique_ptr<Subprocess> server_;
  std::string dir_;
  std::string socket_path_;
};

// A connection to a Redis server, for the harness's own use. Not
// thread-safe: one per thread.
class RedisClient {
 public:
  // Connects to `url`: redis://[[user]:password@]host[:port][/db] or
  // unix:///path/to/socket[?db=N]. Returns nullptr and sets *error when the
  // URL is malformed, the server cannot be reached within 5 s, or AUTH or
  // SELECT is refused.
  static std::unique_ptr<RedisClient> Connect(const std::string& url, std::string* error);
  // Closes the connection.
  ~RedisClient();

  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command given as its words. On success returns true and sets
  // *items (may be null) to the reply's strings: the elements of an array,
  // or the one string or status; empty for nil and integers. Returns false
  // and sets *error on an error reply or a broken connection.
  bool Command(const std::vector<std::string>& words, std::vector<std::string>* items,
               std::string* error);

 private:
  explicit RedisClient(redisContext* context) : context_(context) {}
  redisContext* context_;
};

}  // namespace lastcall

#endif  // LASTCALL_REDIS_H_
