#include "run/scheduler.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace lastcall;

namespace {

// Counts how many calls run at once; each call waits until `width` calls
// are running together (or until none more can come), so that the peak is
// reached for sure rather than by luck of timing.
struct Overlap {
  std::mutex mutex;
  std::condition_variable changed;
  int running = 0, peak = 0, started = 0;
  void Enter(int width, int total) {
    std::unique_lock<std::mutex> lock(mutex);
    ++started;
    peak = std::max(peak, ++running);
    changed.notify_all();
    changed.wait_for(lock, std::chrono::seconds(10),
                     [&] { return running >= width || started == total; });
  }
  void Leave() {
    std::lock_guard<std::mutex> lock(mutex);
    --running;
    changed.notify_all();
  }
};

}  // namespace

TEST_CASE("RunInParallel calls each index once with at most jobs at a time") {
  const int kCount = 9;
  for (int jobs : {1, 2, 3, 20}) {
    INFO("jobs " << jobs);
    std::vector<std::atomic<int>> calls(kCount);
    Overlap overlap;
    const int width = std::min(jobs, kCount);
    RunInParallel(
        kCount, jobs,
        [&](size_t i) {
          overlap.Enter(width, kCount);
          ++calls[i];
          overlap.Leave();
        },
        [] { return false; });
    for (int i = 0; i < kCount; ++i) CHECK(calls[i] == 1);
    CHECK(overlap.peak == width);
  }
}

TEST_CASE("RunInParallel with one job runs in order on the calling thread") {
  std::vector<size_t> order;
  const std::thread::id caller = std::this_thread::get_id();
  bool same_thread = true;
  RunInParallel(
      4, 1,
      [&](size_t i) {
        order.push_back(i);
        same_thread = same_thread && std::this_thread::get_id() == caller;
      },
      [] { return false; });
  CHECK(order == std::vector<size_t>{0, 1, 2, 3});
  CHECK(same_thread);
}

TEST_CASE("RunInParallel starts nothing new once stop() holds") {
  for (int jobs : {1, 2}) {
    INFO("jobs " << jobs);
    std::atomic<int> calls{0};
    std::atomic<bool> stopping{false};
    RunInParallel(
        10, jobs,
        [&](size_t i) {
          ++calls;
          if (i == 3) stopping = true;
        },
        [&] { return stopping.load(); });
    // Index 3 asks to stop; with two jobs the other worker may have taken
    // index 4 before that.
    CHECK(calls >= 4);
    CHECK(calls <= 3 + jobs);
  }
}
