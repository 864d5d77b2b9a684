#include "check/causes.h"

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "client/http_client.h"
#include "process/crafted_listener.h"

using namespace lastcall;
using namespace lastcall::crafted;

namespace {

constexpr int64_t kMs = 1000000;

// A request of 100 bytes on connection port 40000, written at 10 ms, ended
// without an answer (`error`) at 20 ms; the second on its connection when
// `reused`.
Attempt Failed(NetError error, bool reused = false) {
  Attempt a;
  a.local_port = 40000;
  a.reused_connection = reused;
  a.request_size = 100;
  a.request_end = reused ? 200 : 100;
  a.send_start = 10 * kMs;
  a.send_end = 10 * kMs;
  a.done = 20 * kMs;
  a.error = error;
  a.outcome = Classify(0, error);
  return a;
}

// The target's side of port 40000, seen from 5 ms.
ServerSocket Socket(bool accepted, uint64_t received, uint64_t unread) {
  ServerSocket s;
  s.peer_port = 40000;
  s.first_seen = 5 * kMs;
  s.last_seen = 15 * kMs;
  s.seen_accepted = accepted;
  s.seen_in_accept_queue = !accepted;
  s.destroyed = true;
  s.destroyed_at = 21 * kMs;
  s.bytes_received = received;
  s.unread = unread;
  return s;
}

Cause CauseWith(const Attempt& a, const std::vector<ServerSocket>& sockets,
                const Attempt* previous = nullptr, std::vector<DrainWindow> drains = {},
                const std::vector<SignalSnapshot>& at_signals = {},
                const std::vector<SignalSnapshot>& drains_visible = {}) {
  const KernelRecords records{sockets, at_signals, drains_visible};
  const KernelView kernel(records);
  return CauseOf(a, previous, &kernel, drains);
}

// A look at port 40000's connection, at `ms`, when the target had sent
// `sent` bytes on it.
SignalSnapshot LookAtMs(int64_t ms, uint64_t sent) {
  LiveSocket s;
  s.peer_port = 40000;
  s.state = LiveSocket::kAccepted;
  s.bytes_sent = sent;
  return SignalSnapshot{ms * kMs, LiveTable{ms * kMs, true, {s}}};
}

}  // namespace

TEST_CASE("causes from the answer and the client's own errors") {
  Attempt a;
  a.status = 201;
  CHECK(CauseOf(a, nullptr, nullptr, {}) == Cause::kNone);
  a.status = 503;
  CHECK(CauseOf(a, nullptr, nullptr, {}) == Cause::kHttp503);
  a.status = 502;
  CHECK(CauseOf(a, nullptr, nullptr, {}) == Cause::kHttp5xx);
  a.status = 0;
  a.error = NetError::kRefused;
  CHECK(CauseOf(a, nullptr, nullptr, {}) == Cause::kRefused);
  a.error = NetError::kTimeout;
  CHECK(CauseOf(a, nullptr, nullptr, {}) == Cause::kTimeout);
  // A reset without the kernel's view says nothing of the target's side.
  CHECK(CauseOf(Failed(NetError::kReset), nullptr, nullptr, {}) == Cause::kNoKernelRecord);
}

TEST_CASE("causes from the target's socket") {
  SECTION("destroyed in the accept queue: never accepted") {
    ServerSocket s = Socket(false, 0, 0);
    s.destroyed_unaccepted = true;
    CHECK(CauseWith(Failed(NetError::kReset), {s}) == Cause::kResetInAcceptQueue);
  }
  SECTION("seen queued, then nothing more: not known") {
    ServerSocket s = Socket(false, 100, 100);
    s.destroyed = false;
    CHECK(CauseWith(Failed(NetError::kReset), {s}) == Cause::kNoKernelRecord);
  }
  SECTION("accepted, the request in its socket, never read") {
    CHECK(CauseWith(Failed(NetError::kReset), {Socket(true, 100, 100)}) == Cause::kResetUnread);
    // Half of it read is not the request read.
    CHECK(CauseWith(Failed(NetError::kReset), {Socket(true, 100, 50)}) == Cause::kResetUnread);
  }
  SECTION("a destroy event that kept the peer port means accepted, even unseen by a look") {
    ServerSocket s = Socket(false, 100, 100);
    s.seen_in_accept_queue = false;
    s.first_seen = -1;
    CHECK(CauseWith(Failed(NetError::kReset), {s}) == Cause::kResetUnread);
  }
  SECTION("read, then closed without an answer") {
    CHECK(CauseWith(Failed(NetError::kEof), {Socket(true, 100, 0)}) == Cause::kDroppedAfterRead);
  }
  SECTION("closed before the request's bytes reached it") {
    CHECK(CauseWith(Failed(NetError::kEof), {Socket(true, 0, 0)}) == Cause::kClosedBeforeRequest);
    CHECK(CauseWith(Failed(NetError::kWriteFailed, true), {Socket(true, 100, 0)}) ==
          Cause::kClosedIdleKeepAlive);
  }
  SECTION("a port reused by a later connection: the socket nearest the attempt") {
    ServerSocket earlier = Socket(true, 100, 0);
    earlier.first_seen = 1 * kMs;
    earlier.last_seen = 2 * kMs;
    earlier.destroyed_at = 3 * kMs;
    ServerSocket later = Socket(true, 100, 100);
    CHECK(CauseWith(Failed(NetError::kReset), {earlier, later}) == Cause::kResetUnread);
    CHECK(CauseWith(Failed(NetError::kReset), {later, earlier}) == Cause::kResetUnread);
  }
  SECTION("another port's socket is no record") {
    ServerSocket s = Socket(true, 100, 0);
    s.peer_port = 40001;
    CHECK(CauseWith(Failed(NetError::kEof), {s}) == Cause::kNoKernelRecord);
  }
}

