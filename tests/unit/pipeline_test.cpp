// The whole sink pipeline driven through the source contract, under CAF's deterministic test
// coordinator: a scripted source (not Kafka) feeds the real supervisor, record stage and
// Stream Load writer; the load executor is scripted and holds each load until the test
// answers it. Nothing runs unless the test runs it, so an order that is wrong once is wrong
// every time.
#include <doctest/doctest.h>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "deterministic_system.h"

#include <deque>

#include "actors/checkpoint/supervisor.h"
#include "actors/messages.h"
#include "actors/pipeline/record_stage.h"
#include "conf/connector_config.h"
#include "conf/properties.h"
#include "load_outcomes.h"

using namespace starpipe;
using stream_load::attempt_outcome;

namespace {

using emit_atom = caf::atom_constant<caf::atom("emit")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
// Answers the held prepare of a transaction.
using release_txn_atom = caf::atom_constant<caf::atom("releasetx")>;
// Tells the scripted source to give its stream up (as a Kafka revoke does).
using give_up_atom = caf::atom_constant<caf::atom("giveup")>;

// What the actors under test did, in the order they did it.
struct journal {
  std::vector<std::string> events;
  std::deque<caf::typed_response_promise<attempt_outcome>> held_loads;
  std::deque<caf::typed_response_promise<attempt_outcome>> held_jobs; // transactions' prepare calls
  std::vector<std::string> bodies;
  std::vector<position_map> commits;
  size_t async_commits = 0; // those of commits sent on a load, not by a checkpoint
  void log(std::string e) { events.push_back(std::move(e)); }
  bool saw(const std::string& e) const { return std::find(events.begin(), events.end(), e) != events.end(); }
  size_t index_of(const std::string& e) const {
    return static_cast<size_t>(std::find(events.begin(), events.end(), e) - events.begin());
  }
};

std::string text_of(const position_map& m) {
  std::string s;
  for (const auto& [stream, p] : m) s += (s.empty() ? "" : ",") + stream.to_string() + "@" + std::to_string(p.token);
  return s;
}

pipeline::record_stage_settings stage_settings(std::shared_ptr<const conf::connector_config> connector, int owner,
                                               caf::actor dead_letters = {}) {
  pipeline::record_stage_settings s;
  s.connector = std::move(connector);
  s.owner = owner;
  s.dead_letters = std::move(dead_letters);
  return s;
}

attempt_outcome answer(const std::string& status, const std::string& message = "OK") {
  return stream_load::testing::with_status(status, message);
}

// A source as the contract describes it, with one stream ("slot-0": no Kafka in sight). The
// test tells it what to emit; positions are tokens the pipeline must hand back untouched.
caf::behavior scripted_source(caf::event_based_actor* self, journal* j, caf::actor stage, caf::actor supervisor) {
  auto seq = std::make_shared<uint64_t>(0);
  return {
      // The contract's hand-off: everything handed on is loaded first; the answer is the
      // position to commit before the stream goes.
      [=](give_up_atom) {
        self->request(stage, caf::infinite, barrier_atom::value).then([=](bool) {
          j->log("handing off");
          self->request(supervisor, caf::infinite, handoff_atom::value, std::vector<stream_id>{{"slot", 0}})
              .then([=](const position_map& m) { j->log("handed off " + text_of(m)); });
        });
      },
      [=](emit_atom, std::vector<pipeline::owned_record> records, int64_t bytes) {
        auto last = records.back().position;
        auto set = std::make_shared<pipeline::owned_record_set>(std::move(records));
        j->log("emit " + std::to_string(*seq));
        self->send(stage, batch_atom::value, record_batch{{"slot", 0}, (*seq)++, last, std::move(set), bytes});
      },
      [=](commit_atom, const position_map& m) {
        j->commits.push_back(m);
        j->log("commit " + text_of(m));
        return true;
      },
      [=](commit_atom, const position_map& m, bool) {
        j->commits.push_back(m);
        ++j->async_commits;
        j->log("commit " + text_of(m));
      },
      [=](credit_atom, int64_t) {},
      // Exactly-once: the checkpoint timer asks the source's own checkpoint driver.
      [=](checkpoint_atom) { j->log("checkpoint asked"); },
      [=](pause_atom) { j->log("pause"); },
      [=](resume_atom) { j->log("resume"); },
      // The contract's barrier: everything emitted before is handed on by the stage.
      [=](quiesce_atom) -> caf::result<bool> {
        auto rp = self->make_response_promise<bool>();
        self->request(stage, caf::infinite, barrier_atom::value).then([=](bool) mutable {
          j->log("quiesced");
          rp.deliver(true);
        });
        return rp;
      },
      [=](stop_atom) {
        j->log("stop");
        self->quit();
        return true;
      },
  };
}

caf::behavior holding_executor(caf::event_based_actor* self, journal* j) {
  return {
      [=](load_atom, const stream_load::load_request& req) {
        j->bodies.push_back(*req.body);
        j->log("load");
        auto rp = self->make_response_promise<attempt_outcome>();
        j->held_loads.push_back(rp);
        return rp;
      },
      // A transaction: begin and load answer at once; its prepare is held until the test answers.
      [=](load_atom, stream_load::txn_op op, const stream_load::load_request& req) -> caf::result<attempt_outcome> {
        if (op == stream_load::txn_op::load) {
          j->bodies.push_back(*req.body);
          j->log("prepare rows");
        }
        if (op != stream_load::txn_op::prepare) return answer("OK");
        j->log("prepare " + req.label);
        auto rp = self->make_response_promise<attempt_outcome>();
        j->held_jobs.push_back(rp);
        return rp;
      },
      [=](release_txn_atom, const attempt_outcome& o) {
        if (j->held_jobs.empty()) return;
        auto rp = j->held_jobs.front();
        j->held_jobs.pop_front();
        rp.deliver(o);
      },
      // A promise is delivered from inside its actor: the test asks the executor to answer.
      [=](release_atom, const attempt_outcome& o) {
        if (j->held_loads.empty()) return;
        auto rp = j->held_loads.front();
        j->held_loads.pop_front();
        rp.deliver(o);
      },
  };
}

pipeline::owned_record rec(int64_t offset, int64_t token, const std::string& value) {
  pipeline::owned_record r;
  r.topic = "orders";
  r.partition = 0;
  r.offset = offset;
  r.value = value;
  r.position = source_position{token};
  return r;
}

struct fixture : testing::deterministic_system {
  journal j;
  caf::actor supervisor;
  caf::actor source;
  caf::actor executor;
  std::shared_ptr<pipelines::connector_registry> registry = std::make_shared<pipelines::connector_registry>();

