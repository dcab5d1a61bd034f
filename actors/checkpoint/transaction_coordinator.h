#pragma once
// Exactly-once for one task (one consumer-group member), run on its consumer's thread.
//
// Phase two of the checkpoint: after the task's writers prepared their transactions, the
// offsets of the task's partitions are committed to Kafka with metadata naming the prepared
// labels (checkpoint_record); that commit is the decision. Then the transactions are
// committed. A commit whose outcome is unclear is read back from Kafka before deciding.
//
// Recovery: on assignment, transactions named by the partitions' committed metadata are
// committed (a crash between the two steps); at start, this worker's own prepared
// transactions that no record names are rolled back, found by probing its label sequence
// with get_load_state.
#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actors/messages.h"
#include "conf/connector_config.h"
#include "protocol/stream_load/stream_load_client.h"

namespace starpipe::checkpoint {

class transaction_coordinator {
public:
  transaction_coordinator(std::shared_ptr<const conf::connector_config> connector, std::string slot, std::string id);

  // Before joining the group: settles what the committed offsets of `topics` name and rolls
  // back this slot's lingering transactions. Returns the first free label number per table.
  std::map<std::string, uint64_t> recover_at_start(rd_kafka_t* rk, const std::vector<std::string>& topics);

  // In the assignment callback, before any record is read.
  void recover_partitions(rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* partitions);

  // Phase two. `assigned`: every partition the task owns (each carries the record).
  // Returns false when the decision could not be made durable (labels stay undecided; on a
  // revoke they are rolled back and the partitions' next owner replays their rows).
  bool decide(rd_kafka_t* rk, const prepared_checkpoint& prepared, const std::vector<topic_partition>& assigned,
              bool revoking);

  // Rolls back every prepared transaction not yet decided (the task failed or lost its partitions).
  void abandon(const std::string& why);

  bool idle() const { return undecided_.empty() && decided_.empty(); }

private:
  void settle_named(const std::vector<stream_load::prepared_label>& named);
  void commit_decided();
  bool commit_offsets(rd_kafka_t* rk, const offset_map& offsets, const std::string& metadata);
  bool read_back_matches(rd_kafka_t* rk, const offset_map& offsets, const std::string& metadata);

  std::shared_ptr<const conf::connector_config> connector_;
  std::string slot_;
  std::string id_;
  stream_load::stream_load_client client_;
  stream_load::retry_settings retry_;
  std::vector<stream_load::prepared_label> undecided_; // prepared, no durable decision yet
  std::vector<stream_load::prepared_label> decided_;   // named in a committed offset, commit pending
  offset_map committed_;                               // last committed offset per partition
  std::set<std::string> settled_;                      // labels known committed (recovery)
};

} // namespace starpipe::checkpoint
