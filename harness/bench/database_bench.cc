// What the database side of a scenario run costs, one step at a time, on an
// embedded PostgreSQL started once for the program: a new connection (TCP,
// SCRAM, a backend fork), the run database's clone and drop, an instance's
// role, and one look at pg_stat_activity, which the leftover scan repeats
// until the target's sessions are gone; and what a server's start and stop
// and each CREATE DATABASE strategy cost.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>
#include <pqxx/pqxx>

#include "process/database.h"
#include "run/audit.h"

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

// EmbeddedPostgres::Start and the stop, each iteration a server of its own
// from the cached cluster; the counters split the start into its copy of the
// cluster and the wait for the server, and give the stop.
void BM_EmbeddedStartStop(benchmark::State& state) {
  auto ms = [](Duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  double copy = 0, start = 0, stop = 0;
  for (auto _ : state) {
    char folder[] = "/tmp/lastcall-bench-XXXXXX";
    if (mkdtemp(folder) == nullptr) {
      state.SkipWithError("cannot make a folder in /tmp");
      break;
    }
    std::string error;
    std::unique_ptr<EmbeddedPostgres> postgres = EmbeddedPostgres::Start(folder, &error);
    if (!postgres) {
      state.SkipWithError(error.c_str());
      std::filesystem::remove_all(folder);
      break;
    }
    copy += ms(postgres->start_timings().copy);
    start += ms(postgres->start_timings().start);
    const auto stopping = std::chrono::steady_clock::now();
    postgres.reset();
    stop += ms(std::chrono::steady_clock::now() - stopping);
    std::filesystem::remove_all(folder);
  }
  state.counters["copy_ms"] = benchmark::Counter(copy, benchmark::Counter::kAvgIterations);
  state.counters["start_ms"] = benchmark::Counter(start, benchmark::Counter::kAvgIterations);
  state.counters["stop_ms"] = benchmark::Counter(stop, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_EmbeddedStartStop)->Unit(benchmark::kMillisecond);

// CREATE DATABASE from a scenario's template by each of PostgreSQL 15's
// strategies, on the embedded server (fsync=off): what CloneTemplate's
// choice of FILE_COPY rests on. The drops happen outside the timing.
void BM_CreateDatabaseStrategy(benchmark::State& state) {
  const char* strategy = state.range(0) == 0 ? "FILE_COPY" : "WAL_LOG";
  state.SetLabel(strategy);
  EmbeddedPostgres* server = ServerOrSkip(state);
  if (!server) return;
  const std::string admin = server->UrlFor("postgres");
  std::string error, owner;
  {
    RunDatabases databases(admin, 0);  // makes the template
    RunDatabases::Failure failure;
    if (!databases.Create("lastcall_bench_strategy", DatabaseContent{kSchema, ""}, &owner, &failure,
                          &error))
      return state.SkipWithError(error.c_str());
    databases.Drop("lastcall_bench_strategy");
  }
  pqxx::connection c(admin);
  pqxx::nontransaction w(c);
  const std::string tpl = w.exec(
                               "SELECT datname FROM pg_database WHERE datistemplate AND "
                               "datname LIKE 'lastcall\\_tpl\\_%' ORDER BY oid DESC LIMIT 1")[0][0]
                              .as<std::string>();
  for (auto _ : state) {
    w.exec("CREATE DATABASE lastcall_bench_s TEMPLATE " + c.quote_name(tpl) +
           " STRATEGY = " + strategy);
    state.PauseTiming();
    w.exec("DROP DATABASE lastcall_bench_s");
    state.ResumeTiming();
  }
}
BENCHMARK(BM_CreateDatabaseStrategy)
    ->ArgName("wal_log")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);

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
