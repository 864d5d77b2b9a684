// What the database side of a scenario run costs, one step at a time, on an
// embedded PostgreSQL started once for the program: a new connection (TCP,
// SCRAM, a backend fork), the run database's clone and drop, and one look at
// pg_stat_activity, which the leftover scan repeats until the target's
// sessions are gone.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "audit.h"
#include "database.h"

namespace lastcall {
namespace {

// The embedded server of this program in a folder of its own, both gone at
// exit.
struct BenchServer {
  std::string dir, error;
  std::unique_ptr<EmbeddedPostgres> postgres;
  BenchServer() {
    char folder[] = "/tmp/lastcall-bench-XXXXXX";
    if (mkdtemp(folder) == nullptr) {
      error = "cannot make a folder in /tmp";
      return;
    }
    dir = folder;
    postgres = EmbeddedPostgres::Start(dir, &error);
  }
  ~BenchServer() {
    postgres.reset();  // stops the server first
    std::error_code ignored;
    if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
  }
};

// The server, started on first use; nullptr (and the reason in *error) when
// it would not start.
EmbeddedPostgres* Server(std::string* error) {
  static BenchServer server;
  *error = server.error;
  return server.postgres.get();
}

// The server, or nullptr with the benchmark marked skipped (its loop then
// runs no iteration).
EmbeddedPostgres* ServerOrSkip(benchmark::State& state) {
  std::string error;
  EmbeddedPostgres* server = Server(&error);
  if (!server) state.SkipWithError(error.c_str());
  return server;
}

const char kSchema[] = "CREATE TABLE accounts (id text PRIMARY KEY, balance bigint NOT NULL);";

void BM_Connect(benchmark::State& state) {
  EmbeddedPostgres* server = ServerOrSkip(state);
  std::string error;
  for (auto _ : state) {
    if (!ExecuteSql(server->UrlFor("postgres"), "SELECT 1", &error)) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
}
BENCHMARK(BM_Connect)->Unit(benchmark::kMillisecond);

void BM_CreateAndDropRunDatabase(benchmark::State& state) {
  EmbeddedPostgres* server = ServerOrSkip(state);
  std::string error;
  const std::string admin = server ? server->UrlFor("postgres") : "";
  for (auto _ : state) {
    if (!CreateRunDatabase(admin, "lastcall_bench", kSchema, &error) ||
        !DropRunDatabase(admin, "lastcall_bench", &error)) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
}
BENCHMARK(BM_CreateAndDropRunDatabase)->Unit(benchmark::kMillisecond);

// One look at pg_stat_activity on the run's open connection.
void BM_TargetSessions(benchmark::State& state) {
  EmbeddedPostgres* server = ServerOrSkip(state);
  std::string error;
  std::unique_ptr<AuditConnection> audit =
      server ? AuditConnection::Open(server->UrlFor("postgres"), &error) : nullptr;
  if (server && !audit) state.SkipWithError(error.c_str());
  std::vector<std::string> sessions;
  for (auto _ : state) {
    if (!audit->TargetSessions("lastcall-bench-", &sessions, &error)) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
}
BENCHMARK(BM_TargetSessions)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lastcall
