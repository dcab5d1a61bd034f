#include <doctest/doctest.h>

#include <deque>
#include <map>

#include "protocol/stream_load/transaction.h"
#include "protocol/stream_load/transaction_run.h"
#include "tests/unit/load_outcomes.h"

using namespace starpipe::stream_load;

namespace {

attempt_outcome answer(const std::string& status, const std::string& message = "") {
  return testing::with_status(status, message);
}
attempt_outcome lost_after_send() {
  attempt_outcome o;
  o.transport_error = "connection reset";
  o.body_may_have_landed = true;
  return o;
}
attempt_outcome refused() {
  attempt_outcome o;
  o.transport_error = "connection refused";
  return o;
}
using testing::settings;

// Answers scripted per operation (then OK), label states scripted per label; records calls.
struct scripted_api : transaction_api {
  std::map<txn_op, std::deque<attempt_outcome>> script;
  std::map<std::string, std::string> states;
  std::vector<std::string> calls; // "op label"
  attempt_outcome call(txn_op op, const load_request& req) override {
    calls.push_back(std::string(to_string(op)) + " " + req.label);
    auto& q = script[op];
    if (q.empty()) return answer("OK");
    auto o = q.front();
    q.pop_front();
    return o;
  }
  std::string state_of_label(const std::string&, const std::string& label) override {
    calls.push_back("state " + label);
    auto it = states.find(label);
    return it == states.end() ? "UNKNOWN" : it->second;
  }
};

label_maker labels = [](uint64_t n) { return "p-t-s-" + std::to_string(n); };
sleeper no_sleep = [](std::chrono::milliseconds) {};

load_request batch() {
  load_request r;
  r.database = "db";
  r.table = "t";
  r.body = std::make_shared<const std::string>("{\"id\":1}");
  return r;
}

} // namespace

TEST_CASE("transaction decisions: success, retryable, permanent") {
  for (auto op : {txn_op::begin, txn_op::load, txn_op::prepare, txn_op::commit, txn_op::rollback})
    CHECK(decide_txn(op, answer("OK"), 1, settings()).what == txn_step::done);
  CHECK(decide_txn(txn_op::load, answer("TXN_IN_PROCESSING"), 1, settings()).what == txn_step::retry);
  CHECK(decide_txn(txn_op::prepare, answer("INTERNAL_ERROR", "too many filtered rows"), 1, settings()).what ==
        txn_step::fail);
  CHECK(decide_txn(txn_op::begin, answer("FAILED", "No database selected."), 1, settings()).what == txn_step::fail);
  auto r = answer("OK");
  r.http_status = 401;
  r.response.reset();
  CHECK(decide_txn(txn_op::commit, r, 1, settings()).what == txn_step::fail);
}

TEST_CASE("transaction decisions: back-pressure is retried, more slowly") {
  auto busy = decide_txn(txn_op::begin, answer("INTERNAL_ERROR", "current running txns on db 10 is 1000, larger than limit 1000"), 1, settings());
  auto other = decide_txn(txn_op::begin, answer("INTERNAL_ERROR", "some hiccup"), 1, settings());
  CHECK(busy.what == txn_step::retry);
  CHECK(busy.delay > other.delay);
  // An error in load or prepare rolled the transaction back: begin again, rows kept.
  CHECK(decide_txn(txn_op::load, answer("INTERNAL_ERROR", "Failed to load data into tablet 1, because of too many versions"), 1, settings()).what ==
        txn_step::restart);
}

