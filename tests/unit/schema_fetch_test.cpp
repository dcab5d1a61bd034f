// The hook for converters that fetch schemas (schema_fetch.h), under CAF's deterministic test
// coordinator: a converter whose records name a schema id, and a scripted fetcher that holds
// each request until the test answers it. The record stage must not convert, register or hand
// on anything of a batch before its schemas arrive, must keep later batches, caught-up signals
// and barriers behind it, must wait and ask again while the registry is unavailable, and must
// make a missing schema the error of the record that names it.
#include <doctest/doctest.h>

#include <caf/all.hpp>

#include "deterministic_system.h"

#include <deque>
#include <map>

#include "actors/messages.h"
#include "actors/pipeline/record_stage.h"
#include "conf/connector_config.h"
#include "protocol/connect/converter.h"
#include "protocol/connect/schema_fetch.h"

using namespace starpipe;
using connect::fetched_schema;
using connect::json;

namespace {

using release_atom = caf::atom_constant<caf::atom("release")>;

// Records are "<schema id>:<payload JSON>"; the schema is the id's, once it has been given.
class schema_id_converter final : public connect::converter {
public:
  bool to_connect(const char* data, size_t len, std::optional<connect::schema_and_value>& out,
                  std::string& error) const override {
    out.reset();
    if (!data) return true;
    std::string text(data, len);
    auto colon = text.find(':');
    auto it = schemas_.find(text.substr(0, colon));
    if (it == schemas_.end()) {
      error = "schema " + text.substr(0, colon) + " was never fetched";
      return false;
    }
    if (it->second.result != fetched_schema::outcome::found) {
      error = "schema " + it->first + " not found: " + it->second.error;
      return false;
    }
    out = connect::schema_and_value{json::parse(it->second.text), json::parse(text.substr(colon + 1))};
    return true;
  }
  std::optional<std::string> from_connect(const std::optional<connect::schema_and_value>&) const override {
    return std::nullopt;
  }
  void schemas_needed(const char* data, size_t len, std::vector<std::string>& ids) const override {
    std::string text(data, len);
    std::string id = text.substr(0, text.find(':'));
    if (!schemas_.count(id)) ids.push_back(id);
  }
  void add_schema(const fetched_schema& s) override { schemas_[s.id] = s; }

private:
  std::map<std::string, fetched_schema> schemas_;
};

const char* const id_schema = R"({"type":"struct","fields":[{"field":"id","type":"int32"}]})";

struct journal {
  std::vector<std::string> events;
  std::deque<std::vector<std::string>> fetches; // asked, not answered yet
  std::deque<caf::response_promise> held;
  std::vector<std::string> failures;
  void log(std::string e) { events.push_back(std::move(e)); }
  bool saw(const std::string& e) const { return std::find(events.begin(), events.end(), e) != events.end(); }
  size_t index_of(const std::string& e) const {
    return static_cast<size_t>(std::find(events.begin(), events.end(), e) - events.begin());
  }
};

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

struct fixture : testing::deterministic_system {
  journal j;
  caf::actor writer, supervisor, fetcher, stage;

  fixture() {
    auto connector = std::make_shared<conf::connector_config>();
    connector->name = "c";
    writer = sys->spawn([this](caf::event_based_actor*) -> caf::behavior {
      return {
          [this](batch_atom, const row_fragment& f) {
            j.log("writer got " + std::to_string(f.rows) + " rows of batch " + std::to_string(f.seq) + ": " + f.data);
          },
          [this](caught_up_atom, const stream_id& s) { j.log("writer told " + s.to_string() + " is caught up"); },
      };
    });
    supervisor = sys->spawn([this](caf::event_based_actor*) -> caf::behavior {
      return {
          [this](writer_atom, const std::string&, int) { return writer; },
          [this](register_atom, const stream_id&, uint64_t seq, source_position p, int, int64_t, int) {
            j.log("registered batch " + std::to_string(seq) + " at " + std::to_string(p.token));
          },
          [this](failed_atom, const stream_id&, int64_t offset, const std::string& why) {
            j.failures.push_back("offset " + std::to_string(offset) + ": " + why);
          },
      };
    });
    fetcher = sys->spawn([this](caf::event_based_actor* self) -> caf::behavior {
      return {
          [this, self](schemas_atom, const std::vector<std::string>& ids) {
            j.log("fetch " + joined(ids));
            j.fetches.push_back(ids);
            j.held.push_back(self->make_response_promise());
            return caf::delegated<std::vector<fetched_schema>>{};
          },
          // The test's answer to the oldest request (delivered from inside the fetcher).
          [this](release_atom, std::vector<fetched_schema>& answers) {
            auto promise = std::move(j.held.front());
            j.held.pop_front();
            promise.deliver(std::move(answers));
          },
      };
    });
    pipeline::record_stage_settings s;
    s.connector = connector;
    s.schema_fetcher = fetcher;
    s.make_converter = [](const conf::converter_spec&) { return std::make_unique<schema_id_converter>(); };
    stage = pipeline::spawn_record_stage(*sys, s, supervisor);
  }
  ~fixture() {
    for (auto& a : {stage, writer, supervisor, fetcher}) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched->run();
  }

