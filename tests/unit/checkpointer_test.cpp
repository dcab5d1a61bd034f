// The checkpointer's decisions alone: what a connector may commit, when. Data first, positions
// after: every answer it gives must hold only positions whose rows are all loaded.
#include <doctest/doctest.h>

#include "protocol/checkpoint/checkpointer.h"
#include "protocol/checkpoint/connector_status.h"

using namespace starpipe::checkpoint;
using starpipe::pipeline::piece_id;

namespace {
source_position P(int64_t token) { return source_position{token}; }
const stream_id slot{"slot", 0};
const stream_id other{"slot", 1};
} // namespace

TEST_CASE("checkpointer: at-least-once, a load commits its stream only once every piece of the batch is loaded") {
  checkpointer c(false);
  c.on_batch(slot, 0, P(700), 2, 50, 0); // two tables
  CHECK(c.on_loaded({{slot, 0}}).empty()); // one table loaded, the other not yet
  CHECK(c.checkpoint().empty());
  auto now = c.on_loaded({{slot, 0}});
  REQUIRE(now.size() == 1);
  CHECK(now.at(slot) == P(700));
  // A checkpoint re-commits it (the asynchronous commit may have been lost).
  CHECK(c.checkpoint().at(slot) == P(700));
  CHECK(c.take_credit().at(0) == 50);
}

TEST_CASE("checkpointer: a later batch's load does not commit past an earlier batch still loading or failed") {
  checkpointer c(false);
  c.on_batch(slot, 0, P(10), 1, 1, 0);
  c.on_batch(slot, 1, P(20), 1, 1, 0);
  CHECK(c.on_loaded({{slot, 1}}).empty());
  CHECK(c.checkpoint().empty());
  c.on_failed({{slot, 0}}, "refused");
  CHECK(c.checkpoint().empty());
  CHECK(c.positions_of({slot}).empty());
}

TEST_CASE("checkpointer: exactly-once never commits on a load; prepare reads the loaded positions") {
  checkpointer c(true);
  c.on_batch(slot, 0, P(100), 1, 1, 0);
  c.on_batch(other, 0, P(5), 1, 1, 0);
  CHECK(c.on_loaded({{slot, 0}, {other, 0}}).empty());
  auto prepared = c.positions_of({slot});
  REQUIRE(prepared.size() == 1); // only the streams asked for: the task's own
  CHECK(prepared.at(slot) == P(100));
}

TEST_CASE("checkpointer: draining, loads commit nothing on their own; the final checkpoint commits all") {
  checkpointer c(false);
  c.on_batch(slot, 0, P(1), 1, 1, 0);
  c.drain();
  CHECK(c.on_loaded({{slot, 0}}).empty());
  CHECK(c.checkpoint().at(slot) == P(1));
}

TEST_CASE("checkpointer: a handed-off stream answers its position once, then no longer counts") {
  checkpointer c(false);
  c.on_batch(slot, 0, P(3), 1, 10, 0);
  c.on_batch(slot, 1, P(4), 1, 10, 1);
  c.on_batch(other, 0, P(9), 1, 10, 0);
  c.on_loaded({{slot, 0}, {other, 0}});
  auto handed = c.hand_off({slot});
  REQUIRE(handed.size() == 1);
  CHECK(handed.at(slot) == P(3)); // batch 1 is not loaded: not covered
  auto all = c.checkpoint();
  CHECK(all.count(slot) == 0);
  CHECK(all.at(other) == P(9));
  // The forgotten batch's bytes go back to the source that read it.
  auto credit = c.take_credit();
  CHECK(credit.at(1) == 10);
  CHECK(c.outstanding_bytes() == 0);
}

namespace {
struct status_fixture {
  std::shared_ptr<starpipe::pipelines::connector_registry> registry =
      std::make_shared<starpipe::pipelines::connector_registry>();
  connector_status::clock::time_point t0 = connector_status::clock::now();
  connector_status status{registry, "c", t0};
  status_fixture() { status.started({{"name", "c"}}, 2); }
  starpipe::pipelines::connector_view view() const { return *registry->get("c"); }
};
} // namespace

TEST_CASE("connector status: the first failure is the one shown; a pause leaves a failed task FAILED") {
  status_fixture f;
  CHECK(f.view().tasks.size() == 2);
  CHECK(f.status.fail("loading table t failed: boom"));
  CHECK_FALSE(f.status.fail("a later cause"));
  CHECK(f.status.failure() == "loading table t failed: boom");
  auto v = f.view();
  CHECK(v.tasks[1].state == "FAILED");
  CHECK(v.tasks[1].trace == "org.apache.kafka.connect.errors.ConnectException: loading table t failed: boom");
  f.status.hold(true, f.t0);
  v = f.view();
  CHECK(v.state == "PAUSED");
  CHECK(v.tasks[0].state == "FAILED");
}

TEST_CASE("connector status: a wait for StarRocks shows until a load succeeds; a stall needs waiting records") {
  status_fixture f;
  f.status.retrying("orders", "connection refused");
  CHECK(f.view().metrics.waiting_for_starrocks == 1);
  CHECK(f.view().tasks[0].trace == "Retrying: loading table orders: connection refused");
  f.status.loaded({10, 100, 1, 5}, 0, f.t0);
  auto v = f.view();
  CHECK(v.metrics.waiting_for_starrocks == 0);
  CHECK(v.tasks[0].trace.empty());
  CHECK(v.metrics.total_flush_rows == 10);
  CHECK(v.metrics.total_filtered_rows == 1);
  // Nothing waits: no stall, however long nothing loads.
  f.status.watch_for_stall(true, 0, 1000, f.t0 + std::chrono::seconds(60));
  CHECK(f.view().metrics.stalled == 0);
  f.status.lag(0, 5, 2, 0);
  f.status.lag(1, 7, 2, 0);
  CHECK(f.view().metrics.consumer_lag == 12);
  // Paused: not expected to load, so not stalled.
  f.status.watch_for_stall(false, 0, 1000, f.t0 + std::chrono::seconds(120));
  CHECK(f.view().metrics.stalled == 0);
  f.status.watch_for_stall(true, 0, 1000, f.t0 + std::chrono::seconds(122));
  CHECK(f.view().metrics.stalled == 1);
  f.status.loaded({1, 1, 0, 1}, 0, f.t0 + std::chrono::seconds(123));
  CHECK(f.view().metrics.stalled == 0);
}
