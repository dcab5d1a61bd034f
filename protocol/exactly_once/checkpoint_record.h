#pragma once
// The exactly-once decision record, written as the metadata of every offset commit of an
// exactly-once task: the writer slot that owns the partition now, and the labels of the
// transactions a checkpoint prepared. Once that commit is in Kafka the named transactions are
// decided (to be committed, by whoever reads it first). Kafka keeps 4096 bytes of metadata per
// partition by default (offset.metadata.max.bytes).
//
// Slots: a task takes a fresh slot at every rebalance, after its revoke checkpoint decided or
// rolled back everything, and records it on all its partitions before any row is read. So a
// slot named in a partition's record is never used again by a living owner once the partition
// has moved, and its transactions after the last named one are lingering ones of a crash: the
// partition's next owner rolls them back. (A zombie that missed the rebalance cannot commit
// offsets any more, so it can never make them durable.)
#include <cstdint>
#include <string>
#include <vector>

namespace starpipe::stream_load {

struct prepared_label {
  std::string table;
  std::string label;
  std::string slot;      // the writer slot that made it
  uint64_t sequence = 0; // its place in that slot's label sequence for the table

  bool operator==(const prepared_label& o) const {
    return table == o.table && label == o.label && slot == o.slot && sequence == o.sequence;
  }
};

struct checkpoint_record {
  std::string owner; // the slot of the task that wrote it ("" in records of older versions)
  std::vector<prepared_label> txns;

  // Every slot the record speaks of: the owner and the slots of the named labels.
  std::vector<std::string> slots() const;
};

std::string encode_checkpoint_record(const checkpoint_record& r);
// Empty (no owner, no labels) when the metadata is not a starpipe record.
checkpoint_record decode_checkpoint_record(const std::string& metadata);

// "w<8 hex of the worker id>t<task>r<rebalance token>": unique per worker, task and rebalance.
std::string writer_slot(const std::string& worker_id, int task, const std::string& token);

} // namespace starpipe::stream_load
