// The audit and the reports of a large run: RunChecks over the history and
// the applied keys, then what WriteReports makes of them (the outcome counts,
// history.jsonl, result.json, junit.xml, summary.md, index.html). The target of issue
// #10: a 1,000,000-attempt history in <= 2 s and <= 300 MB peak memory, read
// from the counter peak_rss_MB when one benchmark runs alone:
//   audit_bench --benchmark_filter='AuditAndReport/attempts:1000000'
// (the peak is the process's: the large run itself, about 150 MB, is in it).
#include <memory>
#include <string>

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "base/temp_dir.h"
#include "check/checks.h"
#include "report/report.h"
#include "report/saved_report.h"

namespace lastcall {
namespace {

constexpr int kClients = 16;
constexpr int64_t kMs = 1000000;

// A finished run of `attempts` attempts by 16 clients, 2 ms each, every one
// acknowledged and applied once; SIGTERM half-way, a clean exit after it.
// What a correct target leaves: every check passes and has every key to look
// at.
struct LargeRun {
  Scenario scenario;
  History history{kClients};
  AuditInputs in;

  explicit LargeRun(int64_t attempts) {
    scenario.name = "large";
    scenario.seed = 42;
    scenario.audit.invariants.push_back({"money is conserved", "SELECT 1 WHERE false", {}});
    Fault term;
    term.grace = std::chrono::seconds(5);
    scenario.faults.push_back(term);
    const int64_t per_client = attempts / kClients;
    for (int c = 0; c < kClients; ++c) history.attempts(c).reserve(per_client);
    in.applied.reserve(static_cast<size_t>(attempts));
    for (int64_t seq = 0; seq < attempts; ++seq) {
      Attempt a;
      a.seq = seq;
      a.client = static_cast<int>(seq % kClients);
      a.connection = a.client;
      a.reused_connection = seq >= kClients;
      a.send_start = (seq / kClients) * 2 * kMs;
      a.send_end = a.send_start + kMs / 10;
      a.done = a.send_start + 2 * kMs;
      a.status = 201;
      a.outcome = Outcome::kOk;
      history.attempts(a.client).push_back(a);
      in.applied.emplace_back(History::KeyFor(scenario.seed, seq), 1);
    }
    const int64_t end = (attempts / kClients) * 2 * kMs;
    FaultRecord fired;
    fired.fired = true;
    fired.trigger_time = fired.delivery_time = end / 2;
    fired.instance = 1;
    in.faults.push_back(fired);
    InstanceRecord instance;
    instance.id = 1;
    instance.exit_time = end + 10 * kMs;
    instance.exit = ExitStatus{};
    in.instances.push_back(instance);
    in.invariants.push_back({"money is conserved", {}, 0});
    in.leaked_sessions.emplace();
    in.unclean_disconnects.emplace();
    in.orphans.emplace();
    in.temp_files.emplace();
    in.scenario = &scenario;
    in.history = &history;
  }
};

double PeakRssMegabytes() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024;  // ru_maxrss is in KiB
}

void BM_RunChecks(benchmark::State& state) {
  const auto run = std::make_unique<LargeRun>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(RunChecks(run->in));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RunChecks)->Arg(10000)->Arg(1000000)->Unit(benchmark::kMillisecond);

// The phases of WriteReports (run.cc) after the checks, each a function so
// that the whole path and each phase alone can be measured. Each returns
// false and sets *error when its file cannot be written.
bool WriteHistory(const LargeRun& run, const ScenarioResult& result, std::string* error) {
  return WriteFileAtomically(
      result.report_dir + "/history.jsonl",
      [&](std::ostream& out) { run.history.WriteJsonl(out, run.scenario.seed); }, error);
}

bool WriteResultAndRendered(const LargeRun& run, const ScenarioResult& result, std::string* error) {
  return WriteFileAtomically(result.report_dir + "/result.json", ResultJson(result, run.scenario),
                             error) &&
         WriteRenderedReports(SavedReport::Of(result, run.scenario.expect, run.history), error);
}

// A result of `run` with its checks, reported into `dir`.
ScenarioResult CheckedResult(const LargeRun& run, const TempDir& dir) {
  ScenarioResult result;
  result.name = run.scenario.name;
  result.report_dir = dir.path.string();
  result.checks = RunChecks(run.in);
  return result;
}

// The audit, then the reports as WriteReports writes them: the outcome
// counts, history.jsonl streamed to its file, result.json, and junit.xml,
// summary.md and index.html from the run's SavedReport.
void BM_AuditAndReport(benchmark::State& state) {
  const auto run = std::make_unique<LargeRun>(state.range(0));
  TempDir dir;
  for (auto _ : state) {
    ScenarioResult result = CheckedResult(*run, dir);
    CountRequests(run->history, &result);
    std::string error;
    if (!WriteHistory(*run, result, &error) || !WriteResultAndRendered(*run, result, &error)) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["peak_rss_MB"] = PeakRssMegabytes();
}
BENCHMARK(BM_AuditAndReport)
    ->ArgName("attempts")
    ->Arg(10000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond);

// The phases alone, to see where the time of the whole goes.
void BM_CountRequests(benchmark::State& state) {
  const auto run = std::make_unique<LargeRun>(state.range(0));
  for (auto _ : state) {
    ScenarioResult result;
    CountRequests(run->history, &result);
    benchmark::DoNotOptimize(result.ok);
  }
}
BENCHMARK(BM_CountRequests)->ArgName("attempts")->Arg(1000000)->Unit(benchmark::kMillisecond);

// A phase that writes report files, with the run's checked result.
using WritePhase = bool (*)(const LargeRun&, const ScenarioResult&, std::string*);

void BM_Write(benchmark::State& state, WritePhase phase) {
  const auto run = std::make_unique<LargeRun>(state.range(0));
  TempDir dir;
  const ScenarioResult result = CheckedResult(*run, dir);
  std::string error;
  for (auto _ : state)
    if (!phase(*run, result, &error)) state.SkipWithError(error.c_str());
}
BENCHMARK_CAPTURE(BM_Write, history_jsonl, WriteHistory)
    ->ArgName("attempts")
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Write, result_and_rendered, WriteResultAndRendered)
    ->ArgName("attempts")
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lastcall
