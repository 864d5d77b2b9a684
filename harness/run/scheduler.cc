#include "run/scheduler.h"

#include <algorithm>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace lastcall {

void RunInParallel(size_t count, int jobs, const std::function<void(size_t)>& work,
                   const std::function<bool()>& stop) {
  std::mutex mutex;
  size_t next = 0;
  // The next index to run, or count when there is none (all handed out, or
  // stopped).
  auto take = [&]() -> size_t {
    std::lock_guard<std::mutex> lock(mutex);
    if (next == count || stop()) return count;
    return next++;
  };
  auto worker = [&] {
    for (size_t i = take(); i != count; i = take()) work(i);
  };
  if (jobs <= 1) {
    worker();
    return;
  }
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::min(count, static_cast<size_t>(jobs)); ++t) {
    try {
      threads.emplace_back(worker);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: fewer runs at a time
    }
  }
  if (threads.empty()) worker();
  for (std::thread& thread : threads) thread.join();
}

}  // namespace lastcall
