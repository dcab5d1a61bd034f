// The exactly-once coordinator with both of its peers scripted: the source's position store
// (positions with their checkpoint records) and StarRocks' transaction endpoints. Every step
// lands in one journal, so the order of "positions recorded" and "transaction committed" is
// what the tests read. They fail if a transaction were committed before the positions naming
// it were durable, if recovery rolled back a transaction a committed record names, or left a
// crashed owner's prepared transaction lingering.
#include <doctest/doctest.h>

#include <algorithm>

#include "conf/connector_config.h"
#include "conf/properties.h"
#include "protocol/exactly_once/checkpoint_record.h"
#include "protocol/exactly_once/transaction_coordinator.h"
#include "protocol/stream_load/label.h"
#include "tests/unit/load_outcomes.h"

using namespace starpipe;
using checkpoint::recorded_position;
using pipeline::source_position;
using pipeline::stream_id;
using stream_load::prepared_label;

namespace {

using journal = std::vector<std::string>;

bool saw(const journal& j, const std::string& e) { return std::find(j.begin(), j.end(), e) != j.end(); }
size_t index_of(const journal& j, const std::string& e) {
  return static_cast<size_t>(std::find(j.begin(), j.end(), e) - j.begin());
}

// StarRocks' transaction endpoints: every commit and rollback answers OK; a label's state is
// what the test set (UNKNOWN otherwise).
struct scripted_starrocks : stream_load::transaction_api {
  journal* events;
  std::map<std::string, std::string> states;
  explicit scripted_starrocks(journal* j) : events(j) {}
  stream_load::attempt_outcome call(stream_load::txn_op op, const stream_load::load_request& req) override {
    events->push_back(std::string(stream_load::to_string(op)) + " " + req.label);
    return stream_load::testing::with_status("OK");
  }
  std::string state_of_label(const std::string&, const std::string& label) override {
    auto it = states.find(label);
    return it == states.end() ? "UNKNOWN" : it->second;
  }
};

// A source's position store. Positions are opaque tokens here, as the coordinator sees them.
// A refused write changes nothing; a lost answer writes and still says false.
struct scripted_positions : checkpoint::position_store {
  journal* events;
  std::map<stream_id, recorded_position> stored;
  bool refuse = false, lose_answer = false;
  explicit scripted_positions(journal* j) : events(j) {}
  std::optional<std::map<stream_id, recorded_position>> recorded(const std::vector<stream_id>& streams) override {
    std::map<stream_id, recorded_position> out;
    for (const auto& s : streams)
      if (stored.count(s)) out[s] = stored[s];
    return out;
  }
  bool record(const std::vector<stream_id>& streams, const pipeline::position_map& positions,
              const std::string& metadata) override {
    if (refuse) {
      events->push_back("positions refused");
      return false;
    }
    std::string names;
    for (const auto& l : stream_load::decode_checkpoint_record(metadata).txns) names += " " + l.label;
    std::string at;
    for (const auto& s : streams) {
      auto& r = stored[s];
      if (auto p = positions.find(s); p != positions.end()) r.position = p->second;
      r.metadata = metadata;
      at += " " + s.to_string() + "@" + (r.position ? std::to_string(r.position->token) : "start");
    }
    events->push_back("positions" + at + " naming" + names);
    return !lose_answer;
  }
  stream_load::checkpoint_record record_of(const stream_id& s) {
    return stream_load::decode_checkpoint_record(stored[s].metadata);
  }
};

const stream_id orders0{"orders", 0};

struct fixture {
  journal events;
  std::shared_ptr<const conf::connector_config> connector;
  scripted_starrocks* starrocks = nullptr; // owned by the coordinator
  scripted_positions positions{&events};
  std::unique_ptr<checkpoint::transaction_coordinator> coordinator;

  fixture() {
    conf::worker_config worker;
    connector = std::make_shared<const conf::connector_config>(conf::parse_connector_config(
        conf::parse_properties("name=c\nconnector.class=com.starrocks.connector.kafka.StarRocksSinkConnector\n"
                               "topics=orders\nstarrocks.http.url=127.0.0.1:8030\nstarrocks.database.name=db\n"
                               "starrocks.username=root\nstarrocks.password=\nsink.version=V2\n"
                               "sink.semantic=exactly-once\n",
                               "sink.properties"),
        worker));
    auto api = std::make_unique<scripted_starrocks>(&events);
    starrocks = api.get();
    coordinator = std::make_unique<checkpoint::transaction_coordinator>(
        connector, "127.0.0.1:8083", 0, "task-0", std::move(api), [](std::chrono::milliseconds) {});
  }
  prepared_label label(const std::string& slot, uint64_t n) const {
    return {"orders", stream_load::make_label(connector->label_prefix, "orders", slot, n), slot, n};
  }
  // A checkpoint's phase one: one prepared transaction reaching the record at position `last`.
  prepared_checkpoint prepared(const prepared_label& l, int64_t last) const {
    prepared_checkpoint p;
    p.labels = {l};
    p.positions[{"orders", 0}] = pipeline::source_position{last};
    return p;
  }
};

} // namespace

