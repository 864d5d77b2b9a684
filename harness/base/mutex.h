// A mutex, its scoped lock and a condition variable that the thread-safety
// analysis understands (std::mutex is not annotated in libstdc++), as
// LevelDB's port::Mutex is. Members a mutex guards are marked GUARDED_BY.
#ifndef LASTCALL_BASE_MUTEX_H_
#define LASTCALL_BASE_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "base/thread_annotations.h"

namespace lastcall {

class CAPABILITY("mutex") Mutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` from its construction to the end of its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// Waits on a condition guarded by `mu`. The caller holds `mu` when it calls
// WaitUntil(), and holds it again when WaitUntil() returns; a wait may end
// early (spuriously), so callers re-check their condition in a loop.
class CondVar {
 public:
  explicit CondVar(Mutex* mu) : mu_(mu) {}

  // Waits for a notification or `deadline`. Returns false once the
  // deadline has passed.
  template <class Clock, class Duration>
  bool WaitUntil(const std::chrono::time_point<Clock, Duration>& deadline) {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    const bool notified = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();  // the caller's lock again
    return notified;
  }
  void NotifyAll() { cv_.notify_all(); }

 private:
  Mutex* const mu_;
  std::condition_variable cv_;
};

}  // namespace lastcall

#endif  // LASTCALL_BASE_MUTEX_H_
