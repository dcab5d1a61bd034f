#include <doctest/doctest.h>

#include "protocol/checkpoint/position_tracker.h"

using namespace starpipe::checkpoint;

namespace {
// Positions are opaque tokens: the tracker hands back what was registered, nothing computed.
source_position P(int64_t token) { return source_position{token}; }
} // namespace

TEST_CASE("position tracker: in-order acks advance to the batch's last position") {
  position_tracker t;
  stream_id tp{"t", 0};
  t.register_batch(tp, 0, P(9), 1, 100);
  CHECK_FALSE(t.committable(tp));
  t.ack(tp, 0);
  CHECK(t.committable(tp) == P(9));
  auto adv = t.take_advanced();
  CHECK(adv.at(tp) == P(9));
  CHECK(t.take_advanced().empty());
  CHECK(t.take_released_bytes().at(0) == 100);
  CHECK(t.outstanding_bytes() == 0);
}

TEST_CASE("position tracker: out-of-order acks wait for the earlier batch") {
  position_tracker t;
  stream_id tp{"t", 3};
  t.register_batch(tp, 0, P(9), 1, 10);
  t.register_batch(tp, 1, P(19), 1, 10);
  t.ack(tp, 1);
  CHECK_FALSE(t.committable(tp));
  t.ack(tp, 0);
  CHECK(t.committable(tp) == P(19));
}

TEST_CASE("position tracker: acks may arrive before the registration") {
  position_tracker t;
  stream_id tp{"t", 0};
  t.ack(tp, 0);
  CHECK_FALSE(t.committable(tp));
  t.register_batch(tp, 0, P(4), 1, 10);
  CHECK(t.committable(tp) == P(4));
}

TEST_CASE("position tracker: a batch split across tables needs every piece") {
  position_tracker t;
  stream_id tp{"t", 0};
  t.register_batch(tp, 0, P(99), 2, 10);
  t.ack(tp, 0);
  CHECK_FALSE(t.committable(tp));
  t.ack(tp, 0);
  CHECK(t.committable(tp) == P(99));
}

TEST_CASE("position tracker: skipped-only batches advance at registration") {
  position_tracker t;
  stream_id tp{"t", 0};
  t.register_batch(tp, 0, P(7), 0, 10);
  CHECK(t.committable(tp) == P(7));
}

TEST_CASE("position tracker: a failed batch is never passed") {
  position_tracker t;
  stream_id tp{"t", 0};
  t.register_batch(tp, 0, P(9), 1, 10);
  t.register_batch(tp, 1, P(19), 1, 10);
  t.register_batch(tp, 2, P(29), 1, 10);
  t.ack(tp, 0);
  t.fail(tp, 1, "too many filtered rows");
  t.ack(tp, 1); // a stray ack after failure changes nothing
  t.ack(tp, 2);
  CHECK(t.committable(tp) == P(9));
  CHECK(t.failure(tp) == "too many filtered rows");
  CHECK(t.has_pending(tp));
}

TEST_CASE("position tracker: streams are independent; forget on revoke releases credit per owner") {
  position_tracker t;
  stream_id a{"t", 0}, b{"t", 1};
  t.register_batch(a, 0, P(9), 1, 10, 0);
  t.register_batch(b, 0, P(4), 1, 30, 1);
  t.ack(a, 0);
  CHECK(t.committable(a) == P(9));
  CHECK_FALSE(t.committable(b));
  t.forget(b);
  CHECK_FALSE(t.has_pending(b));
  auto released = t.take_released_bytes();
  CHECK(released.at(0) == 10);
  CHECK(released.at(1) == 30);
  CHECK(t.outstanding_bytes() == 0);
}

TEST_CASE("position tracker: all committable positions stay available after take_advanced") {
  position_tracker t;
  stream_id a{"t", 0}, b{"t", 1};
  t.register_batch(a, 0, P(4), 0, 1);
  t.register_batch(b, 0, P(9), 0, 1);
  CHECK(t.take_advanced().size() == 2);
  CHECK(t.take_advanced().empty());
  auto all = t.all_committable();
  CHECK(all.at(a) == P(4));
  CHECK(all.at(b) == P(9));
}

TEST_CASE("position tracker: positions are handed back as registered, never compared") {
  // A source whose positions do not grow (a token per batch, say) still gets exactly the
  // position of the last loaded batch of each stream, in sequence order, not the largest.
  position_tracker t;
  stream_id slot{"slot", 0};
  t.register_batch(slot, 0, P(900), 1, 1);
  t.register_batch(slot, 1, P(100), 1, 1);
  t.ack(slot, 1);
  CHECK_FALSE(t.committable(slot));
  t.ack(slot, 0);
  CHECK(t.committable(slot) == P(100));
}
