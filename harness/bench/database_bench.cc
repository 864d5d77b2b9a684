// What the database side of a scenario run costs, one step at a time, on an
// embedded PostgreSQL started once for the program: a new connection (TCP,
// SCRAM, a backend fork), the run database's clone and drop, an instance's
// role, and one look at pg_stat_activity, which the leftover scan repeats
// until the target's sessions are gone.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "run/audit.h"
#include "process/database.h"

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

// A run's database, cloned while the run waits (spares:0) or renamed from a
// spare cloned ahead (spares:1; a run takes longer than a clone, so a spare
// is always ready). The drops happen behind, as in a run.
void BM_CreateRunDatabase(benchmark::State& state) {
  EmbeddedPostgres* server = ServerOrSkip(state);
  std::string error;
  RunDatabases databases(server ? server->UrlFor("postgres") : "",
                         static_cast<int>(state.range(0)));
  int n = 0;
  for (auto _ : state) {
    const std::string name = "lastcall_bench_" + std::to_string(++n);
    RunDatabases::Failure failure;
    std::string owner;
    if (!databases.Create(name, DatabaseContent{kSchema, ""}, &owner, &failure, &error)) {
      state.SkipWithError(error.c_str());
      break;
    }
    state.PauseTiming();
    databases.Drop(name);
    // Stands for the run (seconds long), during which the spare is cloned.
    std::this_thread::sleep_for(std::chrono::milliseconds(state.range(0) ? 300 : 0));
    state.ResumeTiming();
  }
}
BENCHMARK(BM_CreateRunDatabase)->ArgName("spares")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// A connection to the server as a run's, or nullptr with the benchmark
// marked skipped.
std::unique_ptr<AuditConnection> AuditOrSkip(benchmark::State& state) {
  EmbeddedPostgres* server = ServerOrSkip(state);
  std::string error;
  std::unique_ptr<AuditConnection> audit =
      server ? AuditConnection::Open(server->UrlFor("postgres"), &error) : nullptr;
  if (server && !audit) state.SkipWithError(error.c_str());
  return audit;
}

// One look at pg_stat_activity on the run's open connection.
void BM_TargetSessions(benchmark::State& state) {
  std::unique_ptr<AuditConnection> audit = AuditOrSkip(state);
  std::string error;
  std::vector<std::string> sessions;
  for (auto _ : state) {
    if (!audit->TargetSessions(&sessions, &error)) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
}
BENCHMARK(BM_TargetSessions)->Unit(benchmark::kMillisecond);

// The role each instance of a run gets before it starts (LOGIN SUPERUSER
// with a password: the server derives the SCRAM secret), on the run's open
// connection. The drops happen outside the timing, as after a run.
void BM_CreateRole(benchmark::State& state) {
  std::unique_ptr<AuditConnection> audit = AuditOrSkip(state);
  std::string error;
  const std::string password = RandomPassword();
  int n = 0;
  for (auto _ : state) {
    const std::string role = "lastcall_bench_" + std::to_string(++n);
    if (!audit->CreateRole(role, password, "", &error)) {
      state.SkipWithError(error.c_str());
      break;
    }
    state.PauseTiming();
    audit->ExecuteScript("DROP ROLE " + role, &error);
    state.ResumeTiming();
  }
}
BENCHMARK(BM_CreateRole)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lastcall
