#pragma once
// The Kafka source's exactly-once position store: its consumer group's committed offsets,
// each with the checkpoint record as its metadata. A stream is a topic-partition and a
// recorded position p is the committed offset p + 1 (kafka_positions.h). Blocking librdkafka
// calls with a 10 s deadline each, made on the consumer's thread (its rebalance callback and
// its checkpoints). It remembers what it committed or read, so recording a slot on partitions
// whose position does not move costs no extra round trip.
#include <librdkafka/rdkafka.h>

#include "protocol/exactly_once/position_store.h"
#include "protocol/kafka/kafka_positions.h"

namespace starpipe::kafka {

class kafka_position_store : public checkpoint::position_store {
public:
  kafka_position_store(rd_kafka_t* rk, std::string id);
  std::optional<std::map<pipeline::stream_id, checkpoint::recorded_position>> recorded(
      const std::vector<pipeline::stream_id>& streams) override;
  bool record(const std::vector<pipeline::stream_id>& streams, const pipeline::position_map& positions,
              const std::string& metadata) override;

  // The partitions went to another member: what it commits there is no longer known here.
  void forget(const std::vector<topic_partition>& partitions);
  // Where a partition with nothing committed starts reading (auto.offset.reset); -1 unknown.
  int64_t start_offset(const topic_partition& partition);

private:
  bool commit(const offset_map& offsets, const std::string& metadata);

  rd_kafka_t* rk_;
  std::string id_;     // the task, for logs
  bool start_at_end_;  // auto.offset.reset is latest: a partition with nothing committed starts at its end
  offset_map known_;   // the committed offset per partition, as last committed or read
};

} // namespace starpipe::kafka
