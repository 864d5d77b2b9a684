#include "process/socket_watch.h"

#include <errno.h>
#include <poll.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <functional>
#include <system_error>

#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "base/errno_text.h"

namespace lastcall {

using Clock = std::chrono::steady_clock;

namespace {

// The kernel's TCP states (include/net/tcp_states.h), as inet_diag reports
// them; no uapi header has them, and <netinet/tcp.h>, which does, clashes
// with <linux/tcp.h>.
enum KernelTcpState : uint8_t {
  kEstablished = 1,
  kSynRecv = 3,
  kFinWait1 = 4,
  kFinWait2 = 5,
  kCloseWait = 8,
  kLastAck = 9,
  kListen = 10,
  kClosing = 11,
  kNewSynRecv = 12,
};

// Every state a server socket is dumped in but TIME_WAIT (a mini-socket:
// its full socket is destroyed already) and CLOSE (unhashed, never dumped).
// SYN_RECV asks for the request sockets of pending handshakes too
// (TCP_NEW_SYN_RECV); FIN_WAIT2 brings timewait mini-sockets in that
// substate, which Classify() skips.
constexpr uint32_t kDumpedStates = (1u << kEstablished) | (1u << kSynRecv) | (1u << kNewSynRecv) |
                                   (1u << kFinWait1) | (1u << kFinWait2) | (1u << kCloseWait) |
                                   (1u << kLastAck) | (1u << kListen) | (1u << kClosing);

// One recv()'s room: more than the 32 KiB a dump's skbs hold at most
// (netlink_dump), so that none is truncated.
constexpr size_t kBufferBytes = 64 * 1024;

// A look that takes longer means the kernel is not answering: an error,
// never a verdict.
constexpr int kDumpTimeoutSeconds = 5;

// An inet_diag dump request: the port's sockets in kDumpedStates, with their
// tcp_info, IPv4 and IPv6 alike. TCPDIAG_GETSOCK, the request inet_diag kept
// from tcpdiag, dumps both families in one walk of the kernel's TCP hash
// table (inet_diag_dump_compat asks for AF_UNSPEC), where
// SOCK_DIAG_BY_FAMILY walks it once per family; the walk of all its buckets
// is most of a look's cost, whatever the port holds.
struct DumpRequest {
  nlmsghdr header;
  inet_diag_req request;
  nlattr bytecode_header;
  inet_diag_bc_op bytecode[4];
};
static_assert(offsetof(DumpRequest, bytecode_header) == NLMSG_LENGTH(sizeof(inet_diag_req)),
              "the bytecode attribute follows the request, unpadded");

DumpRequest MakeDumpRequest(uint16_t port, uint32_t sequence) {
  DumpRequest r{};
  r.header.nlmsg_len = sizeof r;
  r.header.nlmsg_type = TCPDIAG_GETSOCK;
  r.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  r.header.nlmsg_seq = sequence;
  r.request.idiag_ext = 1 << (INET_DIAG_INFO - 1);
  r.request.idiag_states = kDumpedStates;
  r.bytecode_header.nla_len = NLA_HDRLEN + sizeof r.bytecode;
  r.bytecode_header.nla_type = INET_DIAG_REQ_BYTECODE;
  // local port >= port && local port <= port, run by the kernel on each
  // socket (inet_diag_bc_run), so that the machine's other sockets are never
  // copied out. A "no" jump to the end + 4 rejects; running off the end
  // accepts. S_GE/S_LE rather than S_EQ: kernels before 4.16 lack S_EQ.
  const unsigned short length = sizeof r.bytecode;
  r.bytecode[0] = {INET_DIAG_BC_S_GE, 8, static_cast<unsigned short>(length + 4)};
  r.bytecode[1] = {0, 0, port};
  r.bytecode[2] = {INET_DIAG_BC_S_LE, 8, static_cast<unsigned short>(length - 8 + 4)};
  r.bytecode[3] = {0, 0, port};
  return r;
}

// One exact inet_diag request: the socket whose local end is
// 127.0.0.1:`port` and whose peer is 127.0.0.1:`peer_port`, with its
// tcp_info. The kernel looks it up in its established hash
// (inet_diag_find_one_icsk): a hash lookup where a dump walks every bucket,
// so a look at the load's own connections costs microseconds where a dump
// costs milliseconds. IPv4 lookups find the IPv4-mapped connections of a
// dual-stack listener too (inet_lookup matches addresses and ports, not the
// family). With no such connection, the lookup falls back to the port's
// listener; with neither, the answer is an ENOENT error.
struct ExactRequest {
  nlmsghdr header;
  inet_diag_req request;
};

// Exact requests sent at once. Their answers wait in the socket's receive
// buffer until read: small batches keep them well within it.
constexpr size_t kLookupBatch = 64;

ExactRequest MakeExactRequest(uint16_t port, uint16_t peer_port, uint32_t sequence) {
  ExactRequest r{};
  r.header.nlmsg_len = sizeof r;
  r.header.nlmsg_type = TCPDIAG_GETSOCK;
  r.header.nlmsg_flags = NLM_F_REQUEST;
  r.header.nlmsg_seq = sequence;
  r.request.idiag_family = AF_INET;
  r.request.idiag_ext = 1 << (INET_DIAG_INFO - 1);
  r.request.id.idiag_sport = htons(port);
  r.request.id.idiag_dport = htons(peer_port);
  r.request.id.idiag_src[0] = htonl(INADDR_LOOPBACK);
  r.request.id.idiag_dst[0] = htonl(INADDR_LOOPBACK);
  r.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  r.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  return r;
}

// Keeps the port's destroy events only: the kernel sends one for every TCP
// socket of the network namespace, and on a busy machine the others would
// fill the buffer (ENOBUFS) for nothing. Each multicast skb holds a single
// message (sock_diag_broadcast_destroy_work), so the local port is at a
// fixed offset; BPF_ABS loads are big-endian, as idiag_sport is.
bool AttachPortFilter(int fd, uint16_t port) {
  constexpr uint32_t kSportOffset = NLMSG_HDRLEN + offsetof(inet_diag_msg, id.idiag_sport);
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, kSportOffset),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  sock_fprog program{sizeof code / sizeof code[0], code};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) == 0;
}

