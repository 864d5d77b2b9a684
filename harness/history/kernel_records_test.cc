#include "history/kernel_records.h"

#include <catch2/catch.hpp>

using namespace lastcall;

TEST_CASE("ReceivedBytes: without the FIN, counts are the request's bytes") {
  ReceivedBytes partial;
  partial.bytes_received = 5;
  partial.unread = 5;
  DataBytes data = partial.WithoutFin(10);
  CHECK_FALSE(data.fin);
  CHECK(data.received == 5);
  CHECK(data.unread == 5);
  CHECK(data.read == 0);

  ReceivedBytes read_then_fin;
  read_then_fin.bytes_received = 11;
  read_then_fin.unread = 1;
  data = read_then_fin.WithoutFin(10);
  CHECK(data.fin);
  CHECK(data.received == 10);
  CHECK(data.unread == 0);
  CHECK(data.read == 10);
}

TEST_CASE("LiveTable::Find looks a socket up by its peer port") {
  LiveSocket queued;
  queued.peer_port = 40000;
  queued.state = LiveSocket::kQueued;
  LiveSocket accepted;
  accepted.peer_port = 40002;
  accepted.state = LiveSocket::kAccepted;
  const LiveTable live{7, true, {queued, accepted}};
  REQUIRE(live.Find(40002) != nullptr);
  CHECK(live.Find(40002)->state == LiveSocket::kAccepted);
  CHECK(live.Find(40000)->state == LiveSocket::kQueued);
  CHECK(live.Find(40001) == nullptr);
  CHECK(live.Find(40003) == nullptr);
  CHECK(LiveTable{}.Find(40000) == nullptr);
}