TEST_CASE("a reused connection after a drain-time keep-alive response") {
  Attempt previous;
  previous.status = 201;
  previous.keep_alive = true;
  previous.local_port = 40000;
  previous.response_end = 150;
  previous.done = 8 * kMs;
  const Attempt next = Failed(NetError::kReset, true);
  const std::vector<ServerSocket> unread = {Socket(true, 200, 100)};
  const DrainWindow drain{7 * kMs, 30 * kMs, 1, false};
  // The drain became visible at 7.5 ms; the response was not out yet then:
  // written while the target knew it drained.
  const SignalSnapshot visible = LookAtMs(7, 100);
  CHECK(CauseWith(next, unread, &previous, {drain}, {}, {visible}) == Cause::kClosedAfterKeepAlive);
  // Even read: an event loop reads what arrives and drops it with the
  // connection; the response before invited it.
  CHECK(CauseWith(next, {Socket(true, 200, 0)}, &previous, {drain}, {}, {visible}) ==
        Cause::kClosedAfterKeepAlive);
  // Without a kernel view, the client's clock decides.
  CHECK(CauseOf(next, &previous, nullptr, {drain}) == Cause::kClosedAfterKeepAlive);

  // A response the target had sent by the time its drain was visible (the
  // client read it after) could not have said otherwise: the plain race,
  // and a request that reached it a drop.
  const SignalSnapshot sent = LookAtMs(7, 150);
  CHECK(CauseWith(next, {Socket(true, 200, 0)}, &previous, {drain}, {}, {sent}) ==
        Cause::kDroppedAfterRead);
  CHECK(CauseWith(next, unread, &previous, {drain}, {}, {sent}) == Cause::kResetUnread);
  // So is any response of a drain the target never showed.
  CHECK(CauseWith(next, unread, &previous, {drain}) == Cause::kResetUnread);
  // Before the drain, or with Connection: close, it is the plain race.
  CHECK(CauseWith(next, {Socket(true, 100, 0)}, &previous, {}, {}, {visible}) ==
        Cause::kClosedIdleKeepAlive);
  previous.keep_alive = false;
  CHECK(CauseWith(next, {Socket(true, 100, 0)}, &previous, {drain}, {}, {visible}) ==
        Cause::kClosedIdleKeepAlive);
}

TEST_CASE("a 503 for a request read before the graceful signal is work abandoned") {
  Attempt a = Failed(NetError::kNone);
  a.status = 503;
  a.outcome = Classify(503, NetError::kNone);
  LiveSocket read;
  read.peer_port = 40000;
  read.state = LiveSocket::kAccepted;
  read.bytes_received = 100;
  SignalSnapshot at_signal{12 * kMs, LiveTable{12 * kMs, true, {read}}};
  CHECK(CauseWith(a, {}, nullptr, {}, {at_signal}) == Cause::kHttp503InFlight);
  // Not yet read at the signal: a refusal of new work.
  at_signal.live.sockets[0].unread = 1;
  CHECK(CauseWith(a, {}, nullptr, {}, {at_signal}) == Cause::kHttp503);
  // A signal before the request was sent says nothing of it.
  SignalSnapshot before{5 * kMs, LiveTable{5 * kMs, true, {read}}};
  CHECK(CauseWith(a, {}, nullptr, {}, {before}) == Cause::kHttp503);
  CHECK(CauseOf(a, nullptr, nullptr, {}) == Cause::kHttp503);
}

TEST_CASE("drops and refusals") {
  for (Cause c : {Cause::kResetUnread, Cause::kDroppedAfterRead, Cause::kHttp5xx,
                  Cause::kHttp503InFlight, Cause::kTimeout}) {
    CHECK(IsDrop(c));
    CHECK_FALSE(IsRefusal(c));
  }
  for (Cause c : {Cause::kRefused, Cause::kResetInAcceptQueue, Cause::kClosedIdleKeepAlive,
                  Cause::kClosedBeforeRequest, Cause::kHttp503}) {
    CHECK(IsRefusal(c));
    CHECK_FALSE(IsDrop(c));
  }
  for (Cause c : {Cause::kNone, Cause::kNoKernelRecord, Cause::kClosedAfterKeepAlive}) {
    CHECK_FALSE(IsDrop(c));
    CHECK_FALSE(IsRefusal(c));
  }
}