  explicit fixture(const std::string& extra = "sink.version=V1\n") {
    auto worker = std::make_shared<conf::worker_config>();
    auto text = std::string("name=c\n"
                            "connector.class=com.starrocks.connector.kafka.StarRocksSinkConnector\n"
                            "topics=orders\n"
                            "starrocks.http.url=127.0.0.1:8030\n"
                            "starrocks.database.name=db\n"
                            "starrocks.username=root\n"
                            "starrocks.password=\n"
                            "value.converter=org.apache.kafka.connect.json.JsonConverter\n"
                            "value.converter.schemas.enable=false\n") +
                extra;
    auto connector = std::make_shared<conf::connector_config>(
        conf::parse_connector_config(conf::parse_properties(text, "sink.properties"), *worker));
    checkpoint::supervisor_settings s;
    s.connector = connector;
    s.worker = worker;
    s.registry = registry;
    s.make_executor = [this](caf::actor_system& sys) { return executor = sys.spawn(holding_executor, &j); };
    s.make_source = [this, connector](caf::actor_system& sys, int index, caf::actor sup, caf::actor dead_letters) {
      auto stage = pipeline::spawn_record_stage(sys, stage_settings(connector, index, dead_letters), sup);
      source = sys.spawn(scripted_source, &j, stage, sup);
      return source;
    };
    supervisor = checkpoint::spawn_supervisor(*sys, s);
    sched->run();
  }
  ~fixture() {
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    if (source) caf::anon_send_exit(source, caf::exit_reason::user_shutdown);
    while (executor && !j.held_loads.empty()) {
      caf::anon_send(executor, release_atom::value, answer("Fail", "test over"));
      sched->run();
    }
    if (executor) caf::anon_send_exit(executor, caf::exit_reason::user_shutdown);
    sched->run();
  }

