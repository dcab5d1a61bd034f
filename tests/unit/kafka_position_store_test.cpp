// The Kafka source's exactly-once position store against a real Kafka-protocol broker
// (librdkafka's mock cluster on loopback): a position p is the committed offset p + 1, the
// checkpoint record travels as the commit's metadata, a stream with nothing committed is
// claimed where it starts, and a partition that went to another member is never moved back
// to what this store last knew. Offsets are read back with librdkafka directly, not through
// the store, so a wrong mapping in both directions could not cancel out.
#include <doctest/doctest.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>
#include <string>

#include "protocol/kafka/kafka_position_store.h"

using namespace starpipe;
using pipeline::source_position;
using pipeline::stream_id;

namespace {

rd_kafka_t* client(rd_kafka_type_t type, const std::map<std::string, std::string>& settings) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : settings)
    REQUIRE_MESSAGE(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK, err);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  REQUIRE_MESSAGE(rk != nullptr, err);
  return rk;
}

struct mock_kafka {
  rd_kafka_t* owner = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  std::string bootstrap;
  mock_kafka() {
    owner = client(RD_KAFKA_PRODUCER, {{"log_level", "0"}});
    cluster = rd_kafka_mock_cluster_new(owner, 1);
    REQUIRE(cluster != nullptr);
    bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
    REQUIRE(rd_kafka_mock_topic_create(cluster, "orders", 2, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ~mock_kafka() {
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(owner);
  }
  // Three records into orders-0, so that it has an end past its start.
  void produce_three() {
    rd_kafka_t* p = client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}, {"log_level", "0"}});
    for (int i = 0; i < 3; ++i)
      REQUIRE(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("orders"), RD_KAFKA_V_PARTITION(0),
                                RD_KAFKA_V_VALUE(const_cast<char*>("x"), 1), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(rd_kafka_flush(p, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(p);
  }
  rd_kafka_t* consumer(const std::string& reset = "earliest") {
    return client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                      {"group.id", "sink"},
                                      {"enable.auto.commit", "false"},
                                      {"auto.offset.reset", reset},
                                      {"log_level", "0"}});
  }
};

struct committed_entry {
  int64_t offset = -1;
  std::string metadata;
};

// What the group holds for orders-<partition>, read by librdkafka itself.
committed_entry committed(rd_kafka_t* rk, int32_t partition) {
  auto* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, "orders", partition);
  REQUIRE(rd_kafka_committed(rk, list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  committed_entry out;
  out.offset = list->elems[0].offset;
  if (list->elems[0].metadata)
    out.metadata.assign(static_cast<const char*>(list->elems[0].metadata), list->elems[0].metadata_size);
  rd_kafka_topic_partition_list_destroy(list);
  return out;
}

const stream_id orders0{"orders", 0}, orders1{"orders", 1};

} // namespace

TEST_CASE("kafka position store: a position is recorded as the offset after it, with the record as metadata") {
  mock_kafka kafka;
  kafka.produce_three();
  rd_kafka_t* rk = kafka.consumer();
  kafka::kafka_position_store store(rk, "task-0");

  auto before = store.recorded({orders0});
  REQUIRE(before);
  CHECK_FALSE((*before)[orders0].position.has_value());

  // orders-0 moves to the record at offset 1; orders-1 has nothing committed and is claimed
  // where it starts (earliest: offset 0).
  REQUIRE(store.record({orders0, orders1}, {{orders0, source_position{1}}}, "record-1"));
  CHECK(committed(rk, 0).offset == 2);
  CHECK(committed(rk, 0).metadata == "record-1");
  CHECK(committed(rk, 1).offset == 0);
  CHECK(committed(rk, 1).metadata == "record-1");

  auto after = store.recorded({orders0, orders1});
  REQUIRE(after);
  CHECK((*after)[orders0].position == source_position{1});
  CHECK((*after)[orders0].metadata == "record-1");
  REQUIRE((*after)[orders1].position.has_value());
  CHECK(kafka::offset_after(*(*after)[orders1].position) == 0); // before the first record

  // A slot recorded without moving: the position stays, the metadata changes.
  REQUIRE(store.record({orders0}, {}, "record-2"));
  CHECK(committed(rk, 0).offset == 2);
  CHECK(committed(rk, 0).metadata == "record-2");
  rd_kafka_destroy(rk);
}

TEST_CASE("kafka position store: a stream with nothing committed is claimed at its start, per auto.offset.reset") {
  mock_kafka kafka;
  kafka.produce_three();
  rd_kafka_t* rk = kafka.consumer("latest");
  kafka::kafka_position_store store(rk, "task-0");
  REQUIRE(store.record({orders0}, {}, "claim"));
  CHECK(committed(rk, 0).offset == 3); // the end: a latest-reset task reads nothing older
  CHECK(committed(rk, 0).metadata == "claim");
  rd_kafka_destroy(rk);
}

TEST_CASE("kafka position store: a partition given up is not moved back to what this store last committed") {
  mock_kafka kafka;
  kafka.produce_three();
  rd_kafka_t* first = kafka.consumer();
  rd_kafka_t* next_owner = kafka.consumer();
  kafka::kafka_position_store mine(first, "task-0"), theirs(next_owner, "task-1");
  REQUIRE(mine.record({orders0}, {{orders0, source_position{0}}}, "mine"));
  CHECK(committed(first, 0).offset == 1);
  // The partition moves; its next owner loads further and records that.
  mine.forget({{"orders", 0}});
  REQUIRE(theirs.record({orders0}, {{orders0, source_position{2}}}, "theirs"));
  // It comes back: recording a fresh slot without a position keeps the next owner's offset.
  REQUIRE(mine.record({orders0}, {}, "mine-again"));
  CHECK(committed(first, 0).offset == 3);
  CHECK(committed(first, 0).metadata == "mine-again");
  rd_kafka_destroy(next_owner);
  rd_kafka_destroy(first);
}
