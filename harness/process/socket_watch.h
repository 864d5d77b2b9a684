// The kernel's view of the target's side of every client connection. A look
// dumps, through NETLINK_SOCK_DIAG (inet_diag, what `ss` uses), the TCP
// sockets whose local port is the target's: handshakes the target's kernel
// has not completed, connections waiting in the listener's accept queue,
// connections the target has accepted (and how many request bytes it has
// read from each), connections it has closed, and whether a listener exists.
// Destroy events (the SKNLGRP_INET_TCP_DESTROY and SKNLGRP_INET6_TCP_DESTROY
// multicast groups) then say how each socket ended: how many bytes were left
// unread, and whether it died still in the accept queue. A client connection
// is matched with its server side by port (the client's local port is the
// server socket's peer port); ports are reused by later connections, so each
// record carries the times it was seen in. Both IPv4 and IPv6 sockets are
// watched: a target listening on `::` serves 127.0.0.1 with IPv6 sockets.
#ifndef LASTCALL_SOCKET_WATCH_H_
#define LASTCALL_SOCKET_WATCH_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/unique_fd.h"
#include "history/history.h"
#include "history/kernel_records.h"

struct nlmsghdr;

namespace lastcall {

// A time in which looks showed no listener on the port, after one had.
struct ListenerGap {
  int64_t last_seen = -1;      // the last look that showed a listener
  int64_t first_missing = -1;  // the first look that showed none
  int64_t back = -1;           // the first look that showed one again
};

struct SocketWatchOptions {
  // Subscribe to destroy events. Off, the watch works with looks alone.
  bool destroy_events = true;
  // The event socket's receive buffer, where events wait to be read: a
  // large one rides out a burst of closes while the watch thread looks.
  int event_buffer_bytes = 16 << 20;
};

class SocketWatch {
 public:
  // Called on the watch thread with what each look showed.
  using OnLook = std::function<void(const LiveTable&)>;
  // Called on the watch thread before each look: fills the peer ports (the
  // client connections' local ports) to look at.
  using PeerPorts = std::function<void(std::vector<uint16_t>*)>;

  // Opens the netlink sockets that watch the TCP port `port`, subscribes to
  // destroy events (if `options` wants them) and takes a first look. Returns
  // nullptr and sets *why when the kernel view is not available (no
  // NETLINK_SOCK_DIAG, inet_diag refused). Destroy events are optional: a
  // watch without them (not permitted, or not wanted) works with looks alone
  // and says why in stats(). `clock` gives the times and must outlive it.
  static std::unique_ptr<SocketWatch> Open(int port, const History* clock, std::string* why,
                                           const SocketWatchOptions& options = {});
  // Stops the watch thread if it runs.
  ~SocketWatch();
  SocketWatch(const SocketWatch&) = delete;
  SocketWatch& operator=(const SocketWatch&) = delete;

  // One look now: dumps the port's sockets, updates the records and fills
  // *live. Returns false (counted in stats()) when the dump failed; *live is
  // then empty. Thread-safe, with the watch thread too.
  bool Look(LiveTable* live);
  // A look at the connections from `peer_ports` only, one exact lookup each
  // in the kernel's hash table instead of a walk of all of it, and one for
  // the listener: what the watch thread does while the load runs. Records
  // of other ports are left as they were. Returns false as Look() does.
  // Thread-safe.
  bool LookAt(const std::vector<uint16_t>& peer_ports, LiveTable* live);

  // Starts a thread that looks every `interval` (or less often: never more
  // often than twice the time the last look took) and reads destroy events
  // as they come, until Stop(). After each look it calls `on_look` (if set)
  // with what the look showed; on_look runs on that thread, without the
  // watch's lock, and must be cheap: the longer it takes, the later the
  // next look. Does nothing while the thread runs; may start it again after
  // Stop().
  // With `peer_ports`, each look is a LookAt() the ports it gives; without,
  // a whole Look().
  void Start(std::chrono::microseconds interval, OnLook on_look, PeerPorts peer_ports = nullptr);
  // Stops and joins the thread; nothing if none runs.
  void Stop();