TEST_CASE("transaction decisions: an ambiguous answer is settled through the label, never guessed") {
  CHECK(decide_txn(txn_op::prepare, lost_after_send(), 1, settings()).what == txn_step::settle);
  CHECK(decide_txn(txn_op::commit, lost_after_send(), 1, settings()).what == txn_step::settle);
  CHECK(decide_txn(txn_op::commit, answer("FAILED", "Transaction status unknown, you can retry with same label."), 1, settings()).what ==
        txn_step::settle);
  CHECK(decide_txn(txn_op::prepare, answer("TXN_NOT_EXISTS"), 1, settings()).what == txn_step::settle);
  // Nothing went out: the same operation again.
  CHECK(decide_txn(txn_op::commit, refused(), 1, settings()).what == txn_step::retry);
  // A load whose answer was lost may have half its rows in: the transaction starts over.
  CHECK(decide_txn(txn_op::load, lost_after_send(), 1, settings()).what == txn_step::restart);

  CHECK(decide_txn_from_state(txn_op::prepare, "PREPARED", 1, settings()).what == txn_step::done);
  CHECK(decide_txn_from_state(txn_op::prepare, "ABORTED", 1, settings()).what == txn_step::restart);
  CHECK(decide_txn_from_state(txn_op::commit, "VISIBLE", 1, settings()).what == txn_step::done);
  CHECK(decide_txn_from_state(txn_op::commit, "COMMITTED", 1, settings()).what == txn_step::done);
  CHECK(decide_txn_from_state(txn_op::commit, "PREPARED", 1, settings()).what == txn_step::retry);
  CHECK(decide_txn_from_state(txn_op::commit, "ABORTED", 1, settings()).what == txn_step::restart);
  CHECK(decide_txn_from_state(txn_op::rollback, "ABORTED", 1, settings()).what == txn_step::done);
  CHECK(decide_txn_from_state(txn_op::rollback, "VISIBLE", 1, settings()).what == txn_step::fail);
  CHECK(decide_txn_from_state(txn_op::begin, "PREPARE", 1, settings()).what == txn_step::done);
}

TEST_CASE("run_transaction: begin, load, prepare under one label") {
  scripted_api api;
  auto r = run_transaction(api, batch(), labels, 7, false, settings(), no_sleep);
  CHECK(r.ok);
  CHECK(r.label == "p-t-s-7");
  CHECK(api.calls == std::vector<std::string>{"begin p-t-s-7", "load p-t-s-7", "prepare p-t-s-7"});
}

TEST_CASE("run_transaction: a lost prepare answer is settled as PREPARED, not repeated") {
  scripted_api api;
  api.script[txn_op::prepare] = {lost_after_send()};
  api.states["p-t-s-1"] = "PREPARED";
  auto r = run_transaction(api, batch(), labels, 1, false, settings(), no_sleep);
  CHECK(r.ok);
  CHECK(api.calls == std::vector<std::string>{"begin p-t-s-1", "load p-t-s-1", "prepare p-t-s-1", "state p-t-s-1"});
}

TEST_CASE("run_transaction: a transaction StarRocks aborted is begun again under the next label") {
  scripted_api api;
  api.script[txn_op::load] = {answer("INTERNAL_ERROR", "Failed to load data into tablet 9, because of too many versions")};
  auto r = run_transaction(api, batch(), labels, 1, true, settings(), no_sleep);
  CHECK(r.ok);
  CHECK(r.label == "p-t-s-2");
  CHECK(r.sequence == 2);
  CHECK(api.calls == std::vector<std::string>{"begin p-t-s-1", "load p-t-s-1", "rollback p-t-s-1", "begin p-t-s-2",
                                              "load p-t-s-2", "commit p-t-s-2"});
}

TEST_CASE("run_transaction: a taken label is skipped; a permanent error fails after rolling back") {
  scripted_api api;
  api.script[txn_op::begin] = {answer("LABEL_ALREADY_EXISTS")};
  api.script[txn_op::prepare] = {answer("INTERNAL_ERROR", "too many filtered rows")};
  auto r = run_transaction(api, batch(), labels, 4, false, settings(), no_sleep);
  CHECK_FALSE(r.ok);
  CHECK(r.failure.find("too many filtered rows") != std::string::npos);
  CHECK(api.calls.back() == "rollback p-t-s-5");
}

TEST_CASE("run_transaction: gives up after sink.max-retries restarts") {
  scripted_api api;
  for (int i = 0; i < 10; ++i) api.script[txn_op::load].push_back(answer("TXN_NOT_EXISTS"));
  auto r = run_transaction(api, batch(), labels, 1, false, settings(2), no_sleep);
  CHECK_FALSE(r.ok);
  CHECK(r.restarts == 3);
}

TEST_CASE("finish_transaction: commit is idempotent and settled; a lost commit answer reads COMMITTED") {
  scripted_api api;
  api.script[txn_op::commit] = {lost_after_send()};
  api.states["L"] = "VISIBLE";
  auto r = finish_transaction(api, "db", "t", "L", true, settings(), no_sleep);
  CHECK(r.ok);
  scripted_api gone;
  gone.script[txn_op::commit] = {answer("FAILED", "Can not commit ABORTED transaction 7, label is L")};
  gone.states["L"] = "ABORTED";
  auto lost = finish_transaction(gone, "db", "t", "L", true, settings(), no_sleep);
  CHECK_FALSE(lost.ok);
  CHECK(lost.failure.find("not in StarRocks") != std::string::npos);
}