TEST_CASE("exactly-once recovery: what a committed record names is committed; a crashed owner's later prepared "
          "transaction is rolled back; then a fresh slot is recorded") {
  fixture f;
  auto named = f.label("w1t0rold", 1);
  auto lingering = f.label("w1t0rold", 2);
  f.positions.stored[orders0] = {source_position{10}, stream_load::encode_checkpoint_record({"w1t0rold", {named}})};
  f.starrocks->states[named.label] = "PREPARED";
  f.starrocks->states[lingering.label] = "PREPARED";
  f.events.clear();

  auto slot = f.coordinator->take_streams(f.positions, {orders0}, {orders0});

  CHECK(saw(f.events, "commit " + named.label));
  CHECK_FALSE(saw(f.events, "rollback " + named.label));
  CHECK(saw(f.events, "rollback " + lingering.label));
  CHECK_FALSE(saw(f.events, "commit " + lingering.label));
  // The claim: the recorded position stays where it was, the record now names the new slot
  // and nothing else (the named transaction is settled).
  CHECK(slot != "w1t0rold");
  CHECK(f.positions.stored[orders0].position == source_position{10});
  CHECK(f.positions.record_of(orders0).owner == slot);
  CHECK(f.positions.record_of(orders0).txns.empty());
  CHECK(index_of(f.events, "commit " + named.label) < index_of(f.events, "positions orders-0@10 naming"));
}

TEST_CASE("exactly-once decision: the positions naming a prepared transaction are recorded before it is committed") {
  fixture f;
  auto slot = f.coordinator->take_streams(f.positions, {orders0}, {orders0});
  auto l = f.label(slot, 1);
  f.events.clear();
  CHECK(f.coordinator->decide(f.positions, f.prepared(l, 41), {orders0}, false));
  REQUIRE(saw(f.events, "positions orders-0@41 naming " + l.label));
  REQUIRE(saw(f.events, "commit " + l.label));
  CHECK(index_of(f.events, "positions orders-0@41 naming " + l.label) < index_of(f.events, "commit " + l.label));
  CHECK(f.coordinator->idle());
}

TEST_CASE("exactly-once decision: a refused position record commits no transaction; revoking, it rolls them back") {
  fixture f;
  auto slot = f.coordinator->take_streams(f.positions, {orders0}, {orders0});
  auto first = f.label(slot, 1), second = f.label(slot, 2);
  f.positions.refuse = true;
  f.events.clear();
  // Not revoking: the transaction stays prepared and is named by the next checkpoint.
  CHECK_FALSE(f.coordinator->decide(f.positions, f.prepared(first, 41), {orders0}, false));
  CHECK_FALSE(saw(f.events, "commit " + first.label));
  CHECK_FALSE(saw(f.events, "rollback " + first.label));
  f.positions.refuse = false;
  CHECK(f.coordinator->decide(f.positions, f.prepared(second, 50), {orders0}, false));
  CHECK(saw(f.events, "positions orders-0@50 naming " + first.label + " " + second.label));
  CHECK(index_of(f.events, "positions orders-0@50 naming " + first.label + " " + second.label) <
        index_of(f.events, "commit " + first.label));
  // Revoking: a refused decision is never made, so its transaction must not linger.
  auto third = f.label(slot, 3);
  f.positions.refuse = true;
  f.events.clear();
  CHECK_FALSE(f.coordinator->decide(f.positions, f.prepared(third, 60), {orders0}, true));
  CHECK(saw(f.events, "rollback " + third.label));
  CHECK_FALSE(saw(f.events, "commit " + third.label));
  CHECK(f.coordinator->idle());
}

TEST_CASE("exactly-once decision: a position record whose answer was lost counts once read back as recorded") {
  fixture f;
  auto slot = f.coordinator->take_streams(f.positions, {orders0}, {orders0});
  auto l = f.label(slot, 1);
  f.positions.lose_answer = true;
  f.events.clear();
  CHECK(f.coordinator->decide(f.positions, f.prepared(l, 7), {orders0}, false));
  CHECK(saw(f.events, "commit " + l.label));
  CHECK_FALSE(saw(f.events, "rollback " + l.label));
}

TEST_CASE("exactly-once decision: the record goes on every owned stream, those whose position did not move included") {
  fixture f;
  const stream_id orders1{"orders", 1};
  // Nothing recorded anywhere yet: the slot is claimed where each stream stands.
  auto slot = f.coordinator->take_streams(f.positions, {orders0, orders1}, {orders0, orders1});
  CHECK(saw(f.events, "positions orders-0@start orders-1@start naming"));
  auto l = f.label(slot, 1);
  f.events.clear();
  // Rows of orders-0 only: orders-1 still carries the record naming them, so whichever
  // stream moves to another task first tells it that this transaction is decided.
  CHECK(f.coordinator->decide(f.positions, f.prepared(l, 41), {orders0, orders1}, false));
  CHECK(saw(f.events, "positions orders-0@41 orders-1@start naming " + l.label));
  CHECK(f.positions.record_of(orders1).owner == slot);
  CHECK(f.positions.record_of(orders1).txns == std::vector<prepared_label>{l});
  // Nothing new since: no second write.
  f.events.clear();
  prepared_checkpoint same;
  same.positions[orders0] = source_position{41};
  CHECK(f.coordinator->decide(f.positions, same, {orders0, orders1}, false));
  CHECK(f.events.empty());
}
