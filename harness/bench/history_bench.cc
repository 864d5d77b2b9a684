// The history on the load's hot path: what a client thread pays per attempt
// to record it (three timestamps and an append to its own list), and what a
// nemesis or lifecycle event costs (a mutex).
#include <benchmark/benchmark.h>

#include "history/history.h"

namespace lastcall {
namespace {

constexpr int64_t kAttemptsPerIteration = 100000;

// A fresh history per iteration, so that memory stays bounded however many
// iterations the library chooses; the vector's growth is part of the cost.
void BM_AttemptAppend(benchmark::State& state) {
  for (auto _ : state) {
    History history(1);
    std::vector<Attempt>& attempts = history.attempts(0);
    for (int64_t seq = 0; seq < kAttemptsPerIteration; ++seq) {
      Attempt a;
      a.seq = seq;
      a.send_start = history.Now();
      a.send_end = history.Now();
      a.status = 201;
      a.done = history.Now();
      a.outcome = Classify(a.status, a.error);
      attempts.push_back(a);
    }
    benchmark::DoNotOptimize(attempts.data());
  }
  state.SetItemsProcessed(state.iterations() * kAttemptsPerIteration);
}
BENCHMARK(BM_AttemptAppend)->Unit(benchmark::kMillisecond);

void BM_RecordEvent(benchmark::State& state) {
  History history(1);
  const std::string detail = "TERM to process 1234";
  for (auto _ : state) benchmark::DoNotOptimize(history.Record("signal", detail, 1));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordEvent);

}  // namespace
}  // namespace lastcall