// A netlink socket bound to the destroy-event groups of TCP over IPv4 and
// IPv6. Returns an invalid fd and sets *why when the kernel refuses.
UniqueFd SubscribeToDestroyEvents(uint16_t port, int buffer_bytes, std::string* why) {
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG));
  if (!fd.valid()) {
    *why = "no NETLINK_SOCK_DIAG socket: " + ErrnoText(errno);
    return UniqueFd();
  }
  // Bound, it gets a port id: the kernel sends its multicasts from port id
  // 0 and skips a member with that id (do_one_broadcast).
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    *why = "cannot bind a NETLINK_SOCK_DIAG socket: " + ErrnoText(errno);
    return UniqueFd();
  }
  for (int group : {SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET6_TCP_DESTROY}) {
    if (setsockopt(fd.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0) {
      *why = "cannot join the TCP destroy-event group " + std::to_string(group) + ": " +
             ErrnoText(errno);
      return UniqueFd();
    }
  }
  // SO_RCVBUFFORCE passes net.core.rmem_max but needs CAP_NET_ADMIN.
  if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer_bytes, sizeof buffer_bytes) != 0)
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
  // Without the filter, the port check in DrainEventsLocked() still holds.
  AttachPortFilter(fd.get(), port);
  return fd;
}

timespec ToTimespec(Clock::duration d) {
  if (d < Clock::duration::zero()) d = Clock::duration::zero();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

// Waits for `fds` until `deadline`; returns what ppoll() returns.
int PollUntil(pollfd* fds, nfds_t count, Clock::time_point deadline) {
  timespec timeout = ToTimespec(deadline - Clock::now());
  return ppoll(fds, count, &timeout, nullptr);
}

bool IsSet(const uint32_t (&address)[4]) {
  return (address[0] | address[1] | address[2] | address[3]) != 0;
}

}  // namespace

// What one inet_diag message (a dump's or a destroy event's) says about one
// socket.
struct SocketWatch::Sighting : ReceivedBytes {
  uint64_t cookie = 0;
  uint16_t local_port = 0;
  uint16_t peer_port = 0;
  uint8_t state = 0;
  bool inode = false;         // a struct socket holds it: accepted
  bool full = false;          // a full socket: tcp_info came (request and
                              // timewait mini-sockets have none)
  bool peer_address = false;  // a listener has none
  uint64_t bytes_sent = 0;    // tcpi_bytes_sent (Linux 4.19)