  void emit(std::vector<pipeline::owned_record> records) {
    caf::anon_send(source, emit_atom::value, std::move(records), int64_t{100});
    sched->run();
  }
  // The offset.flush.interval.ms timer firing: a checkpoint (flush, then commit).
  void checkpoint() {
    caf::anon_send(supervisor, checkpoint_atom::value);
    sched->run();
  }
  void release_load(const std::string& status, const std::string& message = "OK") {
    REQUIRE_FALSE(j.held_loads.empty());
    j.log("StarRocks answered " + status);
    caf::anon_send(executor, release_atom::value, answer(status, message));
    sched->run();
  }
  bool committed_anything() const { return !j.commits.empty(); }
  // Asks the supervisor to shut down; `answer` is set when it answers.
  void shutdown(std::optional<bool>& answer) {
    sys->spawn([this, &answer](caf::event_based_actor* self) {
      self->request(supervisor, caf::infinite, shutdown_atom::value).then([&answer](bool ok) { answer = ok; });
    });
  }
  std::string state() const { return registry->get("c")->state; }
};

} // namespace

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<starpipe::pipeline::owned_record>)

TEST_CASE("pipeline: a position is committed only after every row it covers is loaded") {
  fixture f;
  f.emit({rec(0, 7001, R"({"id":1})"), rec(1, 7002, R"({"id":2})"), rec(2, 7003, R"({"id":3})")});
  f.checkpoint();
  // The checkpoint flushed the writer: one load, holding the three rows, not answered yet.
  REQUIRE(f.j.held_loads.size() == 1);
  CHECK(f.j.bodies.back().find(R"({"id":3})") != std::string::npos);
  CHECK_FALSE(f.committed_anything());
  // More checkpoints while the load is in flight commit nothing either.
  f.checkpoint();
  f.checkpoint();
  CHECK_FALSE(f.committed_anything());
  f.release_load("Success");
  // Now, and only now, the batch's own last position comes back, untouched (a Kafka source
  // would commit offset 3 for it; this source resumes after token 7003).
  REQUIRE(f.committed_anything());
  CHECK(f.j.index_of("commit slot-0@7003") > f.j.index_of("StarRocks answered Success"));
  for (const auto& c : f.j.commits) CHECK(text_of(c) == "slot-0@7003");
}

TEST_CASE("pipeline: a later batch's load does not commit past an earlier one still loading") {
  fixture f;
  f.emit({rec(0, 50, R"({"id":1})")});
  f.checkpoint(); // load 1 in flight with batch 0
  f.emit({rec(1, 40, R"({"id":2})")});
  f.checkpoint(); // batch 1 waits for load 1 (one load at a time per writer)
  REQUIRE(f.j.held_loads.size() == 1);
  f.release_load("Success");
  // Batch 0 is loaded: its position, not the larger or the later one.
  REQUIRE_FALSE(f.j.commits.empty());
  CHECK(text_of(f.j.commits.back()) == "slot-0@50");
  f.checkpoint();
  REQUIRE(f.j.held_loads.size() == 1);
  f.release_load("Success");
  CHECK(text_of(f.j.commits.back()) == "slot-0@40");
}

TEST_CASE("pipeline: a failed load commits nothing it covers and fails the task") {
  fixture f;
  f.emit({rec(0, 9, R"({"id":1})")});
  f.checkpoint();
  f.release_load("Fail", "Access denied");
  f.checkpoint();
  CHECK_FALSE(f.committed_anything());
  // The failed task gives up its stream (the contract's stop).
  CHECK(f.j.saw("stop"));
}

TEST_CASE("pipeline: shutdown loads what was emitted before it and commits it before the source stops") {
  fixture f;
  // Emitted and not yet handed on when shutdown starts: the barrier must wait for it.
  caf::anon_send(f.source, emit_atom::value, std::vector<pipeline::owned_record>{rec(0, 11, R"({"id":1})")},
                 int64_t{100});
  std::optional<bool> stopped;
  auto waiter = f.sys->spawn([&](caf::event_based_actor* self) {
    self->request(f.supervisor, caf::infinite, shutdown_atom::value).then([&](bool ok) { stopped = ok; });
  });
  f.sched->run();
  REQUIRE(f.j.held_loads.size() == 1);
  CHECK(f.j.index_of("quiesced") < f.j.events.size());
  CHECK_FALSE(f.committed_anything());
  CHECK_FALSE(f.j.saw("stop"));
  f.release_load("Success");
  REQUIRE(stopped);
  CHECK(*stopped);
  CHECK(f.j.index_of("commit slot-0@11") < f.j.index_of("stop"));
  CHECK(f.j.saw("stop"));
}

