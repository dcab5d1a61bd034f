#pragma once
// Where an exactly-once task makes its decisions durable: the committed offsets of its
// consumer group, each carrying metadata (the checkpoint_record). The coordinator speaks only
// to this interface; kafka_offset_store is the consumer group's, and the coordinator's tests
// script one.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocol/kafka/kafka_positions.h"

namespace starpipe::checkpoint {

using kafka::offset_map;
using kafka::topic_partition;

struct committed_offset {
  int64_t offset = -1; // -1: nothing committed
  std::string metadata;
};

class offset_store {
public:
  virtual ~offset_store() = default;
  // What is committed for `partitions`; nullopt when the store did not answer.
  virtual std::optional<std::map<topic_partition, committed_offset>> committed(
      const std::vector<topic_partition>& partitions) = 0;
  // Commits every offset with the same metadata; false unless every one is confirmed.
  virtual bool commit(const offset_map& offsets, const std::string& metadata) = 0;
  // Where a partition with no committed offset starts reading (auto.offset.reset); -1 unknown.
  virtual int64_t start_offset(const topic_partition& partition) = 0;
};

} // namespace starpipe::checkpoint
