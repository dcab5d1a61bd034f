// The Stream Load writer under CAF's deterministic test coordinator: its executor and
// supervisor are scripted actors, time only moves when the test says so.
#include <doctest/doctest.h>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "deterministic_system.h"

#include <deque>
#include <set>

#include "actors/messages.h"
#include "actors/sinks/stream_load_writer.h"

using namespace starpipe;
using stream_load::attempt_outcome;

namespace {

struct recorded {
  std::vector<std::string> labels;             // label of every attempt the executor got
  std::vector<std::string> bodies;
  std::deque<attempt_outcome> script;          // what the executor answers, in order
  std::vector<std::vector<piece_id>> loaded;   // what the supervisor was told
  std::vector<load_stats> stats;
  std::vector<std::string> failures;
  std::optional<bool> flush_answer;
  // sink.version=AUTO: what the probe answers, in order; the transaction jobs the executor got.
  std::deque<stream_load::interface_support> probes;
  int probes_asked = 0;
  // Each transaction the executor saw, from its calls: begun under `label`, its body, and
  // whether it ended with commit (at-least-once) or prepare (exactly-once).
  struct transaction {
    std::string label, body;
    bool committed = false, prepared = false;
  };
  std::vector<transaction> jobs;
  std::deque<attempt_outcome> txn_script; // answers to transaction calls before the plain OKs
  std::vector<std::string> retrying;      // what the supervisor was told while StarRocks was away
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

attempt_outcome status(const std::string& s, const std::string& message = "OK") {
  attempt_outcome o;
  o.http_status = 200;
  stream_load::load_response r;
  r.status = s;
  r.message = message;
  o.response = r;
  return o;
}

struct fixture : testing::deterministic_system {
  recorded rec;
  caf::actor writer;

  explicit fixture(int64_t max_batch_bytes = 1 << 20, conf::load_interface interface = conf::load_interface::v1,
                   bool exactly_once = false, bool tolerate_all = false) {
    auto executor = sys->spawn([this](caf::event_based_actor*) -> caf::behavior {
      return {[this](load_atom, const stream_load::load_request& req) -> attempt_outcome {
        rec.labels.push_back(req.label);
        rec.bodies.push_back(*req.body);
        if (rec.script.empty()) { // the test did not expect this attempt
          attempt_outcome o;
          o.http_status = 599;
          return o;
        }
        auto o = rec.script.front();
        rec.script.pop_front();
        return o;
      },
      [this](probe_atom, const std::string&) {
        ++rec.probes_asked;
        stream_load::interface_probe p;
        if (!rec.probes.empty()) {
          p.support = rec.probes.front();
          rec.probes.pop_front();
        }
        p.evidence = "scripted";
        return p;
      },
      // Every transaction operation succeeds at once.
      [this](load_atom, stream_load::txn_op op, const stream_load::load_request& req) {
        if (!rec.txn_script.empty()) {
          auto o = rec.txn_script.front();
          rec.txn_script.pop_front();
          return o;
        }
        if (op == stream_load::txn_op::begin) rec.jobs.push_back({req.label, "", false, false});
        REQUIRE_FALSE(rec.jobs.empty());
        REQUIRE(rec.jobs.back().label == req.label);
        if (op == stream_load::txn_op::load) rec.jobs.back().body = *req.body;
        if (op == stream_load::txn_op::commit) rec.jobs.back().committed = true;
        if (op == stream_load::txn_op::prepare) rec.jobs.back().prepared = true;
        return status("OK");
      }};
    });
    auto supervisor = sys->spawn([this](caf::event_based_actor*) -> caf::behavior {
      return {
          [this](loaded_atom, const std::vector<piece_id>& pieces, const load_stats& st) {
            rec.loaded.push_back(pieces);
            rec.stats.push_back(st);
          },
          [this](failed_atom, const std::string&, const std::string& reason, const std::vector<piece_id>&) {
            rec.failures.push_back(reason);
          },
          [this](retrying_atom, const std::string&, const std::string& reason) { rec.retrying.push_back(reason); },
      };
    });
    auto connector = std::make_shared<conf::connector_config>();
    connector->database = "db";
    connector->name = "c";
    connector->load_properties = {{"format", "json"}, {"strip_outer_array", "true"}};
    connector->errors_tolerate_all = tolerate_all;
    sinks::writer_settings ws;
    ws.table = "t";
    ws.connector = connector;
    ws.flush.max_batch_bytes = max_batch_bytes;
    ws.flush.interval = std::chrono::hours(1);
    ws.retry.max_retries = 3;
    ws.label_prefix = "starpipe-c";
    ws.load_interface = interface;
    ws.exactly_once = exactly_once;
    ws.slot = "wslot";
    writer = sinks::spawn_stream_load_writer(*sys, ws, supervisor, executor);
    sched->run();
  }
  ~fixture() {
    caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    sched->run();
  }