TEST_CASE("pipeline: paused, the source reads nothing and REST says PAUSED; checkpoints still load and commit") {
  fixture f;
  CHECK(f.state() == "RUNNING");
  f.emit({rec(0, 21, R"({"id":1})")});
  caf::anon_send(f.supervisor, pause_atom::value);
  f.sched->run();
  CHECK(f.j.saw("pause"));
  CHECK(f.state() == "PAUSED");
  CHECK(f.registry->get("c")->tasks[0].state == "PAUSED");
  // A second pause is no new event for the source.
  caf::anon_send(f.supervisor, pause_atom::value);
  f.sched->run();
  CHECK(std::count(f.j.events.begin(), f.j.events.end(), "pause") == 1);
  // What was read before the pause is loaded and committed while paused.
  f.checkpoint();
  f.release_load("Success");
  REQUIRE(f.committed_anything());
  CHECK(text_of(f.j.commits.back()) == "slot-0@21");
  caf::anon_send(f.supervisor, resume_atom::value);
  f.sched->run();
  CHECK(f.j.saw("resume"));
  CHECK(f.state() == "RUNNING");
}

// Stopping is its own state: the shutdown's one final commit, after the loads, is the only
// one; timers, pauses and further shutdown requests do not start anything of their own.
TEST_CASE("pipeline: stopping, a load commits nothing by itself; the final commit follows it; a second shutdown "
          "waits for the first") {
  fixture f;
  f.emit({rec(0, 31, R"({"id":1})")});
  std::optional<bool> first, second;
  f.shutdown(first);
  f.sched->run();
  REQUIRE(f.j.held_loads.size() == 1); // the shutdown's flush
  caf::anon_send(f.supervisor, pause_atom::value);
  caf::anon_send(f.supervisor, checkpoint_atom::value);
  f.shutdown(second);
  f.sched->run();
  CHECK_FALSE(f.j.saw("pause"));
  CHECK(f.state() == "RUNNING");
  CHECK_FALSE(first);
  CHECK_FALSE(second);
  CHECK_FALSE(f.j.saw("stop"));
  f.release_load("Success");
  REQUIRE(f.j.commits.size() == 1);
  CHECK(f.j.async_commits == 0);
  CHECK(text_of(f.j.commits[0]) == "slot-0@31");
  CHECK(f.j.index_of("commit slot-0@31") < f.j.index_of("stop"));
  REQUIRE(first);
  REQUIRE(second);
  CHECK(*first);
  CHECK(*second);
}

// A stream given up (a revoke): the hand-off answers only once the stream's rows are loaded,
// with exactly their position, and from then on the stream is no longer the pipeline's.
TEST_CASE("pipeline: a hand-off waits for the stream's rows to load, answers their position, and forgets the "
          "stream") {
  fixture f;
  f.emit({rec(0, 61, R"({"id":1})"), rec(1, 62, R"({"id":2})")});
  caf::anon_send(f.source, give_up_atom::value);
  f.sched->run();
  CHECK(f.j.saw("handing off"));
  REQUIRE(f.j.held_loads.size() == 1); // the hand-off flushed the writer
  CHECK_FALSE(f.j.saw("handed off slot-0@62"));
  f.release_load("Success");
  REQUIRE(f.j.saw("handed off slot-0@62"));
  CHECK(f.j.index_of("StarRocks answered Success") < f.j.index_of("handed off slot-0@62"));
  // The position went back through the answer, for the source to commit itself; a
  // checkpoint after the hand-off commits nothing of the stream.
  f.j.commits.clear();
  f.checkpoint();
  for (const auto& c : f.j.commits) CHECK(c.count({"slot", 0}) == 0);
}