  // Takes a look, then waits until `deadline` for the destroy event of every
  // socket that an earlier look showed as a full socket and that look no
  // longer shows. Returns true when none is missing; false at the deadline,
  // when the look fails, or at once when destroy events are off and a socket
  // is missing. The fence before classifying: events come from a kernel
  // workqueue, after the socket has left the dump. A socket the target
  // closed after a FIN stays in the dump until the client acknowledges it,
  // now and then as a full FIN_WAIT2 socket until tcp_fin_timeout (60 s)
  // unless the client closes too; it is not waited for (its counts are
  // final: see seen_closed_by_target). Not to be called concurrently with
  // Start() or Stop().
  bool AwaitDestroyEvents(std::chrono::steady_clock::time_point deadline);

  // Every server socket seen or destroyed, in order of first sighting (a
  // destroy event without a look first counts as a sighting); a consistent
  // copy, also while the thread runs.
  std::vector<ServerSocket> Sockets() const;
  // The times in which looks showed no listener after one had, in order.
  std::vector<ListenerGap> ListenerGaps() const;
  SocketWatchStats stats() const;

 private:
  struct Record {
    ServerSocket socket;
    uint32_t last_look = 0;    // the number of the last look that showed it
    bool full_socket = false;  // a look showed more than a handshake
  };
  struct Sighting;

  SocketWatch(int port, const History* clock);
  // A whole look, or one at `peer_ports` only when given.
  bool LookLocked(LiveTable* live, const std::vector<uint16_t>* peer_ports = nullptr);
  int Dump(LiveTable* live);
  // Reads the dump socket's answers, passing each message to `on` until it
  // returns false. Returns 0, the errno of a failed read, or what `on` set.
  int ReadAnswers(const std::function<bool(const nlmsghdr*, int* error)>& on);
  // Observes the socket an answer describes, if it is one of the port's.
  void ObserveAnswer(const nlmsghdr* h, LiveTable* live);
  int Lookup(const std::vector<uint16_t>& peer_ports, LiveTable* live);
  int LookupBatch(const uint16_t* peer_ports, size_t count, LiveTable* live);
  void Observe(const Sighting& s, LiveTable* live);
  uint32_t RecordFor(uint64_t cookie);
  // Records the last look showed that this one did not (of `peer_ports`
  // only, when given) have vanished.
  void NoteVanished(int64_t now, const std::vector<uint16_t>* peer_ports);
  void NoteListener(bool listening, int64_t now);
  void DrainEventsLocked();
  void OnDestroyed(const Sighting& s, int64_t now);
  size_t MissingEventsLocked();
  void Run(std::chrono::microseconds interval, const OnLook& on_look, const PeerPorts& peer_ports);

  const int port_;
  const History* clock_;
  UniqueFd dump_fd_;
  UniqueFd event_fd_;  // invalid when destroy events are off
  UniqueFd wake_fd_;   // an eventfd that stops the thread
  std::thread thread_;

  // Guards everything below, and the reading of the netlink sockets.
  mutable std::mutex mu_;
  std::condition_variable events_read_;
  std::vector<char> buffer_;  // what a recv() on them gets
  uint32_t sequence_ = 0;     // of the last dump request
  std::vector<Record> records_;
  std::unordered_map<uint64_t, uint32_t> index_;  // cookie -> records_ index,
                                                  // for the undestroyed ones
  std::vector<uint32_t> alive_;                   // records the last look showed
  std::vector<uint32_t> seen_;                    // records the current look has shown
  std::vector<uint32_t> awaited_;                 // vanished, their event not yet read
  uint32_t looks_ = 0;
  bool listening_ = false;
  int64_t last_listening_ = -1;
  std::vector<ListenerGap> listener_gaps_;
  SocketWatchStats stats_;
  int64_t total_look_ns_ = 0;
  bool running_ = false;
};

}  // namespace lastcall

#endif  // LASTCALL_SOCKET_WATCH_H_
