#pragma once
// How the Kafka source maps its partitions and offsets onto the source contract: a stream is
// a topic-partition, a record's position is its offset, and committing a position commits the
// offset after it (Kafka's committed offset is the next record to read).
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "protocol/pipeline/source_contract.h"

namespace starpipe::kafka {

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  bool operator<(const topic_partition& o) const { return std::tie(topic, partition) < std::tie(o.topic, o.partition); }
  bool operator==(const topic_partition& o) const { return topic == o.topic && partition == o.partition; }
  std::string to_string() const { return topic + "-" + std::to_string(partition); }
};

// Committed offsets: the next offset to read, per partition.
using offset_map = std::map<topic_partition, int64_t>;

inline pipeline::stream_id stream_of(const topic_partition& tp) { return {tp.topic, tp.partition}; }
inline topic_partition partition_of(const pipeline::stream_id& s) { return {s.name, s.part}; }
inline pipeline::source_position position_of_offset(int64_t offset) { return {offset}; }
// The offset to commit once the record at `p` is done.
inline int64_t offset_after(pipeline::source_position p) { return p.token + 1; }

// The position of the last record done when `offset` is the committed (next to read) offset.
inline pipeline::source_position position_before(int64_t offset) { return {offset - 1}; }

inline offset_map offsets_after(const pipeline::position_map& positions) {
  offset_map out;
  for (const auto& [stream, p] : positions) out[partition_of(stream)] = offset_after(p);
  return out;
}

} // namespace starpipe::kafka
