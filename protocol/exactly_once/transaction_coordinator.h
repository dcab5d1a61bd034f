#pragma once
// Exactly-once for one task, run on its source's own thread (a Kafka revoke must be decided
// before librdkafka's rebalance callback returns).
//
// Phase two of the checkpoint: after the task's writers prepared their transactions, the
// positions of the task's streams are recorded in its position_store with metadata naming
// the prepared labels (checkpoint_record); that record is the decision. Then the
// transactions are committed. A record whose outcome is unclear is read back before deciding.
//
// Recovery, when the source takes streams and before any record of them is read: transactions
// named by the new streams' records are committed (a crash between the two steps), and the
// transactions of the slots those records name that no record names are rolled back (the
// lingering ones of a crash, found by probing the slot's label sequence with get_load_state).
// Then the task takes a fresh slot and records it on every stream it owns (see
// checkpoint_record.h for why that makes the rollback safe).
//
// Positions are opaque here, as everywhere in the pipeline: the coordinator hands the
// tracker's positions to the store and compares what it reads back for equality only.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "conf/connector_config.h"
#include "protocol/exactly_once/position_store.h"
#include "protocol/exactly_once/prepared_checkpoint.h"
#include "protocol/stream_load/stream_load_client.h"

namespace starpipe::checkpoint {

// Its peers are interfaces: the positions (position_store, passed to each call: for the Kafka
// source, its consumer group's offsets) and StarRocks' transaction endpoints (stream_load::transaction_api, HTTP by default),
// so that its tests script both and see every step in order.
class transaction_coordinator {
public:
  transaction_coordinator(std::shared_ptr<const conf::connector_config> connector, std::string worker_id, int task,
                          std::string id);
  // With another transaction API and a waiter between retries (tests: scripted, no waiting).
  transaction_coordinator(std::shared_ptr<const conf::connector_config> connector, std::string worker_id, int task,
                          std::string id, std::unique_ptr<stream_load::transaction_api> api,
                          stream_load::sleeper pause);

  // The slot this task's writers label their transactions with now.
  const std::string& slot() const { return slot_; }

  // When the source takes streams (Kafka: in the assignment callback): settles what the
  // records of `added` name, rolls back the lingering transactions of their slots, then takes
  // a fresh slot and records it on `owned` (every stream the task owns, `added` included).
  // Returns the new slot.
  std::string take_streams(position_store& store, const std::vector<stream_id>& added,
                           const std::vector<stream_id>& owned);
  // After the revoke checkpoint: a fresh slot, recorded on the streams the task keeps.
  std::string rotate(position_store& store, const std::vector<stream_id>& owned);

  // Phase two. `owned`: every stream the task owns (each carries the record).
  // Returns false when the decision could not be made durable (labels stay undecided; on a
  // revoke they are rolled back and the streams' next owner replays their rows).
  bool decide(position_store& store, const prepared_checkpoint& prepared, const std::vector<stream_id>& owned,
              bool revoking);

  // Rolls back every prepared transaction not yet decided (the task failed or lost its streams).
  void abandon(const std::string& why);
  // Rolls back transactions a failed checkpoint prepared (no record names them).
  void roll_back(const std::vector<stream_load::prepared_label>& labels, const std::string& why);

  bool idle() const { return undecided_.empty() && decided_.empty(); }

private:
  void settle_named(const std::vector<stream_load::prepared_label>& named);
  void roll_back_lingering(const std::vector<stream_load::checkpoint_record>& records,
                           const std::set<std::string>& tables);
  void commit_decided();
  // Recorded, or read back as recorded (the answer to the write may be what was lost).
  bool record(position_store& store, const std::vector<stream_id>& streams, const position_map& positions,
              const std::string& metadata);
  std::string record_text() const;

  std::shared_ptr<const conf::connector_config> connector_;
  std::string worker_id_;
  int task_;
  std::string slot_;
  std::string id_;
  std::unique_ptr<stream_load::transaction_api> client_;
  stream_load::sleeper pause_;
  stream_load::retry_settings retry_;
  std::vector<stream_load::prepared_label> undecided_; // prepared, no durable decision yet
  std::vector<stream_load::prepared_label> decided_;   // named in a durable record, commit pending
  std::map<stream_id, source_position> recorded_;      // last position known recorded per stream
  std::set<std::string> settled_;                      // labels known committed (recovery)
  std::set<std::string> swept_;                        // retired slots already searched for lingering ones
};

} // namespace starpipe::checkpoint
