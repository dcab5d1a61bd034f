#include <doctest/doctest.h>

#include "protocol/stream_load/flush_policy.h"

using namespace starpipe::sinks;
using namespace std::chrono_literals;

TEST_CASE("flush policy: nothing buffered is never due") {
  flush_policy p({1000, 1000ms});
  auto now = flush_policy::clock::now();
  CHECK(p.due(now + 1h) == flush_reason::none);
  p.request();
  CHECK(p.due(now) == flush_reason::none);
}

TEST_CASE("flush policy: bytes, interval and explicit requests") {
  flush_policy p({1000, 1000ms});
  auto t0 = flush_policy::clock::now();
  p.on_rows_added(400, t0);
  CHECK(p.due(t0 + 999ms) == flush_reason::none);
  CHECK(p.due(t0 + 1000ms) == flush_reason::interval);
  p.on_rows_added(600, t0 + 10ms);
  CHECK(p.due(t0 + 10ms) == flush_reason::bytes);
  p.request();
  CHECK(p.due(t0 + 10ms) == flush_reason::requested);
  p.on_flushed();
  p.clear_request();
  CHECK(p.buffered_bytes() == 0);
  // the age counts from the first row after a flush
  p.on_rows_added(1, t0 + 5000ms);
  CHECK(p.due(t0 + 5500ms) == flush_reason::none);
  CHECK(p.due(t0 + 6000ms) == flush_reason::interval);
}

TEST_CASE("flush policy: one load is a quarter of the memory budget") {
  CHECK(batch_bytes_for(67108864) == 16777216);
}

TEST_CASE("flush policy: caught up, a buffer worth a load goes at once; a small one waits for its age") {
  flush_settings s{16 << 20, 1000ms};
  s.caught_up_min_bytes = 1000;
  flush_policy p(s);
  auto t0 = flush_policy::clock::now();
  p.on_rows_added(999, t0);
  p.set_caught_up(true);
  CHECK(p.due(t0) == flush_reason::none); // a trickle: keep batching
  p.on_rows_added(1, t0);
  CHECK(p.due(t0) == flush_reason::caught_up);
  p.set_caught_up(false); // more rows may be coming
  CHECK(p.due(t0) == flush_reason::none);
}