// End to end: lastcall's own client against crafted targets, the kernel's
// records from a real socket watch, each cause produced on purpose.
namespace {

// One round trip of lastcall's client on a thread of its own, while the
// test plays the target.
struct ClientCall {
  std::atomic<int64_t> ids{0};
  HttpConnection connection;
  Attempt attempt;
  std::thread thread;
  ClientCall(const Scene& scene)
      : connection(scene.listener.port, &ids), thread([this, &scene] {
          connection.RoundTrip(kRequest,
                               std::chrono::steady_clock::now() + std::chrono::seconds(10),
                               scene.clock, &attempt);
        }) {}
  ~ClientCall() {
    if (thread.joinable()) thread.join();
  }
  const Attempt& Ended() {
    thread.join();
    return attempt;
  }
};

// Looks until some server socket is in `state` with `unread` bytes.
bool LookUntilAny(Scene& scene, LiveSocket::State state, uint32_t unread) {
  return WaitUntil([&] {
    if (!scene.watch->Look(&scene.live)) return false;
    for (const LiveSocket& s : scene.live.sockets)
      if (s.state == state && s.unread == unread) return true;
    return false;
  });
}

// The cause the run would give `a`, once every destroy event has come.
Cause Classified(Scene& scene, const Attempt& a, const Attempt* previous = nullptr,
                 const std::vector<DrainWindow>& drains = {},
                 const std::vector<SignalSnapshot>& drains_visible = {}) {
  REQUIRE(scene.AwaitEvents());
  const KernelRecords records{scene.watch->Sockets(), {}, drains_visible};
  const KernelView kernel(records);
  return CauseOf(a, previous, &kernel, drains);
}

}  // namespace

TEST_CASE("Causes end to end: the listener closes with the request in its accept queue") {
  Scene scene;
  ClientCall call(scene);
  REQUIRE(LookUntilAny(scene, LiveSocket::kQueued, kRequest.size()));
  scene.listener.fd.reset();
  const Attempt& a = call.Ended();
  CHECK(a.error == NetError::kReset);
  CHECK(Classified(scene, a) == Cause::kResetInAcceptQueue);
  CHECK(IsRefusal(Cause::kResetInAcceptQueue));
}

TEST_CASE("Causes end to end: accepted, then closed with the request unread") {
  Scene scene;
  ClientCall call(scene);
  UniqueFd accepted = Accept(scene.listener);
  REQUIRE(LookUntilAny(scene, LiveSocket::kAccepted, kRequest.size()));
  accepted.reset();
  const Attempt& a = call.Ended();
  CHECK(a.error == NetError::kReset);
  CHECK(Classified(scene, a) == Cause::kResetUnread);
}

TEST_CASE("Causes end to end: the request read, then the connection closed unanswered") {
  Scene scene;
  ClientCall call(scene);
  UniqueFd accepted = Accept(scene.listener);
  ReadExactly(accepted.get(), kRequest.size());
  REQUIRE(LookUntilAny(scene, LiveSocket::kAccepted, 0));
  accepted.reset();
  const Attempt& a = call.Ended();
  CHECK(a.error == NetError::kEof);
  CHECK(Classified(scene, a) == Cause::kDroppedAfterRead);
}

TEST_CASE(
    "Causes end to end: an idle keep-alive connection closed as the next request is written") {
  // lastcall's client checks a kept-alive connection before reusing it, so
  // the race is played with a bare socket.
  Scene scene;
  scene.Connect();
  const int end = scene.CloseIdleUnderNextRequest();
  REQUIRE(scene.LookUntilGone());

  Attempt first;
  first.status = 201;
  first.keep_alive = true;
  first.done = scene.clock.Now() - 1000;
  Attempt second;
  second.local_port = scene.client.port;
  second.reused_connection = true;
  second.request_size = static_cast<uint32_t>(kRequest.size());
  second.request_end = 2 * kRequest.size();
  second.send_start = scene.clock.Now() - 500;
  second.done = scene.clock.Now();
  second.error = end == 0 ? NetError::kEof : NetError::kReset;
  CHECK(Classified(scene, second, &first) == Cause::kClosedIdleKeepAlive);
  // The same race after a response that came during a drain and kept the
  // connection alive is the target's own doing.
  const DrainWindow drain{first.done - 1, INT64_MAX, 1, false};
  const SignalSnapshot visible{first.done - 1, LiveTable{first.done - 1, false, {}}};
  CHECK(Classified(scene, second, &first, {drain}, {visible}) == Cause::kClosedAfterKeepAlive);
}
