#include <doctest/doctest.h>

#include "protocol/checkpoint/offset_tracker.h"

using namespace starpipe::checkpoint;

TEST_CASE("offset tracker: in-order acks advance to last offset + 1") {
  offset_tracker t;
  topic_partition tp{"t", 0};
  t.register_batch(tp, 0, 9, 1, 100);
  CHECK_FALSE(t.committable(tp));
  t.ack(tp, 0);
  CHECK(t.committable(tp) == 10);
  auto adv = t.take_advanced();
  CHECK(adv.at(tp) == 10);
  CHECK(t.take_advanced().empty());
  CHECK(t.take_released_bytes().at(0) == 100);
  CHECK(t.outstanding_bytes() == 0);
}

TEST_CASE("offset tracker: out-of-order acks wait for the earlier batch") {
  offset_tracker t;
  topic_partition tp{"t", 3};
  t.register_batch(tp, 0, 9, 1, 10);
  t.register_batch(tp, 1, 19, 1, 10);
  t.ack(tp, 1);
  CHECK_FALSE(t.committable(tp));
  t.ack(tp, 0);
  CHECK(t.committable(tp) == 20);
}

TEST_CASE("offset tracker: acks may arrive before the registration") {
  offset_tracker t;
  topic_partition tp{"t", 0};
  t.ack(tp, 0);
  CHECK_FALSE(t.committable(tp));
  t.register_batch(tp, 0, 4, 1, 10);
  CHECK(t.committable(tp) == 5);
}

TEST_CASE("offset tracker: a batch split across tables needs every piece") {
  offset_tracker t;
  topic_partition tp{"t", 0};
  t.register_batch(tp, 0, 99, 2, 10);
  t.ack(tp, 0);
  CHECK_FALSE(t.committable(tp));
  t.ack(tp, 0);
  CHECK(t.committable(tp) == 100);
}

TEST_CASE("offset tracker: skipped-only batches advance at registration") {
  offset_tracker t;
  topic_partition tp{"t", 0};
  t.register_batch(tp, 0, 7, 0, 10);
  CHECK(t.committable(tp) == 8);
}

TEST_CASE("offset tracker: a failed batch is never passed") {
  offset_tracker t;
  topic_partition tp{"t", 0};
  t.register_batch(tp, 0, 9, 1, 10);
  t.register_batch(tp, 1, 19, 1, 10);
  t.register_batch(tp, 2, 29, 1, 10);
  t.ack(tp, 0);
  t.fail(tp, 1, "too many filtered rows");
  t.ack(tp, 1); // a stray ack after failure changes nothing
  t.ack(tp, 2);
  CHECK(t.committable(tp) == 10);
  CHECK(t.failure(tp) == "too many filtered rows");
  CHECK(t.has_pending(tp));
}

TEST_CASE("offset tracker: partitions are independent; forget on revoke releases credit per owner") {
  offset_tracker t;
  topic_partition a{"t", 0}, b{"t", 1};
  t.register_batch(a, 0, 9, 1, 10, 0);
  t.register_batch(b, 0, 4, 1, 30, 1);
  t.ack(a, 0);
  CHECK(t.committable(a) == 10);
  CHECK_FALSE(t.committable(b));
  t.forget(b);
  CHECK_FALSE(t.has_pending(b));
  auto released = t.take_released_bytes();
  CHECK(released.at(0) == 10);
  CHECK(released.at(1) == 30);
  CHECK(t.outstanding_bytes() == 0);
}

TEST_CASE("offset tracker: all committable offsets stay available after take_advanced") {
  offset_tracker t;
  topic_partition a{"t", 0}, b{"t", 1};
  t.register_batch(a, 0, 4, 0, 1);
  t.register_batch(b, 0, 9, 0, 1);
  CHECK(t.take_advanced().size() == 2);
  CHECK(t.take_advanced().empty());
  auto all = t.all_committable();
  CHECK(all.at(a) == 5);
  CHECK(all.at(b) == 10);
}