  void send_rows(int32_t partition, uint64_t seq, const std::string& rows, size_t n, int64_t first_offset = 0) {
    caf::anon_send(writer, batch_atom::value,
                   row_fragment{{"topic", partition}, seq, "t", rows, n, {{first_offset, static_cast<uint32_t>(n)}}});
    sched->run();
  }
  void request_flush() {
    sys->spawn([this](caf::event_based_actor* self) {
      self->request(writer, caf::infinite, flush_atom::value).then([this](bool ok) { rec.flush_answer = ok; });
    });
    sched->run();
  }
  // Exactly-once: asks the writer to prepare; the answer, once it came.
  std::optional<prepared_checkpoint> request_prepare() {
    std::optional<prepared_checkpoint> answer;
    sys->spawn([&](caf::event_based_actor* self) {
      self->request(writer, caf::infinite, prepare_atom::value).then([&](const prepared_checkpoint& c) { answer = c; });
    });
    sched->run();
    return answer;
  }
  // Fires the pending delayed messages (retry backoff, ticks) and runs what they cause.
  void let_time_pass() {
    sched->trigger_timeouts();
    sched->run();
  }
};

} // namespace

TEST_CASE("writer: rows wait for a flush, then load as one JSON array body") {
  fixture f;
  f.rec.script.push_back(status("Success"));
  f.send_rows(0, 0, "{\"id\":1},{\"id\":2}", 2);
  f.send_rows(1, 0, "{\"id\":3}", 1);
  CHECK(f.rec.labels.empty()); // neither size nor age is due
  f.request_flush();
  REQUIRE(f.rec.labels.size() == 1);
  CHECK(f.rec.bodies[0] == "[{\"id\":1},{\"id\":2},{\"id\":3}]");
  CHECK(f.rec.labels[0].rfind("starpipe-c-t-", 0) == 0);
  REQUIRE(f.rec.loaded.size() == 1);
  CHECK(f.rec.loaded[0].size() == 2);
  CHECK(f.rec.loaded[0][1].stream.part == 1);
  CHECK(f.rec.stats[0].rows == 3);
  CHECK(f.rec.flush_answer == true);
}

TEST_CASE("writer: a failed attempt is retried after backoff with the same label") {
  fixture f;
  attempt_outcome refused;
  refused.transport_error = "connection refused";
  f.rec.script = {refused, status("Fail", "Service is shutting down, please retry later!"), status("Success")};
  f.send_rows(0, 0, "{\"id\":1}", 1);
  f.request_flush();
  CHECK(f.rec.labels.size() == 1);
  CHECK_FALSE(f.rec.flush_answer); // not loaded yet: the flush waits
  CHECK(f.rec.loaded.empty());
  f.let_time_pass();
  CHECK(f.rec.labels.size() == 2);
  f.let_time_pass();
  REQUIRE(f.rec.labels.size() == 3);
  CHECK(f.rec.labels[0] == f.rec.labels[1]);
  CHECK(f.rec.labels[1] == f.rec.labels[2]);
  CHECK(f.rec.loaded.size() == 1);
  CHECK(f.rec.flush_answer == true);
}

TEST_CASE("writer: rows arriving during a load go into the next load, with a new label") {
  fixture f;
  attempt_outcome refused;
  refused.transport_error = "connection refused";
  f.rec.script = {refused, status("Success"), status("Success")};
  f.send_rows(0, 0, "{\"id\":1}", 1);
  f.request_flush();
  f.send_rows(0, 1, "{\"id\":2}", 1); // while backing off
  f.let_time_pass();
  REQUIRE(f.rec.loaded.size() == 1);
  CHECK(f.rec.loaded[0].size() == 1);
  f.request_flush();
  REQUIRE(f.rec.labels.size() == 3);
  CHECK(f.rec.labels[2] != f.rec.labels[0]);
  CHECK(f.rec.bodies[2] == "[{\"id\":2}]");
  CHECK(f.rec.loaded.size() == 2);
}

TEST_CASE("writer: a permanent failure reports the pieces and never acks them") {
  fixture f;
  f.rec.script = {status("Fail", "Access denied for user")};
  f.send_rows(0, 0, "{\"id\":\"x\"}", 1);
  f.request_flush();
  REQUIRE(f.rec.failures.size() == 1);
  CHECK(f.rec.failures[0].find("Access denied") != std::string::npos);
  CHECK(f.rec.loaded.empty());
  CHECK(f.rec.flush_answer == false);
  f.send_rows(0, 1, "{\"id\":2}", 1); // dropped: offsets must not pass the failure
  f.request_flush();
  CHECK(f.rec.labels.size() == 1);
  CHECK(f.rec.loaded.empty());
}

attempt_outcome filtered(int64_t total, int64_t filtered_rows) {
  auto o = status("Fail", "too many filtered rows");
  o.response->total_rows = total;
  o.response->filtered_rows = filtered_rows;
  return o;
}

// Rows 10, 11, 12 of one partition; StarRocks rejects offset 12's row. No error log: the
// writer finds it by loading halves under new labels.
TEST_CASE("writer: errors.tolerance=all: a load refused for one row loads the others and acks the batch") {
  fixture f(1 << 20, conf::load_interface::v1, false, true);
  f.rec.script = {filtered(3, 1), status("Success"), filtered(2, 1), status("Success"), filtered(1, 1)};
  f.send_rows(0, 0, "{\"id\":1},{\"id\":2},{\"id\":\"bad\"}", 3, 10);
  f.request_flush();
  REQUIRE(f.rec.bodies.size() == 5);
  CHECK(f.rec.bodies[1] == "[{\"id\":1}]");
  CHECK(f.rec.bodies[2] == "[{\"id\":2},{\"id\":\"bad\"}]");
  CHECK(f.rec.bodies[3] == "[{\"id\":2}]");
  CHECK(f.rec.bodies[4] == "[{\"id\":\"bad\"}]");
  std::set<std::string> labels(f.rec.labels.begin(), f.rec.labels.end());
  CHECK(labels.size() == 5); // every load under a label of its own
  CHECK(f.rec.failures.empty());
  REQUIRE(f.rec.loaded.size() == 1); // the batch's piece, acked once, after all of it
  CHECK(f.rec.loaded[0].size() == 1);
  CHECK(f.rec.stats[0].rows == 2);
  CHECK(f.rec.stats[0].filtered_rows == 1);
  CHECK(f.rec.flush_answer == true);
}

TEST_CASE("writer: errors.tolerance=none: the task fails naming the rejected record's offset") {
  fixture f;
  f.rec.script = {filtered(3, 1), status("Success"), filtered(2, 1), status("Success"), filtered(1, 1)};
  f.send_rows(0, 0, "{\"id\":1},{\"id\":2},{\"id\":\"bad\"}", 3, 10);
  f.request_flush();
  REQUIRE(f.rec.failures.size() == 1);
  CHECK(f.rec.failures[0].find("topic topic, partition 0, offset 12") != std::string::npos);
  CHECK(f.rec.loaded.empty());
  CHECK(f.rec.flush_answer == false);
}

TEST_CASE("writer: rows that cannot be told apart fail the load as before") {
  fixture f(1 << 20, conf::load_interface::v1, false, true);
  f.rec.script = {filtered(1, 1)};
  caf::anon_send(f.writer, batch_atom::value, row_fragment{{"topic", 0}, 0, "t", "{\"id\":1}", 1, {}});
  f.sched->run();
  f.request_flush();
  CHECK(f.rec.labels.size() == 1);
  REQUIRE(f.rec.failures.size() == 1);
  CHECK(f.rec.failures[0].find("too many filtered rows") != std::string::npos);
}

TEST_CASE("writer: retries stop at sink.maxretries") {
  fixture f;
  attempt_outcome refused;
  refused.transport_error = "connection refused";
  f.rec.script = {refused, refused, refused, refused};
  f.send_rows(0, 0, "{\"id\":1}", 1);
  f.request_flush();
  for (int i = 0; i < 5; ++i) f.let_time_pass();
  CHECK(f.rec.labels.size() == 4);
  REQUIRE(f.rec.failures.size() == 1);
  CHECK(f.rec.failures[0].find("gave up after 4 attempts") != std::string::npos);
}

TEST_CASE("writer: reaching the batch size starts a load without a flush request") {
  fixture f(16);
  f.rec.script = {status("Success")};
  f.send_rows(0, 0, "{\"id\":1},{\"id\":2},{\"id\":3}", 3);
  CHECK(f.rec.labels.size() == 1);
  CHECK(f.rec.loaded.size() == 1);
}

TEST_CASE("writer: loads at once when every feeding partition is caught up, not before") {
  fixture f(64 << 20); // far from the size trigger
  f.rec.script = {status("Success")};
  std::string big = "{\"v\":\"" + std::string(2 << 20, 'x') + "\"}";
  f.send_rows(0, 0, big, 1);
  f.send_rows(1, 0, big, 1);
  caf::anon_send(f.writer, caught_up_atom::value, stream_id{"topic", 0});
  f.sched->run();
  CHECK(f.rec.labels.empty()); // partition 1 may still have rows coming
  caf::anon_send(f.writer, caught_up_atom::value, stream_id{"topic", 1});
  f.sched->run();
  CHECK(f.rec.labels.size() == 1);
  CHECK(f.rec.loaded.size() == 1);
}

TEST_CASE("writer: sink.version=AUTO asks the FE once, then loads every batch as a transaction") {
  fixture f(1 << 20, conf::load_interface::automatic);
  f.rec.probes = {stream_load::interface_support::transactions};
  f.send_rows(0, 0, "{\"id\":1}", 1);
  f.request_flush();
  f.send_rows(0, 1, "{\"id\":2}", 1);
  f.request_flush();
  CHECK(f.rec.probes_asked == 1);
  CHECK(f.rec.labels.empty()); // no V1 attempt
  REQUIRE(f.rec.jobs.size() == 2);
  CHECK(f.rec.jobs[0].committed);
  CHECK(f.rec.jobs[1].body == "[{\"id\":2}]");
  CHECK(ends_with(f.rec.jobs[1].label, "-2")); // the second label of the writer's sequence
  CHECK(f.rec.loaded.size() == 2);
}

TEST_CASE("writer: sink.version=AUTO without transaction endpoints loads over V1 and stops asking") {
  fixture f(1 << 20, conf::load_interface::automatic);
  f.rec.probes = {stream_load::interface_support::stream_load_only};
  f.rec.script = {status("Success"), status("Success")};
  f.send_rows(0, 0, "{\"id\":1}", 1);
  f.request_flush();
  f.send_rows(0, 1, "{\"id\":2}", 1);
  f.request_flush();
  CHECK(f.rec.probes_asked == 1);
  CHECK(f.rec.jobs.empty());
  CHECK(f.rec.labels.size() == 2);
  CHECK(f.rec.loaded.size() == 2);
}

TEST_CASE("writer: sink.version=AUTO that cannot tell loads this batch over V1 and asks again") {
  fixture f(1 << 20, conf::load_interface::automatic);
  f.rec.probes = {stream_load::interface_support::unknown, stream_load::interface_support::transactions};
  f.rec.script = {status("Success")};
  f.send_rows(0, 0, "{\"id\":1}", 1);
  f.request_flush();
  CHECK(f.rec.labels.size() == 1);
  f.send_rows(0, 1, "{\"id\":2}", 1);
  f.request_flush();
  CHECK(f.rec.probes_asked == 2);
  CHECK(f.rec.jobs.size() == 1);
  CHECK(f.rec.loaded.size() == 2);
}

TEST_CASE("writer: exactly-once with AUTO fails clearly when the FE has no transaction endpoints") {
  fixture f(1 << 20, conf::load_interface::automatic, true);
  f.rec.probes = {stream_load::interface_support::stream_load_only};
  f.send_rows(0, 0, "{\"id\":1}", 1);
  auto answer = f.request_prepare();
  REQUIRE(answer);
  CHECK_FALSE(answer->ok);
  CHECK(answer->failure.find("exactly-once needs the transaction Stream Load interface") != std::string::npos);
  REQUIRE(f.rec.failures.size() == 1);
  CHECK(f.rec.jobs.empty());
  CHECK(f.rec.loaded.empty());
}

TEST_CASE("writer: exactly-once labels restart at 1 under the slot a rebalance gave the task") {
  fixture f(1 << 20, conf::load_interface::v2, true);
  auto prepare = [&f] {
    auto answer = f.request_prepare();
    REQUIRE(answer);
    return *answer;
  };
  f.send_rows(0, 0, "{\"id\":1}", 1);
  auto first = prepare();
  f.send_rows(0, 1, "{\"id\":2}", 1);
  auto second = prepare();
  caf::anon_send(f.writer, slot_atom::value, std::string("wnext"));
  f.sched->run();
  f.send_rows(0, 2, "{\"id\":3}", 1);
  auto third = prepare();
  REQUIRE(f.rec.jobs.size() == 3);
  CHECK(ends_with(f.rec.jobs[0].label, "-wslot-1"));
  CHECK(ends_with(f.rec.jobs[1].label, "-wslot-2"));
  CHECK(ends_with(f.rec.jobs[2].label, "-wnext-1"));
  CHECK(f.rec.jobs[2].prepared);
  REQUIRE(third.labels.size() == 1);
  CHECK(third.labels[0].slot == "wnext");
  CHECK(third.labels[0].sequence == 1);
  CHECK(first.labels[0].slot == "wslot");
  CHECK(second.labels[0].sequence == 2);
  CHECK(prepare().labels.empty()); // nothing new: nothing prepared
}

// While a load is in flight, rows keep coming; the next body never grows past the load size
// (growing it overshot the memory budget by its reallocations): full bodies queue, in order.
TEST_CASE("writer: rows arriving during a load fill bodies of at most the load size, loaded in order") {
  fixture f(24); // a body of 24 bytes at most: two rows of 9 bytes, brackets and comma
  attempt_outcome refused;
  refused.transport_error = "connection refused";
  f.rec.script = {refused, status("Success"), status("Success"), status("Success"), status("Success")};
  f.send_rows(0, 0, "{\"id\":10}", 1);
  f.request_flush(); // load 1 starts and is refused: it stays in flight, backing off
  REQUIRE(f.rec.labels.size() == 1);
  f.send_rows(0, 1, "{\"id\":11}", 1);
  f.send_rows(0, 2, "{\"id\":12}", 1);
  f.send_rows(0, 3, "{\"id\":13}", 1); // seals {11,12}
  f.send_rows(0, 4, "{\"id\":14}", 1);
  f.send_rows(0, 5, "{\"id\":15}", 1); // seals {13,14}
  CHECK(f.rec.labels.size() == 1);     // one load at a time
  f.request_flush();                   // everything, including the filling {15}
  f.let_time_pass();                   // the retry of load 1, then the queue
  for (int i = 0; i < 4 && f.rec.loaded.size() < 4; ++i) f.let_time_pass();
  REQUIRE(f.rec.bodies.size() == 5); // load 1 twice (refused, then loaded), then three more
  CHECK(f.rec.bodies[1] == "[{\"id\":10}]");
  CHECK(f.rec.bodies[2] == "[{\"id\":11},{\"id\":12}]");
  CHECK(f.rec.bodies[3] == "[{\"id\":13},{\"id\":14}]");
  CHECK(f.rec.bodies[4] == "[{\"id\":15}]");
  for (const auto& b : f.rec.bodies) CHECK(b.size() <= 24);
  REQUIRE(f.rec.loaded.size() == 4);
  CHECK(f.rec.loaded[1][0].seq == 1); // pieces acknowledged with their own body
  CHECK(f.rec.loaded[3][0].seq == 5);
  CHECK(f.rec.flush_answer == true);
}

// One retry model for both interfaces: a transaction's waits are the writer's own delayed
// retries (nothing sleeps), and an unreachable StarRocks is reported as a V1 load's is.
TEST_CASE("writer: a transaction waits for an unreachable StarRocks with delayed retries, says so, and spends no "
          "attempt") {
  fixture f(1 << 20, conf::load_interface::v2);
  attempt_outcome refused;
  refused.transport_error = "connection refused";
  refused.unreachable = true;
  f.rec.txn_script = {refused, refused, refused, refused, refused}; // more than sink.maxretries=3
  f.send_rows(0, 0, "{\"id\":1}", 1);
  f.request_flush();
  for (int wait = 1; wait <= 5; ++wait) {
    CHECK(f.rec.loaded.empty());
    CHECK(f.rec.retrying.size() == static_cast<size_t>(wait));
    f.let_time_pass(); // the retry is a delayed message: nothing happens until it fires
  }
  REQUIRE(f.rec.jobs.size() == 1);
  CHECK(f.rec.jobs[0].committed);
  CHECK(f.rec.loaded.size() == 1);
  CHECK(f.rec.failures.empty());
  CHECK(f.rec.retrying[0].find("StarRocks unreachable: connection refused") != std::string::npos);
}