  // Fills the fields from `h`, an inet_diag message; false when it is too
  // short to be one.
  bool Read(const nlmsghdr* h) {
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) return false;
    const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
    cookie = m->id.idiag_cookie[0] | uint64_t{m->id.idiag_cookie[1]} << 32;
    local_port = ntohs(m->id.idiag_sport);
    peer_port = ntohs(m->id.idiag_dport);
    state = m->idiag_state;
    inode = m->idiag_inode != 0;
    peer_address = IsSet(m->id.idiag_dst);
    unread = m->idiag_rqueue;
    ReadAttributes(reinterpret_cast<const char*>(m) + NLMSG_ALIGN(sizeof *m),
                   static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_SPACE(sizeof *m)));
    return true;
  }

  void ReadAttributes(const char* at, int left) {
    while (left >= static_cast<int>(NLA_HDRLEN)) {
      const auto* a = reinterpret_cast<const nlattr*>(at);
      if (a->nla_len < NLA_HDRLEN || a->nla_len > left) return;
      if ((a->nla_type & NLA_TYPE_MASK) == INET_DIAG_INFO) ReadTcpInfo(a);
      left -= NLA_ALIGN(a->nla_len);
      at += NLA_ALIGN(a->nla_len);
    }
  }

  // An older kernel sends a shorter struct tcp_info; bytes_received came in
  // 4.1.
  void ReadTcpInfo(const nlattr* a) {
    full = true;
    tcp_info info{};
    std::memcpy(&info, reinterpret_cast<const char*>(a) + NLA_HDRLEN,
                std::min<size_t>(a->nla_len - NLA_HDRLEN, sizeof info));
    bytes_received = info.tcpi_bytes_received;
    bytes_sent = info.tcpi_bytes_sent;
  }
};

SocketWatch::SocketWatch(int port, const History* clock)
    : port_(port), clock_(clock), buffer_(kBufferBytes) {}

SocketWatch::~SocketWatch() { Stop(); }

std::unique_ptr<SocketWatch> SocketWatch::Open(int port, const History* clock, std::string* why,
                                               const SocketWatchOptions& options) {
  if (port <= 0 || port > 65535) {
    *why = "no TCP port " + std::to_string(port);
    return nullptr;
  }
  std::unique_ptr<SocketWatch> watch(new SocketWatch(port, clock));
  watch->dump_fd_.reset(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!watch->dump_fd_.valid()) {
    *why = "no NETLINK_SOCK_DIAG socket: " + ErrnoText(errno);
    return nullptr;
  }
  watch->wake_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!watch->wake_fd_.valid()) {
    *why = "no eventfd for the watch thread: " + ErrnoText(errno);
    return nullptr;
  }
  timeval timeout{kDumpTimeoutSeconds, 0};
  setsockopt(watch->dump_fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  // Subscribed before the first look, so that no socket a look shows can
  // be destroyed unheard.
  if (options.destroy_events) {
    watch->event_fd_ = SubscribeToDestroyEvents(
        static_cast<uint16_t>(port), options.event_buffer_bytes, &watch->stats_.no_events_why);
  } else {
    watch->stats_.no_events_why = "not wanted";
  }
  watch->stats_.destroy_events = watch->event_fd_.valid();

  LiveTable first;
  if (!watch->Look(&first)) {
    *why = "the kernel refused a socket dump (inet_diag): " + watch->stats_.last_error;
    return nullptr;
  }
  return watch;
}

bool SocketWatch::Look(LiveTable* live) {
  std::lock_guard<std::mutex> lock(mu_);
  return LookLocked(live);
}

bool SocketWatch::LookAt(const std::vector<uint16_t>& peer_ports, LiveTable* live) {
  std::lock_guard<std::mutex> lock(mu_);
  return LookLocked(live, &peer_ports);
}

bool SocketWatch::LookLocked(LiveTable* live, const std::vector<uint16_t>* peer_ports) {
  const Clock::time_point start = Clock::now();
  live->time = clock_->Now();
  live->listening = false;
  live->sockets.clear();
  ++looks_;
  seen_.clear();
  const int error = peer_ports ? Lookup(*peer_ports, live) : Dump(live);
  const int64_t took_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
  ++stats_.looks;
  total_look_ns_ += took_ns;
  stats_.max_look_us = std::max(stats_.max_look_us, took_ns / 1000);
  if (error != 0) {
    // A partial dump says nothing of the sockets it did not reach.
    ++stats_.look_errors;
    stats_.last_error = "socket dump: " + ErrnoText(error);
    live->sockets.clear();
    return false;
  }
  NoteVanished(live->time, peer_ports);
  // An exact look shows the listener only where a peer port had no socket.
  if (!peer_ports) NoteListener(live->listening, live->time);
  std::sort(live->sockets.begin(), live->sockets.end(),
            [](const LiveSocket& a, const LiveSocket& b) { return a.peer_port < b.peer_port; });
  return true;
}

