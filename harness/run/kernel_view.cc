#include "run/kernel_view.h"

namespace lastcall {

namespace {

// How often the socket watch looks at the target's sockets: an `in_flight`
// trigger fires within about this much of the moment.
constexpr std::chrono::microseconds kLookInterval{500};

// The look the socket watch thread is handling, while it counts in_flight:
// a signal that count fires is delivered on that thread, and that look is
// the moment's snapshot.
thread_local const LiveTable* look_in_hand = nullptr;

}  // namespace

std::unique_ptr<KernelWatch> KernelWatch::Open(int port, History* history, Nemesis* nemesis,
                                               Load* load, KernelRecords* records,
                                               std::string* why_not) {
  std::unique_ptr<SocketWatch> sockets = SocketWatch::Open(port, history, why_not);
  if (!sockets) return nullptr;
  nemesis->CountInFlightByKernel();
  return std::unique_ptr<KernelWatch>(
      new KernelWatch(std::move(sockets), history, nemesis, load, records));
}

KernelWatch::KernelWatch(std::unique_ptr<SocketWatch> sockets, History* history, Nemesis* nemesis,
                         Load* load, KernelRecords* records)
    : sockets_(std::move(sockets)),
      history_(history),
      nemesis_(nemesis),
      load_(load),
      records_(records) {}

void KernelWatch::Start() {
  sockets_->Start(
      kLookInterval, [this](const LiveTable& live) { CountInFlight(live); },
      [this](std::vector<uint16_t>* ports) { load_->ConnectionPorts(ports); });
}

void KernelWatch::CountInFlight(const LiveTable& live) {
  // A listener gone is a drain begun; the first look from the moment a
  // drain became visible is kept.
  if (!live.listening) nemesis_->OnTurnedAway(live.time);
  int64_t visible = drain_visible_at_.load();
  if (visible >= 0 && live.time >= visible &&
      drain_visible_at_.compare_exchange_strong(visible, -1)) {
    std::lock_guard<std::mutex> lock(drains_mutex_);
    records_->drains_visible.push_back({live.time, live});
  }
  look_in_hand = &live;
  nemesis_->OnInFlight(load_->CountOutstanding([&](uint16_t port, uint64_t request_end) {
    const LiveSocket* s = live.Find(port);
    return s && HasRead(*s, request_end);
  }));
  look_in_hand = nullptr;
}

void KernelWatch::SnapshotAtSignal() {
  SignalSnapshot snapshot;
  snapshot.time = history_->Now();
  if (look_in_hand) {
    snapshot.live = *look_in_hand;
  } else {
    std::vector<uint16_t> ports;
    load_->ConnectionPorts(&ports);
    sockets_->LookAt(ports, &snapshot.live);
  }
  records_->at_signals.push_back(std::move(snapshot));
}

void KernelWatch::Close() {
  if (!sockets_->AwaitDestroyEvents(std::chrono::steady_clock::now() + std::chrono::seconds(1)))
    history_->Record("socket_watch", "some sockets' destroy events never came");
  sockets_->Stop();
}

SocketWatchStats KernelWatch::KeepSockets() {
  records_->sockets = sockets_->Sockets();
  return sockets_->stats();
}

}  // namespace lastcall