#include "protocol/exactly_once/checkpoint_record.h"

TEST_CASE("checkpoint record: the owner slot and the prepared labels round-trip through offset-commit metadata") {
  checkpoint_record r;
  r.owner = "w1t0rb";
  r.txns = {{"orders", "eo-orders-w1t0ra-7", "w1t0ra", 7}, {"items", "eo-items-w1t0ra-3", "w1t0ra", 3}};
  auto text = encode_checkpoint_record(r);
  CHECK(text.size() < 4096);
  auto back = decode_checkpoint_record(text);
  CHECK(back.owner == "w1t0rb");
  CHECK(back.txns == r.txns);
  CHECK(back.slots() == std::vector<std::string>{"w1t0rb", "w1t0ra"});
  CHECK(decode_checkpoint_record("").slots().empty());
  CHECK(decode_checkpoint_record("some other tool's metadata").slots().empty());
  CHECK(decode_checkpoint_record("{\"x\":1}").slots().empty());
  // A record of an older version: no owner, the labels' slots still count.
  auto old = decode_checkpoint_record(R"({"starpipe.eo":1,"txns":[{"t":"o","l":"x-o-w2t0-4","s":"w2t0","n":4}]})");
  CHECK(old.owner.empty());
  CHECK(old.slots() == std::vector<std::string>{"w2t0"});
  // A claim: an owner, nothing to decide.
  CHECK(decode_checkpoint_record(encode_checkpoint_record({"w1t0rc", {}})).owner == "w1t0rc");

  CHECK(writer_slot("127.0.0.1:8083", 0, "ab12") == writer_slot("127.0.0.1:8083", 0, "ab12"));
  CHECK(writer_slot("127.0.0.1:8083", 0, "ab12") != writer_slot("127.0.0.1:8084", 0, "ab12"));
  CHECK(writer_slot("127.0.0.1:8083", 0, "ab12") != writer_slot("127.0.0.1:8083", 0, "ab13"));
  CHECK(writer_slot("127.0.0.1:8083", 1, "ab12").size() == 16);
}

TEST_CASE("sink.version=AUTO: the FE's answer to a label-less begin tells whether V2 exists") {
  attempt_outcome empty_label = testing::with_status("FAILED", "Empty label.");
  CHECK(judge_interface_probe(empty_label).support == interface_support::transactions);
  CHECK(judge_interface_probe(empty_label).evidence.find("Empty label.") != std::string::npos);

  attempt_outcome not_found;
  not_found.http_status = 404;
  not_found.raw_body = "Not Found";
  CHECK(judge_interface_probe(not_found).support == interface_support::stream_load_only);

  // None of these proves anything either way: the writer asks again later.
  attempt_outcome html;
  html.http_status = 200;
  html.raw_body = "<html>proxy</html>";
  CHECK(judge_interface_probe(html).support == interface_support::unknown);
  attempt_outcome unauthorized;
  unauthorized.http_status = 401;
  CHECK(judge_interface_probe(unauthorized).support == interface_support::unknown);
  attempt_outcome server_error;
  server_error.http_status = 503;
  CHECK(judge_interface_probe(server_error).support == interface_support::unknown);
  CHECK(judge_interface_probe(refused()).support == interface_support::unknown);
  CHECK(judge_interface_probe(refused()).evidence.find("connection refused") != std::string::npos);
}

TEST_CASE("run_transaction: retries, settled answers and restarts are told to the observer, plain progress is not") {
  scripted_api api;
  api.script[txn_op::begin] = {answer("TXN_IN_PROCESSING", "busy")};
  api.script[txn_op::load] = {answer("INTERNAL_ERROR", "too many versions")};
  api.script[txn_op::commit] = {lost_after_send()};
  api.states["p-t-s-2"] = "VISIBLE";
  std::vector<std::string> told;
  auto r = run_transaction(api, batch(), labels, 1, true, settings(), no_sleep,
                           [&told](const std::string& s) { told.push_back(s); });
  CHECK(r.ok);
  REQUIRE(told.size() == 3);
  CHECK(told[0].find("begin of label p-t-s-1 answered TXN_IN_PROCESSING: busy: retrying") == 0);
  CHECK(told[1].find("load of label p-t-s-1") == 0);
  CHECK(told[1].find("begun again under the next label") != std::string::npos);
  CHECK(told[2].find("commit of label p-t-s-2 answered transport error: connection reset; settled through the "
                     "label's state (label VISIBLE): done") == 0);

  scripted_api clean;
  told.clear();
  CHECK(run_transaction(clean, batch(), labels, 1, true, settings(), no_sleep,
                        [&told](const std::string& s) { told.push_back(s); }).ok);
  CHECK(told.empty());
}

