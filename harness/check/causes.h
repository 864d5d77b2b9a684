// Causes: why each attempt that got no answer ended, from the kernel's view
// of the target's side of its connection (history/kernel_records.h) instead
// of a time window. A connection reset can mean three different things for the
// target: it never accepted the connection (the listener closed with it in
// the accept queue), it accepted it and never read the request, or it read
// the request and closed without answering. Only the last two drop work the
// target took; the first is a refusal. The client alone cannot tell them
// apart; the target's socket can: whether it was ever accept()ed, and how
// many of the connection's bytes the target read before it closed it.
// docs/checks.md defines each cause.
#ifndef LASTCALL_CAUSES_H_
#define LASTCALL_CAUSES_H_

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "history/history.h"
#include "history/kernel_records.h"

namespace lastcall {

// A graceful signal reached an instance at `begin` (history time, ns); it
// exited at `end` (INT64_MAX if it never did). While a drain lasts, a
// response that keeps its connection alive invites the client's next
// request on a connection the target is about to close.
struct DrainWindow {
  int64_t begin = 0;
  int64_t end = INT64_MAX;
  int instance = 0;
  // A KILL fault of the scenario ended the drain at `end`: what it cut off
  // is the scenario's doing, not the target's.
  bool cut_short = false;
  bool Contains(int64_t time) const { return time >= begin && time <= end; }
};

// Whether a look showed the target having read the request that ends at
// `request_end` on this connection (the bytes written on it up to the
// request's end): the socket was accept()ed and that many bytes were read.
bool HasRead(const LiveSocket& socket, uint64_t request_end);

// Whether an attempt that ended with `cause` lost work the target had taken:
// it accepted the connection and the request reached its socket (read or
// not), or it answered with a 5xx other than 503, or never answered.
bool IsDrop(Cause cause);
// Whether `cause` says the target never took the request: refused, reset
// in the accept queue, a connection closed before the request reached it,
// or answered 503.
bool IsRefusal(Cause cause);

// The server sockets the kernel showed, by the client port each served.
class SocketIndex {
 public:
  // Refers to `sockets`, which must outlive the index.
  explicit SocketIndex(const std::vector<ServerSocket>& sockets);
  // The socket that served the client connection on `port` around
  // [begin, end] (history times): of those with that peer port, the one
  // whose life is nearest that span (ports are reused by later
  // connections). nullptr if the kernel showed none.
  const ServerSocket* Find(uint16_t port, int64_t begin, int64_t end) const;

 private:
  std::unordered_multimap<uint16_t, const ServerSocket*> by_port_;
};

// KernelRecords with its sockets indexed.
struct KernelView {
  explicit KernelView(const KernelRecords& records) : records(records), sockets(records.sockets) {}
  const KernelRecords& records;
  SocketIndex sockets;
};

// The cause of attempt `a`. `kernel` is what the kernel showed (nullptr: no
// kernel view, so a reset or EOF is kNoKernelRecord, a 503 a plain 503);
// `previous` is the attempt before `a` on the same connection (nullptr if
// none); `drains` the run's drains.
Cause CauseOf(const Attempt& a, const Attempt* previous, const KernelView* kernel,
              const std::vector<DrainWindow>& drains);

// Sets the cause of every attempt of `history` (read after the load has
// stopped), as CauseOf(); `kernel` is nullptr when there was no kernel view.
void ClassifyAttempts(const KernelRecords* kernel, const std::vector<DrainWindow>& drains,
                      History* history);

}  // namespace lastcall

#endif  // LASTCALL_CAUSES_H_