  void send_batch(uint64_t seq, const std::vector<std::string>& values, int64_t first_offset) {
    std::vector<pipeline::owned_record> records;
    for (size_t i = 0; i < values.size(); ++i) {
      pipeline::owned_record r;
      r.topic = "orders";
      r.offset = first_offset + static_cast<int64_t>(i);
      r.value = values[i];
      r.position = source_position{r.offset};
      records.push_back(std::move(r));
    }
    auto last = records.back().position;
    caf::anon_send(stage, batch_atom::value,
                   record_batch{{"orders", 0}, seq, last,
                                std::make_shared<pipeline::owned_record_set>(std::move(records)), 10});
  }
  void barrier(const std::string& name) {
    sys->spawn([this, name](caf::event_based_actor* self) {
      self->request(stage, caf::infinite, barrier_atom::value).then([this, name](bool) { j.log(name + " answered"); });
    });
  }
  // Answers the oldest fetch: each id found with id_schema unless `outcome` says otherwise.
  void answer_fetch(fetched_schema::outcome outcome = fetched_schema::outcome::found, const std::string& error = "") {
    REQUIRE_FALSE(j.fetches.empty());
    std::vector<fetched_schema> answers;
    for (const auto& id : j.fetches.front())
      answers.push_back({id, outcome, outcome == fetched_schema::outcome::found ? id_schema : "", error});
    release(std::move(answers));
  }
  void release(std::vector<fetched_schema> answers) {
    j.fetches.pop_front();
    caf::anon_send(fetcher, release_atom::value, std::move(answers));
  }
};

} // namespace

TEST_CASE("schema fetch policy: an unavailable registry is asked again after a doubling backoff up to 10 s") {
  using o = fetched_schema::outcome;
  std::vector<fetched_schema> found{{"1", o::found, "{}", ""}, {"2", o::missing, "", "404"}};
  CHECK_FALSE(connect::after_fetch(found, 0).retry); // a missing schema is the record's error, not a wait
  std::vector<fetched_schema> down{{"1", o::found, "{}", ""}, {"2", o::unavailable, "", "refused"}};
  CHECK(connect::after_fetch(down, 0).retry);
  CHECK(connect::after_fetch(down, 0).after == std::chrono::milliseconds(100));
  CHECK(connect::after_fetch(down, 1).after == std::chrono::milliseconds(200));
  CHECK(connect::after_fetch(down, 3).after == std::chrono::milliseconds(800));
  CHECK(connect::after_fetch(down, 30).after == std::chrono::milliseconds(10000));
}

TEST_CASE("record stage: a batch waits for its schemas, and what came after it waits behind it") {
  fixture f;
  f.send_batch(0, {"1:{\"id\":1}", "2:{\"id\":2}", "1:{\"id\":3}"}, 10);
  f.send_batch(1, {"1:{\"id\":4}"}, 13);
  caf::anon_send(f.stage, caught_up_atom::value);
  f.barrier("barrier");
  f.sched->run();
  // One request for the two distinct ids; nothing converted, registered or answered yet.
  REQUIRE(f.j.fetches.size() == 1);
  CHECK(f.j.saw("fetch 1,2"));
  CHECK_FALSE(f.j.saw("registered batch 0 at 12"));
  CHECK_FALSE(f.j.saw("barrier answered"));
  CHECK(f.j.events.size() == 1);

  f.answer_fetch();
  f.sched->run();
  CHECK(f.j.fetches.empty()); // batch 1 names only a schema already given
  const std::string rows0 = "writer got 3 rows of batch 0: {\"id\":1},{\"id\":2},{\"id\":3}";
  const std::string rows1 = "writer got 1 rows of batch 1: {\"id\":4}";
  INFO(joined(f.j.events));
  REQUIRE(f.j.saw(rows0));
  REQUIRE(f.j.saw(rows1));
  REQUIRE(f.j.saw("barrier answered"));
  CHECK(f.j.index_of("registered batch 0 at 12") < f.j.index_of("registered batch 1 at 13"));
  CHECK(f.j.index_of(rows0) < f.j.index_of(rows1));
  CHECK(f.j.index_of(rows1) < f.j.index_of("writer told orders-0 is caught up"));
  CHECK(f.j.index_of(rows1) < f.j.index_of("barrier answered")); // the barrier let nothing through
  CHECK(f.j.failures.empty());
}

TEST_CASE("record stage: while the registry is unavailable the records wait and it is asked again") {
  fixture f;
  f.send_batch(0, {"7:{\"id\":1}"}, 0);
  f.sched->run();
  f.answer_fetch(fetched_schema::outcome::unavailable, "connection refused");
  f.sched->run();
  CHECK(f.j.fetches.empty()); // waiting out the backoff
  CHECK_FALSE(f.j.saw("registered batch 0 at 0"));
  f.sched->trigger_timeouts();
  f.sched->run();
  REQUIRE(f.j.fetches.size() == 1);
  CHECK(f.j.fetches.front() == std::vector<std::string>{"7"});
  f.answer_fetch();
  f.sched->run();
  CHECK(f.j.saw("registered batch 0 at 0"));
  CHECK(f.j.saw("writer got 1 rows of batch 0: {\"id\":1}"));
  CHECK(f.j.failures.empty());
}

TEST_CASE("record stage: a schema the registry does not have is the error of the record that names it") {
  fixture f;
  f.send_batch(0, {"1:{\"id\":1}", "9:{\"id\":2}"}, 40);
  f.sched->run();
  REQUIRE(f.j.fetches.size() == 1);
  CHECK(f.j.fetches.front() == std::vector<std::string>{"1", "9"});
  f.release({{"1", fetched_schema::outcome::found, id_schema, ""},
             {"9", fetched_schema::outcome::missing, "", "Schema 9 not found"}});
  f.sched->run();
  // errors.tolerance=none: the rows before it load, the task stops at the record's offset.
  CHECK(f.j.saw("writer got 1 rows of batch 0: {\"id\":1}"));
  REQUIRE(f.j.failures.size() == 1);
  CHECK(f.j.failures[0].find("offset 41: ") == 0);
  CHECK(f.j.failures[0].find("partition 0, offset 41") != std::string::npos);
  CHECK(f.j.failures[0].find("schema 9 not found: Schema 9 not found") != std::string::npos);
}
