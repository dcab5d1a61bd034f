#pragma once
// The exactly-once decision record: the labels of the transactions a checkpoint prepared,
// written as the metadata of the Kafka offset commit that covers their rows. Once that commit
// is in Kafka the transactions are decided (to be committed, by whoever reads it first); a
// prepared transaction no record names is rolled back. Kafka keeps 4096 bytes of metadata
// per partition by default (offset.metadata.max.bytes).
#include <cstdint>
#include <string>
#include <vector>

namespace starpipe::stream_load {

struct prepared_label {
  std::string table;
  std::string label;
  std::string slot;      // the writer identity that made it: worker hash + task
  uint64_t sequence = 0; // its place in that slot's label sequence for the table

  bool operator==(const prepared_label& o) const {
    return table == o.table && label == o.label && slot == o.slot && sequence == o.sequence;
  }
};

std::string encode_checkpoint_record(const std::vector<prepared_label>& labels);
// Empty when the metadata is not a starpipe record (another tool's, or none).
std::vector<prepared_label> decode_checkpoint_record(const std::string& metadata);

// "w<8 hex of the worker id>t<task>": short, stable across restarts of the same worker.
std::string writer_slot(const std::string& worker_id, int task);

} // namespace starpipe::stream_load
