#include <doctest/doctest.h>

#include "protocol/stream_load/retry_policy.h"
#include "protocol/stream_load/transaction.h"
#include "tests/unit/load_outcomes.h"

using namespace starpipe::stream_load;
using action = retry_decision::action;

using namespace starpipe::stream_load::testing;

TEST_CASE("retry policy: successes") {
  CHECK(decide(with_status("Success"), 1, settings()).what == action::done);
  CHECK(decide(with_status("Publish Timeout"), 1, settings()).what == action::done);
  CHECK(decide(with_status("Label Already Exists", "", "FINISHED"), 2, settings()).what == action::done);
}

TEST_CASE("retry policy: a running label is settled by its state, never guessed") {
  CHECK(decide(with_status("Label Already Exists", "", "RUNNING"), 2, settings()).what == action::check_label);
  CHECK(decide_from_label_state("VISIBLE", 2, settings()).what == action::done);
  CHECK(decide_from_label_state("COMMITTED", 2, settings()).what == action::done);
  CHECK(decide_from_label_state("PREPARE", 2, settings()).what == action::check_label);
  auto aborted = decide_from_label_state("ABORTED", 2, settings());
  CHECK(aborted.what == action::retry);
  CHECK(decide_from_label_state("ABORTED", 4, settings()).what == action::fail);
}

TEST_CASE("retry policy: transient errors retry with growing backoff until sink.maxretries") {
  attempt_outcome o;
  o.transport_error = "connection refused";
  auto d1 = decide(o, 1, settings());
  CHECK(d1.what == action::retry);
  CHECK(d1.delay.count() == 500);
  CHECK(decide(o, 2, settings()).delay.count() == 1000);
  CHECK(decide(o, 3, settings()).delay.count() == 2000);
  auto last = decide(o, 4, settings());
  CHECK(last.what == action::fail);
  CHECK(last.reason.find("gave up after 4 attempts") != std::string::npos);
  CHECK(decide(o, 1000, settings(-1)).what == action::retry); // -1: unlimited
  CHECK(decide(o, 1000, settings(-1)).delay.count() == 10000); // capped
  CHECK(decide(o, 1, settings(0)).what == action::fail); // sink.maxretries=0: one attempt only
  CHECK(decide(o, 1, settings(1)).what == action::retry);

  attempt_outcome http5xx;
  http5xx.http_status = 503;
  CHECK(decide(http5xx, 1, settings()).what == action::retry);
  CHECK(decide(with_status("Fail", "Service is shutting down, please retry later!"), 1, settings()).what ==
        action::retry);
  CHECK(decide(with_status("FAILED", "No backend alive."), 1, settings()).what == action::retry);
  attempt_outcome garbage;
  garbage.http_status = 200;
  garbage.raw_body = "<html>";
  CHECK(decide(garbage, 1, settings()).what == action::retry);
}

TEST_CASE("retry policy: back-pressure waits longer") {
  auto d = decide(with_status("Fail", "Failed to load data into tablet 1, because of too many versions, current/limit: 1001/1000"),
                  1, settings());
  CHECK(d.what == action::retry);
  CHECK(d.delay.count() == 2000);
}

TEST_CASE("retry policy: permanent failures stop at once with StarRocks' message") {
  auto d = decide(with_status("Fail", "too many filtered rows"), 1, settings());
  CHECK(d.what == action::fail);
  CHECK(d.reason == "Fail: too many filtered rows");
  CHECK(decide(with_status("Fail", "no valid Basic authorization"), 1, settings()).what == action::fail);
  CHECK(decide(with_status("Fail", "unknown table, table=t"), 1, settings()).what == action::fail);
  CHECK(decide(with_status("FAILED", "class com.starrocks.common.DdlException: There is no 100-continue header"), 1,
               settings())
            .what == action::fail);
  attempt_outcome unauthorized;
  unauthorized.http_status = 401;
  CHECK(decide(unauthorized, 1, settings()).what == action::fail);
}

TEST_CASE("retry policy: a StarRocks no FE of which takes a connection is waited for, not given up on") {
  attempt_outcome o;
  o.transport_error = "None of the hosts in starrocks.http.url could be connected: refused";
  o.unreachable = true;
  for (int attempt : {1, 4, 50}) {
    auto d = decide(o, attempt, settings());
    CHECK(d.what == action::retry);
    CHECK(d.waiting_for_starrocks);
    CHECK(d.delay <= settings().max_backoff);
    CHECK(d.reason.find("not counted against sink.maxretries") != std::string::npos);
    CHECK(decide_txn(txn_op::begin, o, attempt, settings()).what == txn_step::retry);
  }
  // An answer, or a connection that failed after it was taken, still counts.
  o.unreachable = false;
  CHECK(decide(o, 4, settings()).what == action::fail);
  o.cancelled = true; // the process is stopping: never retried
  o.unreachable = false;
  CHECK(decide(o, 1, settings()).what == action::fail);
}