int SocketWatch::ReadAnswers(const std::function<bool(const nlmsghdr*, int* error)>& on) {
  for (;;) {
    ssize_t n = recv(dump_fd_.get(), buffer_.data(), buffer_.size(), MSG_TRUNC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (static_cast<size_t>(n) > buffer_.size()) return EMSGSIZE;
    int left = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buffer_.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      int error = 0;
      if (!on(h, &error)) return error;
    }
  }
}

void SocketWatch::ObserveAnswer(const nlmsghdr* h, LiveTable* live) {
  Sighting s;
  if (h->nlmsg_type == TCPDIAG_GETSOCK && s.Read(h) && s.local_port == port_) Observe(s, live);
}

int SocketWatch::Dump(LiveTable* live) {
  const DumpRequest request = MakeDumpRequest(static_cast<uint16_t>(port_), ++sequence_);
  if (send(dump_fd_.get(), &request, sizeof request, 0) != sizeof request) return errno;
  return ReadAnswers([&](const nlmsghdr* h, int* error) {
    // What is left of a dump abandoned on an error.
    if (h->nlmsg_seq != sequence_) return true;
    if (h->nlmsg_type == NLMSG_DONE) return false;
    if (h->nlmsg_type == NLMSG_ERROR) {
      const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
      *error = e->error < 0 ? -e->error : EPROTO;
      return false;
    }
    ObserveAnswer(h, live);
    return true;
  });
}

int SocketWatch::Lookup(const std::vector<uint16_t>& peer_ports, LiveTable* live) {
  // Peer port 0 is no connection's: its lookup falls back to the listener,
  // which says whether one is there.
  const uint16_t listener_probe = 0;
  if (int error = LookupBatch(&listener_probe, 1, live)) return error;
  for (size_t from = 0; from < peer_ports.size(); from += kLookupBatch) {
    const size_t to = std::min(peer_ports.size(), from + kLookupBatch);
    if (int error = LookupBatch(&peer_ports[from], to - from, live)) return error;
  }
  return 0;
}

int SocketWatch::LookupBatch(const uint16_t* peer_ports, size_t count, LiveTable* live) {
  // One send for the batch: the kernel answers each message of the buffer
  // in turn (netlink_rcv_skb), with its socket or an error.
  ExactRequest requests[kLookupBatch] = {};
  const uint32_t first = sequence_ + 1;
  for (size_t i = 0; i < count; ++i)
    requests[i] = MakeExactRequest(static_cast<uint16_t>(port_), peer_ports[i], ++sequence_);
  const size_t bytes = count * sizeof(ExactRequest);
  if (send(dump_fd_.get(), requests, bytes, 0) != static_cast<ssize_t>(bytes)) return errno;
  size_t answered = 0;
  return ReadAnswers([&](const nlmsghdr* h, int* error) {
    if (h->nlmsg_seq < first || h->nlmsg_seq > sequence_) return true;  // an earlier look's
    ++answered;
    if (h->nlmsg_type == NLMSG_ERROR) {
      const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
      // No such connection and no listener: nothing to see.
      if (e->error != 0 && e->error != -ENOENT) {
        *error = -e->error;
        return false;
      }
    } else {
      ObserveAnswer(h, live);
    }
    return answered < count;
  });
}

namespace {

// Where a dumped socket stands; false for a timewait mini-socket, which has
// no tcp_info and no more to say: its full socket is destroyed, and its
// destroy event sent, already.
bool Classify(bool inode, bool full, uint8_t state, LiveSocket::State* out) {
  if (!full) {
    *out = LiveSocket::kHandshake;
    return state == kSynRecv;
  }
  if (inode) {
    *out = LiveSocket::kAccepted;
    return true;
  }
  // No struct socket: in the accept queue, or orphaned by the target's
  // close() (which sends a FIN first: FIN_WAIT1, then FIN_WAIT2 or CLOSING;
  // LAST_ACK after the client's FIN).
  const bool closing =
      state == kFinWait1 || state == kFinWait2 || state == kClosing || state == kLastAck;
  *out = closing ? LiveSocket::kClosedByTarget : LiveSocket::kQueued;
  return true;
}

}  // namespace