// Exactly-once, phase one as a source's checkpoint driver asks it: the prepared transactions
// and the positions their rows reach. A batch that reaches the writer after the prepare is in
// none of its transactions, and its position must not be in the answer either.
TEST_CASE("pipeline: exactly-once prepare answers the positions of exactly the rows it prepared") {
  fixture f("sink.version=V2\nsink.semantic=exactly-once\n");
  caf::anon_send(f.supervisor, slot_atom::value, 0, std::string("slotA"));
  f.sched->run();
  f.emit({rec(0, 100, R"({"id":1})"), rec(1, 101, R"({"id":2})")});
  // Exactly-once rows wait for a checkpoint: the timer alone loads nothing.
  f.checkpoint();
  CHECK(f.j.saw("checkpoint asked"));
  CHECK(f.j.held_jobs.empty());
  std::optional<prepared_checkpoint> answer_;
  f.sys->spawn([&](caf::event_based_actor* self) {
    self->request(f.supervisor, caf::infinite, prepare_atom::value, 0, std::vector<stream_id>{{"slot", 0}})
        .then([&](const prepared_checkpoint& p) { answer_ = p; });
  });
  f.sched->run();
  REQUIRE(f.j.held_jobs.size() == 1);
  CHECK(f.j.bodies.back().find(R"({"id":2})") != std::string::npos);
  // Emitted while the transaction is being prepared: not part of this checkpoint.
  f.emit({rec(2, 102, R"({"id":3})")});
  CHECK_FALSE(answer_);
  caf::anon_send(f.executor, release_txn_atom::value, answer("OK"));
  f.sched->run();
  REQUIRE(answer_);
  CHECK(answer_->ok);
  REQUIRE(answer_->labels.size() == 1);
  CHECK(answer_->labels[0].label == "starpipe-c-orders-slotA-1");
  CHECK(text_of(answer_->positions) == "slot-0@101");
  // The pipeline commits nothing itself under exactly-once: the source's driver decides.
  CHECK_FALSE(f.committed_anything());
}

// The stage alone, with a supervisor that holds the writer lookup: the barrier answers only
// after the rows received before it reached their writer.
TEST_CASE("record stage: a barrier lets no batch through") {
  testing::deterministic_system ds;
  auto& sys = *ds.sys;
  auto& sched = *ds.sched;
  journal j;
  auto connector = std::make_shared<conf::connector_config>();
  connector->name = "c";
  connector->value_converter.class_name = "org.apache.kafka.connect.json.JsonConverter";
  connector->value_converter.schemas_enable = false;
  std::optional<caf::response_promise> lookup;
  auto writer = sys.spawn([&](caf::event_based_actor*) -> caf::behavior {
    return {[&](batch_atom, const row_fragment& f) { j.log("writer got " + std::to_string(f.rows) + " rows"); }};
  });
  auto supervisor = sys.spawn([&](caf::event_based_actor* self) -> caf::behavior {
    return {
        [&, self](writer_atom, const std::string&, int) -> caf::result<caf::actor> {
          lookup = self->make_response_promise();
          return caf::delegated<caf::actor>{};
        },
        [&](register_atom, const stream_id&, uint64_t, source_position p, int, int64_t, int) {
          j.log("registered " + std::to_string(p.token));
        },
        [&](release_atom, const caf::actor& w) { lookup->deliver(w); },
    };
  });
  auto stage = pipeline::spawn_record_stage(sys, stage_settings(connector, 0), supervisor);
  std::vector<pipeline::owned_record> records{rec(0, 1, R"({"id":1})"), rec(1, 2, R"({"id":2})")};
  caf::anon_send(stage, batch_atom::value,
                 record_batch{{"slot", 0}, 0, source_position{2},
                              std::make_shared<pipeline::owned_record_set>(std::move(records)), 10});
  sys.spawn([&](caf::event_based_actor* self) {
    self->request(stage, caf::infinite, barrier_atom::value).then([&](bool) { j.log("barrier answered"); });
  });
  sched.run();
  CHECK(j.saw("registered 2"));
  CHECK_FALSE(j.saw("barrier answered")); // the rows have not reached their writer yet
  REQUIRE(lookup);
  caf::anon_send(supervisor, release_atom::value, writer);
  sched.run();
  REQUIRE(j.saw("barrier answered"));
  CHECK(j.index_of("writer got 2 rows") < j.index_of("barrier answered"));
  caf::anon_send_exit(stage, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
  sched.run();
}
