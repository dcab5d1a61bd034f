#pragma once
// The Kafka source's state and the steps its two files share: kafka_consumer.cpp (the poll
// loop: subscribing, polling, cutting batches, credit, lag, commits) and kafka_handoff.cpp
// (partitions assigned and revoked in the rebalance callback: record stages spawned and
// drained, offsets committed before a partition goes, and the exactly-once checkpoint
// driver). Internal to the Kafka source.
#include <librdkafka/rdkafka.h>

#include <caf/all.hpp>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "actors/messages.h"
#include "actors/sources/kafka_consumer.h"
#include "actors/sources/exactly_once_driver.h"
#include "protocol/kafka/kafka_position_store.h"
#include "protocol/kafka/kafka_positions.h"
#include "protocol/kafka/topic_pattern.h"

namespace starpipe::sources {

using clock = std::chrono::steady_clock;
using kafka::offset_map;
using kafka::topic_partition;

struct kafka_consumer_state {
  kafka_consumer_settings settings;
  caf::actor supervisor;
  rd_kafka_t* rk = nullptr;
  rd_kafka_queue_t* queue = nullptr;
  std::map<topic_partition, caf::actor> sources; // each assigned partition's record stage
  std::map<topic_partition, uint64_t> next_seq;   // the seq of its next batch
  int64_t credit = 0;
  bool paused = false;
  bool held = false; // paused by the operator: credit coming back does not resume
  bool closing = false;
  std::set<topic_partition> fed; // partitions given records since the queue was last empty
  // Loaded on revoke but refused by the group (a rebalance already under way): a partition
  // that comes back to this consumer resumes here instead of replaying from the last commit.
  offset_map loaded_not_committed;
  bool quiesced = false; // shutdown: no more polling, the last offsets are being committed
  bool awaiting_first_records = true; // logged once per assignment, for operators and the benchmark
  bool cooperative = false;
  clock::time_point last_lag_report{};
  std::string id;
  caf::event_based_actor* actor = nullptr; // for the rebalance callback, which runs inside poll
  // sink.semantic=exactly-once: the driver, and the group's offsets as its position store.
  std::unique_ptr<exactly_once_driver> exactly_once;
  std::unique_ptr<kafka::kafka_position_store> positions;
  int64_t unprepared_bytes = 0; // exactly-once: handed on since the last checkpoint
  // topics.regex: matched here against the cluster's topics (a full match, as Kafka Connect
  // does); librdkafka subscribes to the exact names, refreshed every few seconds.
  std::optional<kafka::topic_pattern> pattern;
  std::set<std::string> subscribed;
  clock::time_point next_refresh{};
  static inline const char* name = "kafka_consumer";

  ~kafka_consumer_state() {
    if (queue) rd_kafka_queue_destroy(queue);
    if (rk) rd_kafka_destroy(rk);
  }
};

namespace kafka_steps {

using self_ptr = caf::stateful_actor<kafka_consumer_state>*;

// kafka_consumer.cpp: commits offsets (only those of partitions still assigned, when asked);
// false when the broker refused.
bool commit(kafka_consumer_state& st, const offset_map& offsets, bool only_assigned, bool sync = true);
// Tells the supervisor the task's lag and how many partitions it reads (/metrics).
void report_lag(self_ptr self);

// kafka_handoff.cpp.
// librdkafka's rebalance callback (it runs inside a poll, on the consumer's thread).
void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions, void* opaque);
// Every record stage hands on what it holds (its answer comes after its rows reached the writers).
void barrier(self_ptr self);
// Exactly-once checkpoint of this task over every partition it owns (exactly_once_driver).
void exactly_once_checkpoint(self_ptr self, bool revoking);

} // namespace kafka_steps
} // namespace starpipe::sources
