#include "check/causes.h"

#include <algorithm>
#include <optional>

namespace lastcall {

bool IsDrop(Cause cause) {
  switch (cause) {
    case Cause::kHttp5xx:
    case Cause::kHttp503InFlight:
    case Cause::kResetUnread:
    case Cause::kDroppedAfterRead:
    case Cause::kTimeout:
    case Cause::kBadResponse:
      return true;
    default:
      return false;
  }
}

bool IsRefusal(Cause cause) {
  switch (cause) {
    case Cause::kHttp503:
    case Cause::kRefused:
    case Cause::kConnectFailed:
    case Cause::kResetInAcceptQueue:
    case Cause::kClosedBeforeRequest:
    case Cause::kClosedIdleKeepAlive:
      return true;
    default:
      return false;
  }
}

bool HasRead(const LiveSocket& socket, uint64_t request_end) {
  return (socket.state == LiveSocket::kAccepted || socket.state == LiveSocket::kClosedByTarget) &&
         socket.bytes_read() >= request_end;
}

SocketIndex::SocketIndex(const std::vector<ServerSocket>& sockets) {
  by_port_.reserve(sockets.size());
  for (const ServerSocket& s : sockets)
    if (s.peer_port != 0) by_port_.emplace(s.peer_port, &s);
}

namespace {

// The span of history time the kernel showed the socket in: from its first
// look (or its destroy event, if no look caught it) to its destruction (or
// its last look).
std::pair<int64_t, int64_t> LifeOf(const ServerSocket& s) {
  int64_t first = s.first_seen >= 0 ? s.first_seen : s.destroyed_at;
  int64_t last = s.destroyed ? s.destroyed_at : s.last_seen;
  return {first, std::max(first, last)};
}

// How far apart two spans are; 0 when they overlap.
int64_t Gap(std::pair<int64_t, int64_t> a, std::pair<int64_t, int64_t> b) {
  if (a.second < b.first) return b.first - a.second;
  if (b.second < a.first) return a.first - b.second;
  return 0;
}

}  // namespace

const ServerSocket* SocketIndex::Find(uint16_t port, int64_t begin, int64_t end) const {
  const ServerSocket* best = nullptr;
  int64_t best_gap = INT64_MAX;
  auto [first, last] = by_port_.equal_range(port);
  for (auto it = first; it != last; ++it) {
    int64_t gap = Gap(LifeOf(*it->second), {begin, end});
    if (gap < best_gap || (gap == best_gap && best && LifeOf(*it->second) > LifeOf(*best))) {
      best = it->second;
      best_gap = gap;
    }
  }
  return best;
}

namespace {

// Whether `response` was written while the target knew it was draining:
// the kernel had not sent it by the first look after the drain of `drain`
// became visible (or, where that look did not see its connection, the
// client read it after that look). A response written between the signal
// and the target's reaction to it could not have said anything else.
bool WrittenWhileDraining(const Attempt& response, const DrainWindow& drain,
                          const KernelRecords& kernel) {
  for (const SignalSnapshot& visible : kernel.drains_visible) {
    if (visible.time < drain.begin || visible.time > drain.end) continue;
    if (const LiveSocket* s = visible.live.Find(response.local_port))
      return s->bytes_sent < response.response_end;
    return response.done > visible.time;
  }
  return false;
}

// Whether `previous`, the response before `a` on its connection, was
// written during a drain and said the connection could stay open: the
// client's next request on it is then the target's own keep-alive race,
// whatever the target did with its bytes (an event loop reads them into its
// buffer and drops them with the connection). Without a kernel view, the
// client's clock decides: the response came after the signal.
bool AfterKeepAliveInDrain(const Attempt& a, const Attempt* previous, const KernelView* kernel,
                           const std::vector<DrainWindow>& drains) {
  if (!a.reused_connection || !previous || previous->status == 0 || !previous->keep_alive)
    return false;
  return std::any_of(drains.begin(), drains.end(), [&](const DrainWindow& d) {
    return d.Contains(previous->done) &&
           (!kernel || WrittenWhileDraining(*previous, d, kernel->records));
  });
}

// The cause of a connection that ended without an answer after it was made:
// what the target's socket says of the request's bytes.
Cause KernelCause(const Attempt& a, const Attempt* previous, const KernelView* kernel,
                  const std::vector<DrainWindow>& drains) {
  if (AfterKeepAliveInDrain(a, previous, kernel, drains)) return Cause::kClosedAfterKeepAlive;
  const ServerSocket* s =
      kernel && a.local_port ? kernel->sockets.Find(a.local_port, a.send_start, a.done) : nullptr;
  if (!s) return Cause::kNoKernelRecord;
  // tcp_disconnect() clears the peer of a child that a closing listener
  // forgets; an accepted socket keeps it to the end.
  const bool accepted = s->seen_accepted || (s->destroyed && !s->destroyed_unaccepted);
  if (accepted && s->bytes_read() >= a.request_end) return Cause::kDroppedAfterRead;
  if (s->destroyed_unaccepted) return Cause::kResetInAcceptQueue;
  // Seen queued and never again: whether it was accepted in between is not
  // known.
  if (!accepted) return Cause::kNoKernelRecord;
  if (s->bytes_received <= a.request_end - a.request_size)
    return a.reused_connection ? Cause::kClosedIdleKeepAlive : Cause::kClosedBeforeRequest;
  return Cause::kResetUnread;
}

// Whether a look taken at a graceful signal during `a` showed its request
// read by the target.
bool ReadBeforeSignal(const Attempt& a, const KernelView& kernel) {
  for (const SignalSnapshot& snapshot : kernel.records.at_signals) {
    if (snapshot.time < a.send_start || snapshot.time >= a.done) continue;
    if (const LiveSocket* s = snapshot.live.Find(a.local_port))
      if (HasRead(*s, a.request_end)) return true;
  }
  return false;
}

}  // namespace

Cause CauseOf(const Attempt& a, const Attempt* previous, const KernelView* kernel,
              const std::vector<DrainWindow>& drains) {
  if (a.status == 503)
    return kernel && ReadBeforeSignal(a, *kernel) ? Cause::kHttp503InFlight : Cause::kHttp503;
  if (a.status >= 500) return Cause::kHttp5xx;
  if (a.status != 0) return Cause::kNone;
  switch (a.error) {
    case NetError::kNone:
      return Cause::kNone;
    case NetError::kRefused:
      return Cause::kRefused;
    case NetError::kConnect:
      return Cause::kConnectFailed;
    case NetError::kTimeout:
      return Cause::kTimeout;
    case NetError::kBadResponse:
      return Cause::kBadResponse;
    case NetError::kWriteFailed:
    case NetError::kReset:
    case NetError::kEof:
      break;
  }
  return KernelCause(a, previous, kernel, drains);
}

void ClassifyAttempts(const KernelRecords* records, const std::vector<DrainWindow>& drains,
                      History* history) {
  std::optional<KernelView> kernel;
  if (records) kernel.emplace(*records);
  for (size_t c = 0; c < history->all_attempts().size(); ++c) {
    std::vector<Attempt>& attempts = history->attempts(static_cast<int>(c));
    // A client holds one connection at a time: the attempt before on the
    // same connection is the one before in its list, if it shares its id.
    for (size_t i = 0; i < attempts.size(); ++i) {
      const Attempt* previous = i > 0 && attempts[i - 1].connection == attempts[i].connection
                                    ? &attempts[i - 1]
                                    : nullptr;
      attempts[i].cause = CauseOf(attempts[i], previous, kernel ? &*kernel : nullptr, drains);
    }
  }
}

}  // namespace lastcall
