#pragma once
// Where an exactly-once task makes its decisions durable: next to its source positions, each
// stream's recorded position carrying metadata (the checkpoint_record). This is the source
// contract's commit(stream, position, metadata): the coordinator speaks only to this
// interface, so it never knows what a position is. The Kafka source's store is its consumer
// group's committed offsets (protocol/kafka/kafka_position_store); a source that keeps its
// positions elsewhere (Kafka Connect's offset storage, say) implements the same two calls.
// The coordinator's tests script one.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocol/pipeline/source_contract.h"

namespace starpipe::checkpoint {

using pipeline::position_map;
using pipeline::source_position;
using pipeline::stream_id;

struct recorded_position {
  std::optional<source_position> position; // the last record done; none when nothing is recorded
  std::string metadata;
};

class position_store {
public:
  virtual ~position_store() = default;
  // What is recorded for `streams`; a stream with nothing recorded has no position. nullopt
  // when the store did not answer.
  virtual std::optional<std::map<stream_id, recorded_position>> recorded(const std::vector<stream_id>& streams) = 0;
  // Records `metadata` on every one of `streams`: at positions[s] where given, else where the
  // stream stands (its recorded position, or its start when nothing is recorded; a stream
  // whose start cannot be told is left out, logged). True only when every write is confirmed.
  virtual bool record(const std::vector<stream_id>& streams, const position_map& positions,
                      const std::string& metadata) = 0;
};

} // namespace starpipe::checkpoint
