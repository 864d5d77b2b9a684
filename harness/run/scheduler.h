// --jobs: scenario runs side by side. Each run is already isolated (its own
// port, database, TMPDIR, report folder and application name, see run.h);
// the scheduler only decides which run starts when.
#ifndef LASTCALL_SCHEDULER_H_
#define LASTCALL_SCHEDULER_H_

#include <cstddef>
#include <functional>

namespace lastcall {

// Calls work(0), work(1) ... work(count - 1), each exactly once, with at
// most `jobs` calls running at a time, handing indexes out in order. Before
// handing out an index it asks stop(); once that returns true no new call
// starts. Returns when every started call has returned. With jobs <= 1
// everything runs on the calling thread, as a plain loop. `work` must be
// safe to call from several threads at once; `stop` is called under a lock.
void RunInParallel(size_t count, int jobs, const std::function<void(size_t)>& work,
                   const std::function<bool()>& stop);

}  // namespace lastcall

#endif  // LASTCALL_SCHEDULER_H_
