#include <doctest/doctest.h>

#include "protocol/checkpoint/connector_health.h"

using starpipe::checkpoint::connector_health;
using namespace std::chrono_literals;

TEST_CASE("connector health: stalled only when nothing loads for the timeout while records wait") {
  auto t0 = connector_health::clock::time_point{} + 1h;
  connector_health h(t0);
  CHECK_FALSE(h.check_stall(100, 0, 5000, t0 + 4s)); // not yet
  CHECK_FALSE(h.check_stall(0, 0, 5000, t0 + 60s));  // nothing waits: idle, not stalled
  auto why = h.check_stall(100, 2048, 5000, t0 + 6s);
  REQUIRE(why);
  CHECK(why->find("no rows loaded for 6 s while 100 records wait in Kafka and 2048 bytes") != std::string::npos);
  CHECK(h.stalled());
  CHECK_FALSE(h.check_stall(100, 2048, 5000, t0 + 7s)); // said once
  auto ended = h.on_loaded(10, t0 + 8s);
  CHECK(ended.stall_ended);
  CHECK_FALSE(h.stalled());
  CHECK_FALSE(h.check_stall(100, 0, 5000, t0 + 12s)); // the clock restarted at the load
}

TEST_CASE("connector health: a pause restarts the clock; waiting for StarRocks ends with a load") {
  auto t0 = connector_health::clock::time_point{} + 1h;
  connector_health h(t0);
  h.not_expected_to_load(t0 + 10s);
  CHECK_FALSE(h.check_stall(5, 0, 5000, t0 + 14s));
  h.on_waiting_for_starrocks();
  CHECK(h.waiting_for_starrocks());
  auto ended = h.on_loaded(3, t0 + 15s);
  CHECK(ended.wait_ended);
  CHECK_FALSE(ended.stall_ended);
  CHECK_FALSE(h.waiting_for_starrocks());
  CHECK(h.on_loaded(0, t0 + 16s).wait_ended == false);
}

TEST_CASE("connector health: the progress report counts rows since the last one") {
  auto t0 = connector_health::clock::time_point{} + 1h;
  connector_health h(t0);
  h.on_loaded(100, t0 + 1s);
  h.on_loaded(100, t0 + 2s);
  auto r = h.take_report(t0 + 2s);
  CHECK(r.rows_since == 200);
  CHECK(r.rows_per_second == doctest::Approx(100.0));
  CHECK(h.take_report(t0 + 3s).rows_since == 0);
  CHECK(h.rows_total() == 200);
  CHECK(h.loads_total() == 2);
}
