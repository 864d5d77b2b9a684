#include "run/run_case.h"

namespace lastcall {

void RunCase::OpenSocketWatch() {
  if (behind_load_balancer()) {
    record_.kernel_view_missing =
        "behind the load balancer, the target's sockets are HAProxy's connections, not the "
        "clients'";
    return;
  }
  sockets_ = SocketWatch::Open(launch_.port, &history_, &record_.kernel_view_missing);
  if (!sockets_) return;
  nemesis_->CountInFlightByKernel();
  // sockets_ goes first when the run ends: a signal a client thread sends
  // after that has no look to keep.
  fleet_->OnGracefulSignal([this] {
    if (sockets_) SnapshotAtSignal();
  });
}

namespace {
// The look the socket watch thread is handling, while it counts in_flight:
// a signal that count fires is delivered on that thread, and that look is
// the moment's snapshot.
thread_local const LiveTable* look_in_hand = nullptr;
}  // namespace

void RunCase::CountInFlight(const LiveTable& live) {
  // A listener gone is a drain begun; the first look from the moment a
  // drain became visible is kept.
  if (!live.listening) nemesis_->OnTurnedAway(live.time);
  int64_t visible = drain_visible_at_.load();
  if (visible >= 0 && live.time >= visible && drain_visible_at_.compare_exchange_strong(visible, -1)) {
    std::lock_guard<std::mutex> lock(kernel_mutex_);
    record_.kernel.drains_visible.push_back({live.time, live});
  }
  look_in_hand = &live;
  nemesis_->OnInFlight(load_->CountOutstanding([&](uint16_t port, uint64_t request_end) {
    const LiveSocket* s = live.Find(port);
    return s && HasRead(*s, request_end);
  }));
  look_in_hand = nullptr;
}

void RunCase::SnapshotAtSignal() {
  SignalSnapshot snapshot;
  snapshot.time = history_.Now();
  if (look_in_hand) {
    snapshot.live = *look_in_hand;
  } else {
    std::vector<uint16_t> ports;
    load_->ConnectionPorts(&ports);
    sockets_->LookAt(ports, &snapshot.live);
  }
  record_.kernel.at_signals.push_back(std::move(snapshot));
}

void RunCase::CloseSocketWatch() {
  if (!sockets_) return;
  if (!sockets_->AwaitDestroyEvents(Clock::now() + std::chrono::seconds(1)))
    history_.Record("socket_watch", "some sockets' destroy events never came");
  sockets_->Stop();
}

}  // namespace lastcall
