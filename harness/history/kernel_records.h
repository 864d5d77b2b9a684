// What the kernel showed of the target's side of the run's client
// connections: each server socket's life and byte counts, the looks taken
// at moments that matter, and the figures of the watch that took them.
// process/socket_watch.h fills these records; the causes and the reports
// read them, without anything that watches a socket.
#ifndef LASTCALL_HISTORY_KERNEL_RECORDS_H_
#define LASTCALL_HISTORY_KERNEL_RECORDS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace lastcall {

// A client's request bytes without its FIN (see ReceivedBytes).
struct DataBytes {
  uint64_t received = 0;  // the bytes that reached the target's socket
  uint64_t read = 0;      // of those, the ones the target read
  uint64_t unread = 0;    // and the ones it left unread
  bool fin = false;       // the client's FIN reached the socket too
};

// What the kernel counted of the bytes a client sent on one connection, on
// the target's side. The kernel counts the client's FIN as one byte, since
// it takes a sequence number (tcp_rcv_nxt_update): in bytes_received, and
// in unread until the target reads the end of stream. Only the client can
// say whether it sent one, by how much it wrote: WithoutFin().
struct ReceivedBytes {
  uint64_t bytes_received = 0;  // every byte that reached the socket
  uint32_t unread = 0;          // of those, the ones the target had not read

  // The bytes the target read: bytes_received - unread.
  uint64_t bytes_read() const { return unread > bytes_received ? 0 : bytes_received - unread; }
  // The counts without the FIN, for a client that wrote `client_wrote`
  // bytes on the connection: more received means that the FIN came, last.
  DataBytes WithoutFin(uint64_t client_wrote) const;
};

// The target's side of one client connection, as the kernel showed it. Times
// are History times (ns since the run's epoch); -1 = never. A look's time is
// when its dump was asked for: what it showed was true at some moment between
// then and the end of the look (SocketWatchStats::max_look_us later at most).
// The byte counts are the last look's, or the destroy event's once destroyed.
struct ServerSocket : ReceivedBytes {
  uint64_t cookie = 0;     // the kernel's socket cookie, unique per boot
  uint16_t peer_port = 0;  // the client's local port; 0 if never learned
  // A look showed its handshake pending (SYN_RECV): the client thinks it is
  // connected, but the target's kernel has not made a socket for it yet
  // (the accept queue was full, or TCP_DEFER_ACCEPT waits for data).
  bool seen_in_handshake = false;
  // A look showed it waiting for accept() (no inode), or in its handshake.
  bool seen_in_accept_queue = false;
  // A look showed an inode: the target had accept()ed it and held it.
  bool seen_accepted = false;
  // A look showed it after the target had closed it (no inode, its FIN
  // sent: the kernel finishing the close of an orphan). Its counts were
  // final then, but for the client's FIN: the target reads no more, and
  // tcp_close purged the rest.
  bool seen_closed_by_target = false;
  bool destroyed = false;  // its destroy event arrived
  // Destroyed while still in the accept queue: the listener closed (or the
  // process holding it exited) before accept(). tcp_disconnect cleared its
  // peer port and byte counts, so peer_port and the counts are the last
  // look's.
  bool destroyed_unaccepted = false;
  int64_t first_seen = -1;  // the first look that showed it alive
  int64_t last_seen = -1;   // the last look that showed it alive
  // The first look, after one that showed it, that no longer did: it was
  // destroyed or about to be (a socket the client reset leaves the dump at
  // once but is destroyed only when the target closes it).
  int64_t vanished_at = -1;
  // When its destroy event was read: by the watch thread as soon as it
  // came, else by the next AwaitDestroyEvents().
  int64_t destroyed_at = -1;
};

// What a look showed of one server socket that was alive.
struct LiveSocket : ReceivedBytes {
  enum State : uint8_t {
    kHandshake,       // SYN_RECV: no socket yet, see seen_in_handshake
    kQueued,          // in the accept queue
    kAccepted,        // accept()ed and held by the target
    kClosedByTarget,  // closed by the target, the kernel finishing it
  };
  uint16_t peer_port = 0;
  State state = kHandshake;
  // Every byte the target had sent on it (tcpi_bytes_sent): with the bytes
  // the client had received on the connection up to a response's end, it
  // says whether that response was out before a look.
  uint64_t bytes_sent = 0;
};

// Everything one look showed.
struct LiveTable {
  int64_t time = -1;                // the look's time
  bool listening = false;           // a listener on the port existed
  std::vector<LiveSocket> sockets;  // sorted by peer port

  // The socket whose peer port is `peer_port`, or nullptr.
  const LiveSocket* Find(uint16_t peer_port) const;
};

// The figures of the watch that took the looks (SocketWatch::stats()).
struct SocketWatchStats {
  int64_t looks = 0;
  int64_t look_errors = 0;
  std::string last_error;  // of a look, or of reading events
  double mean_look_us = 0;
  int64_t max_look_us = 0;
  int64_t max_gap_us = 0;  // the longest time between two looks of Start()
  bool destroy_events = false;
  std::string no_events_why;  // why destroy events are off
  int64_t events = 0;         // destroy events read for the port's sockets
  // Times the kernel dropped destroy events because the buffer was full
  // (ENOBUFS); each time, one event or more is lost.
  int64_t event_overflows = 0;
  int64_t sockets = 0;  // records kept
};

// What the target had read when a graceful signal went out: a look at its
// sockets taken just before kill(2). A request read by then was in flight
// at the signal, and must be finished, not answered 503.
struct SignalSnapshot {
  int64_t time = 0;  // history time of the signal
  LiveTable live;
};

// What the kernel showed of a run.
struct KernelRecords {
  std::vector<ServerSocket> sockets;  // every server socket of the target's port
  // The looks taken as each graceful signal went out.
  std::vector<SignalSnapshot> at_signals;
  // The first look after each drain became visible: after a graceful
  // signal, a client saw the target turn work away (a refused connect(), a
  // `Connection: close`). A response the target had not sent by then was
  // written while it knew it was draining.
  std::vector<SignalSnapshot> drains_visible;
};

}  // namespace lastcall

#endif  // LASTCALL_HISTORY_KERNEL_RECORDS_H_