void SocketWatch::Observe(const Sighting& s, LiveTable* live) {
  if (s.state == kListen) {
    live->listening = true;
    return;
  }
  LiveSocket::State state;
  if (!Classify(s.inode, s.full, s.state, &state)) return;
  const uint32_t index = RecordFor(s.cookie);
  Record& r = records_[index];
  ServerSocket& socket = r.socket;
  if (s.peer_port != 0) socket.peer_port = s.peer_port;
  if (socket.first_seen < 0) socket.first_seen = live->time;
  socket.last_seen = live->time;
  socket.seen_in_handshake |= state == LiveSocket::kHandshake;
  socket.seen_in_accept_queue |= state == LiveSocket::kHandshake || state == LiveSocket::kQueued;
  socket.seen_accepted |= state == LiveSocket::kAccepted;
  socket.seen_closed_by_target |= state == LiveSocket::kClosedByTarget;
  r.full_socket |= state != LiveSocket::kHandshake;
  static_cast<ReceivedBytes&>(socket) = s;
  if (r.last_look != looks_) {
    r.last_look = looks_;
    seen_.push_back(index);
  }
  LiveSocket& shown = live->sockets.emplace_back();
  static_cast<ReceivedBytes&>(shown) = s;
  shown.bytes_sent = s.bytes_sent;
  shown.peer_port = s.peer_port;
  shown.state = state;
}

uint32_t SocketWatch::RecordFor(uint64_t cookie) {
  auto [it, added] = index_.emplace(cookie, static_cast<uint32_t>(records_.size()));
  if (added) {
    records_.emplace_back();
    records_.back().socket.cookie = cookie;
  }
  return it->second;
}

void SocketWatch::NoteVanished(int64_t now, const std::vector<uint16_t>* peer_ports) {
  for (uint32_t index : alive_) {
    Record& r = records_[index];
    if (r.last_look == looks_) continue;
    // A look at some peer ports says nothing of the others: still alive.
    if (peer_ports && std::find(peer_ports->begin(), peer_ports->end(), r.socket.peer_port) ==
                          peer_ports->end()) {
      r.last_look = looks_;
      seen_.push_back(index);
      continue;
    }
    r.socket.vanished_at = now;
    // A request socket leaves no event: only full sockets are destroyed
    // through __sk_free, which broadcasts.
    if (!r.socket.destroyed && r.full_socket) awaited_.push_back(index);
  }
  alive_.swap(seen_);
}

void SocketWatch::NoteListener(bool listening, int64_t now) {
  if (listening_ && !listening) listener_gaps_.push_back({last_listening_, now, -1});
  if (!listening_ && listening && !listener_gaps_.empty()) listener_gaps_.back().back = now;
  if (listening) last_listening_ = now;
  listening_ = listening;
}

void SocketWatch::DrainEventsLocked() {
  if (!event_fd_.valid()) return;
  const int64_t events_before = stats_.events;
  for (;;) {
    ssize_t n = recv(event_fd_.get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOBUFS) {
      // The kernel dropped events for want of room; the socket stays good.
      ++stats_.event_overflows;
      continue;
    }
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        stats_.last_error = "reading destroy events: " + ErrnoText(errno);
      break;
    }
    const int64_t now = clock_->Now();
    int left = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buffer_.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      Sighting s;
      if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && s.Read(h) && s.local_port == port_)
        OnDestroyed(s, now);
    }
  }
  if (stats_.events != events_before) events_read_.notify_all();
}

void SocketWatch::OnDestroyed(const Sighting& s, int64_t now) {
  // The listener's own event: it has neither peer port nor peer address
  // (a child forgotten in its accept queue keeps its peer address).
  if (s.peer_port == 0 && !s.peer_address) return;
  ++stats_.events;
  const uint32_t index = RecordFor(s.cookie);
  ServerSocket& socket = records_[index].socket;
  socket.destroyed = true;
  socket.destroyed_at = now;
  if (s.peer_port == 0) {
    // tcp_disconnect cleared the peer port and the byte counts: the child
    // was forgotten by a closing listener (inet_child_forget) before any
    // accept(). The last look's port and counts stand.
    socket.destroyed_unaccepted = !socket.seen_accepted;
  } else {
    // tcp_close purges the receive queue but leaves copied_seq, so rqueue
    // still says what the target left unread.
    socket.peer_port = s.peer_port;
    static_cast<ReceivedBytes&>(socket) = s;
  }
  // A cookie is never reused, and a destroyed socket never shows again.
  index_.erase(s.cookie);
}

