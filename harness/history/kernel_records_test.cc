#include "history/kernel_records.h"

#include <catch2/catch.hpp>

using namespace lastcall;

TEST_CASE("SocketWatch: without the FIN, counts are the request's bytes") {
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