TEST_CASE("run_transaction: a refusal keeps the refusing answer, whose ErrorURL explains the rows") {
  scripted_api api;
  auto refusal = answer("INTERNAL_ERROR", "too many filtered rows");
  refusal.response->error_url = "http://be/api/_load_error_log?file=x";
  api.script[txn_op::commit] = {refusal};
  auto r = run_transaction(api, batch(), labels, 1, true, settings(), no_sleep);
  CHECK_FALSE(r.ok);
  CHECK(r.counters.error_url == "http://be/api/_load_error_log?file=x");
}

// The same runs step by step, as an actor carries them out: every wait is a step of its own
// (an actor turns it into a delayed message), and no step does I/O.
namespace {
using kind = txn_step_request::kind;
attempt_outcome unreachable() {
  attempt_outcome o;
  o.transport_error = "connection refused";
  o.unreachable = true;
  return o;
}
} // namespace

TEST_CASE("transaction run: an unreachable StarRocks is a wait that says so and uses up no attempt") {
  transaction_run run(batch(), labels, 1, false, settings(1));
  REQUIRE(run.next().what == kind::call);
  CHECK(run.next().op == txn_op::begin);
  for (int i = 0; i < 5; ++i) { // far more than sink.maxretries=1
    run.answered(unreachable());
    REQUIRE(run.next().what == kind::wait);
    CHECK(run.next().waiting_for_starrocks);
    CHECK(run.next().delay.count() > 0);
    run.waited();
    REQUIRE(run.next().what == kind::call);
    CHECK(run.next().op == txn_op::begin);
  }
  run.answered(answer("OK"));
  CHECK(run.next().op == txn_op::load);
  CHECK(run.next().request.label == "p-t-s-1");
  run.answered(answer("OK"));
  CHECK(run.next().op == txn_op::prepare);
  run.answered(answer("OK"));
  REQUIRE(run.finished());
  CHECK(run.result().ok);
  CHECK(run.result().label == "p-t-s-1");
}

TEST_CASE("transaction run: a lost prepare answer is a label read, and PREPARED ends the run without a repeat") {
  transaction_run run(batch(), labels, 1, false, settings());
  run.answered(answer("OK"));
  run.answered(answer("OK"));
  REQUIRE(run.next().op == txn_op::prepare);
  run.answered(lost_after_send());
  REQUIRE(run.next().what == kind::read_state);
  CHECK(run.next().request.label == "p-t-s-1");
  run.state_read(""); // unreadable: a wait, then read again
  REQUIRE(run.next().what == kind::wait);
  CHECK_FALSE(run.next().waiting_for_starrocks);
  run.waited();
  REQUIRE(run.next().what == kind::read_state);
  run.state_read("PREPARED");
  REQUIRE(run.finished());
  CHECK(run.result().ok);
}

TEST_CASE("transaction run: a restart rolls the label back, waits, then begins the same rows under the next label") {
  transaction_run run(batch(), labels, 7, false, settings());
  run.answered(answer("OK"));
  REQUIRE(run.next().op == txn_op::load);
  run.answered(answer("Fail", "Failed to load data into tablet 7, because of too many versions"));
  REQUIRE(run.next().what == kind::call);
  CHECK(run.next().op == txn_op::rollback);
  CHECK(run.next().request.label == "p-t-s-7");
  run.answered(refused()); // the rollback's answer changes nothing
  REQUIRE(run.next().what == kind::wait);
  run.waited();
  REQUIRE(run.next().what == kind::call);
  CHECK(run.next().op == txn_op::begin);
  CHECK(run.next().request.label == "p-t-s-8");
  CHECK(*run.next().request.body == "{\"id\":1}");
  CHECK(run.result().restarts == 1);
}
