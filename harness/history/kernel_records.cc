#include "history/kernel_records.h"

#include <algorithm>

namespace lastcall {

DataBytes ReceivedBytes::WithoutFin(uint64_t client_wrote) const {
  DataBytes data;
  // The FIN comes after every byte written, so it is the last one received,
  // and the last one read: read only when the target reads the end of
  // stream, which it cannot before the bytes before it.
  data.fin = bytes_received > client_wrote;
  data.received = bytes_received - data.fin;
  data.unread = unread - (data.fin && unread > 0);
  data.read = data.received - std::min<uint64_t>(data.unread, data.received);
  return data;
}

const LiveSocket* LiveTable::Find(uint16_t peer_port) const {
  auto it = std::lower_bound(sockets.begin(), sockets.end(), peer_port,
                             [](const LiveSocket& s, uint16_t port) { return s.peer_port < port; });
  return it != sockets.end() && it->peer_port == peer_port ? &*it : nullptr;
}

}  // namespace lastcall
