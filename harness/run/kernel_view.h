// The kernel's view of the target's sockets during a run (socket_watch.h):
// it counts `in_flight` for the nemesis, and keeps what the checks read of
// it (KernelRecords): the looks taken as graceful signals went out and once
// drains became visible, and every socket once it stops.
#ifndef LASTCALL_KERNEL_VIEW_H_
#define LASTCALL_KERNEL_VIEW_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "check/causes.h"
#include "client/load.h"
#include "history/history.h"
#include "process/socket_watch.h"
#include "run/nemesis.h"

namespace lastcall {

class KernelWatch {
 public:
  // Watches the target's `port`, from now on counting `in_flight` by what
  // the kernel shows for `nemesis`; the looks go to *records. Returns null
  // and sets *why_not when the kernel cannot be watched. All pointers must
  // outlive the watch.
  static std::unique_ptr<KernelWatch> Open(int port, History* history, Nemesis* nemesis, Load* load,
                                           KernelRecords* records, std::string* why_not);

  // Begins looking, once the load has started.
  void Start();
  // Before a graceful signal goes out: keeps what the target has read by
  // then. Called with the fleet's lock held, which guards records->at_signals.
  void SnapshotAtSignal();
  // The target's drain became visible at `time`: the first look from then
  // on is kept.
  void DrainVisible(int64_t time) { drain_visible_at_ = time; }
  // After the load and the target: waits for the destroy events of every
  // socket, then stops looking.
  void Close();
  // Every socket seen, into records->sockets; the watch's figures.
  SocketWatchStats KeepSockets();

 private:
  KernelWatch(std::unique_ptr<SocketWatch> sockets, History* history, Nemesis* nemesis, Load* load,
              KernelRecords* records);
  // The look's count of requests the target has read and not answered.
  void CountInFlight(const LiveTable& live);

  std::unique_ptr<SocketWatch> sockets_;
  History* history_;
  Nemesis* nemesis_;
  Load* load_;
  KernelRecords* records_;
  std::mutex drains_mutex_;  // guards records_->drains_visible
  // When a drain became visible, while the look that follows has not been
  // kept yet; -1 otherwise.
  std::atomic<int64_t> drain_visible_at_{-1};
};

}  // namespace lastcall

#endif  // LASTCALL_KERNEL_VIEW_H_
