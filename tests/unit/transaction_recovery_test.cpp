// The exactly-once coordinator with both of its peers scripted: the consumer group's committed
// offsets (with their checkpoint records) and StarRocks' transaction endpoints. Every step
// lands in one journal, so the order of "offsets recorded" and "transaction committed" is what
// the tests read. They fail if a transaction were committed before the offsets naming it were
// durable, if recovery rolled back a transaction a committed record names, or left a
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
using checkpoint::committed_offset;
using checkpoint::topic_partition;
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

// The consumer group's committed offsets. A refused commit changes nothing; a lost answer
// commits and still says false.
struct scripted_offsets : checkpoint::offset_store {
  journal* events;
  std::map<topic_partition, committed_offset> stored;
  bool refuse = false, lose_answer = false;
  explicit scripted_offsets(journal* j) : events(j) {}
  std::optional<std::map<topic_partition, committed_offset>> committed(const std::vector<topic_partition>& tps) override {
    std::map<topic_partition, committed_offset> out;
    for (const auto& tp : tps)
      if (stored.count(tp)) out[tp] = stored[tp];
    return out;
  }
  bool commit(const checkpoint::offset_map& offsets, const std::string& metadata) override {
    if (refuse) {
      events->push_back("offsets refused");
      return false;
    }
    std::string names;
    for (const auto& l : stream_load::decode_checkpoint_record(metadata).txns) names += " " + l.label;
    std::string at;
    for (const auto& [tp, off] : offsets) {
      stored[tp] = {off, metadata};
      at += " " + tp.to_string() + "@" + std::to_string(off);
    }
    events->push_back("offsets" + at + " naming" + names);
    return !lose_answer;
  }
  int64_t start_offset(const topic_partition&) override { return 0; }
  stream_load::checkpoint_record record_of(const topic_partition& tp) {
    return stream_load::decode_checkpoint_record(stored[tp].metadata);
  }
};

const topic_partition orders0{"orders", 0};

struct fixture {
  journal events;
  std::shared_ptr<const conf::connector_config> connector;
  scripted_starrocks* starrocks = nullptr; // owned by the coordinator
  scripted_offsets offsets{&events};
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
  f.offsets.stored[orders0] = {10, stream_load::encode_checkpoint_record({"w1t0rold", {named}})};
  f.starrocks->states[named.label] = "PREPARED";
  f.starrocks->states[lingering.label] = "PREPARED";
  f.events.clear();

  auto slot = f.coordinator->take_partitions(f.offsets, {orders0}, {orders0});

  CHECK(saw(f.events, "commit " + named.label));
  CHECK_FALSE(saw(f.events, "rollback " + named.label));
  CHECK(saw(f.events, "rollback " + lingering.label));
  CHECK_FALSE(saw(f.events, "commit " + lingering.label));
  // The claim: the committed offset stays where it was, the record now names the new slot
  // and nothing else (the named transaction is settled).
  CHECK(slot != "w1t0rold");
  CHECK(f.offsets.stored[orders0].offset == 10);
  CHECK(f.offsets.record_of(orders0).owner == slot);
  CHECK(f.offsets.record_of(orders0).txns.empty());
  CHECK(index_of(f.events, "commit " + named.label) < index_of(f.events, "offsets orders-0@10 naming"));
}

TEST_CASE("exactly-once decision: the offsets naming a prepared transaction are recorded before it is committed") {
  fixture f;
  auto slot = f.coordinator->take_partitions(f.offsets, {orders0}, {orders0});
  auto l = f.label(slot, 1);
  f.events.clear();
  CHECK(f.coordinator->decide(f.offsets, f.prepared(l, 41), {orders0}, false));
  REQUIRE(saw(f.events, "offsets orders-0@42 naming " + l.label));
  REQUIRE(saw(f.events, "commit " + l.label));
  CHECK(index_of(f.events, "offsets orders-0@42 naming " + l.label) < index_of(f.events, "commit " + l.label));
  CHECK(f.coordinator->idle());
}

TEST_CASE("exactly-once decision: a refused offset commit commits no transaction; revoking, it rolls them back") {
  fixture f;
  auto slot = f.coordinator->take_partitions(f.offsets, {orders0}, {orders0});
  auto first = f.label(slot, 1), second = f.label(slot, 2);
  f.offsets.refuse = true;
  f.events.clear();
  // Not revoking: the transaction stays prepared and is named by the next checkpoint.
  CHECK_FALSE(f.coordinator->decide(f.offsets, f.prepared(first, 41), {orders0}, false));
  CHECK_FALSE(saw(f.events, "commit " + first.label));
  CHECK_FALSE(saw(f.events, "rollback " + first.label));
  f.offsets.refuse = false;
  CHECK(f.coordinator->decide(f.offsets, f.prepared(second, 50), {orders0}, false));
  CHECK(saw(f.events, "offsets orders-0@51 naming " + first.label + " " + second.label));
  CHECK(index_of(f.events, "offsets orders-0@51 naming " + first.label + " " + second.label) <
        index_of(f.events, "commit " + first.label));
  // Revoking: a refused decision is never made, so its transaction must not linger.
  auto third = f.label(slot, 3);
  f.offsets.refuse = true;
  f.events.clear();
  CHECK_FALSE(f.coordinator->decide(f.offsets, f.prepared(third, 60), {orders0}, true));
  CHECK(saw(f.events, "rollback " + third.label));
  CHECK_FALSE(saw(f.events, "commit " + third.label));
  CHECK(f.coordinator->idle());
}

TEST_CASE("exactly-once decision: an offset commit whose answer was lost counts once read back as recorded") {
  fixture f;
  auto slot = f.coordinator->take_partitions(f.offsets, {orders0}, {orders0});
  auto l = f.label(slot, 1);
  f.offsets.lose_answer = true;
  f.events.clear();
  CHECK(f.coordinator->decide(f.offsets, f.prepared(l, 7), {orders0}, false));
  CHECK(saw(f.events, "commit " + l.label));
  CHECK_FALSE(saw(f.events, "rollback " + l.label));
}