size_t SocketWatch::MissingEventsLocked() {
  awaited_.erase(std::remove_if(awaited_.begin(), awaited_.end(),
                                [this](uint32_t i) { return records_[i].socket.destroyed; }),
                 awaited_.end());
  return awaited_.size();
}

bool SocketWatch::AwaitDestroyEvents(Clock::time_point deadline) {
  LiveTable now;
  std::unique_lock<std::mutex> lock(mu_);
  if (!LookLocked(&now)) return false;
  for (;;) {
    if (!running_) DrainEventsLocked();
    if (MissingEventsLocked() == 0) return true;
    if (!event_fd_.valid() || Clock::now() >= deadline) return false;
    if (running_) {
      // The watch thread reads them and says so.
      events_read_.wait_until(lock, deadline);
      continue;
    }
    lock.unlock();
    pollfd p{event_fd_.get(), POLLIN, 0};
    PollUntil(&p, 1, deadline);
    lock.lock();
  }
}

void SocketWatch::Start(std::chrono::microseconds interval, OnLook on_look, PeerPorts peer_ports) {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = true;
  }
  thread_ =
      std::thread([this, interval, on_look = std::move(on_look),
                   peer_ports = std::move(peer_ports)] { Run(interval, on_look, peer_ports); });
}

void SocketWatch::Stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  if (write(wake_fd_.get(), &one, sizeof one) != sizeof one) {
    // An eventfd counter only fails to take 1 when it is about to overflow,
    // which a stop never makes it: the thread wakes either way.
  }
  thread_.join();
  uint64_t count;
  if (read(wake_fd_.get(), &count, sizeof count) != sizeof count) {
    // Already zero: nothing to reset for a later Start().
  }
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;
}

void SocketWatch::Run(std::chrono::microseconds interval, const OnLook& on_look,
                      const PeerPorts& peer_ports) {
  LiveTable live;
  std::vector<uint16_t> ports;
  Clock::time_point next = Clock::now();
  Clock::time_point last_start;
  bool looked = false;
  for (;;) {
    pollfd fds[2] = {{wake_fd_.get(), POLLIN, 0}, {event_fd_.get(), POLLIN, 0}};
    if (PollUntil(fds, 2, next) < 0 && errno != EINTR) {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.last_error = "watch thread: ppoll: " + ErrnoText(errno);
      return;
    }
    if (fds[0].revents != 0) return;
    if (fds[1].revents != 0) {
      std::lock_guard<std::mutex> lock(mu_);
      DrainEventsLocked();
    }
    const Clock::time_point start = Clock::now();
    if (start < next) continue;
    bool ok;
    if (peer_ports) {
      ports.clear();
      peer_ports(&ports);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ok = LookLocked(&live, peer_ports ? &ports : nullptr);
      if (looked) {
        const int64_t gap_us =
            std::chrono::duration_cast<std::chrono::microseconds>(start - last_start).count();
        stats_.max_gap_us = std::max(stats_.max_gap_us, gap_us);
      }
    }
    looked = true;
    last_start = start;
    // Looking costs the machine at most half a core, however many sockets
    // the port has.
    next = start + std::max<Clock::duration>(interval, 2 * (Clock::now() - start));
    if (ok && on_look) on_look(live);
  }
}

std::vector<ServerSocket> SocketWatch::Sockets() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ServerSocket> sockets;
  sockets.reserve(records_.size());
  for (const Record& r : records_) sockets.push_back(r.socket);
  return sockets;
}

std::vector<ListenerGap> SocketWatch::ListenerGaps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return listener_gaps_;
}

SocketWatchStats SocketWatch::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SocketWatchStats stats = stats_;
  stats.mean_look_us =
      stats_.looks == 0 ? 0 : total_look_ns_ / 1000.0 / static_cast<double>(stats_.looks);
  stats.sockets = static_cast<int64_t>(records_.size());
  return stats;
}

}  // namespace lastcall
