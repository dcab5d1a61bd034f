#pragma once
// The messages actors exchange. Hot-path messages carry batches (a poll's worth of records
// for one partition, a fragment of encoded rows), never one record.
#include <librdkafka/rdkafka.h>

#include <caf/all.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocol/checkpoint/offset_tracker.h"
#include "protocol/exactly_once/checkpoint_record.h"
#include "protocol/exactly_once/prepared_checkpoint.h"
#include "protocol/stream_load/load_request.h"
#include "protocol/stream_load/retry_policy.h"
#include "protocol/stream_load/transaction.h"

namespace starpipe {

using checkpoint::topic_partition;

// Records of one partition from one poll. Owns the librdkafka messages (no payload copy).
struct kafka_messages {
  std::vector<rd_kafka_message_t*> items;
  kafka_messages() = default;
  kafka_messages(const kafka_messages&) = delete;
  kafka_messages& operator=(const kafka_messages&) = delete;
  ~kafka_messages() {
    for (auto* m : items) rd_kafka_message_destroy(m);
  }
};

struct record_batch {
  topic_partition tp;
  std::shared_ptr<kafka_messages> records;
  int64_t bytes = 0; // payload bytes, charged against the consumer's credit
};

// Offsets of consecutive rows: `count` rows from offsets first, first + 1, ...
struct offset_run {
  int64_t first = 0;
  uint32_t count = 0;
};
// Records the offset of the next row (runs stay few: a batch's rows are mostly consecutive).
inline void add_row_offset(std::vector<offset_run>& runs, int64_t offset) {
  if (!runs.empty() && runs.back().first + runs.back().count == offset && runs.back().count < UINT32_MAX)
    ++runs.back().count;
  else
    runs.push_back({offset, 1});
}

// Encoded rows of one source batch for one table, with each row's source offset (so that a
// row StarRocks rejects can be named and re-read for the dead-letter topic).
struct row_fragment {
  topic_partition tp;
  uint64_t seq = 0;
  std::string table;
  std::string data;
  size_t rows = 0;
  std::vector<offset_run> offsets;
};

// One source batch's piece that a load covered.
struct piece_id {
  topic_partition tp;
  uint64_t seq = 0;
};


struct load_stats {
  std::string table;
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t filtered_rows = 0;
  int64_t millis = 0;
};

// One batch as a transaction Stream Load: begun, loaded, then prepared (exactly-once) or
// committed (at-least-once over V2). Labels: make_label(prefix, table, slot, sequence).
struct transaction_job {
  stream_load::load_request batch;
  std::string prefix, slot;
  uint64_t first_sequence = 1;
  bool commit_at_end = false;
  stream_load::retry_settings retry;
};


// Atoms: at most 10 characters each.
using poll_atom = caf::atom_constant<caf::atom("poll")>;
using batch_atom = caf::atom_constant<caf::atom("batch")>;
using register_atom = caf::atom_constant<caf::atom("register")>;
using loaded_atom = caf::atom_constant<caf::atom("loaded")>;
using failed_atom = caf::atom_constant<caf::atom("failed")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
// consumer -> supervisor, (handoff_atom, partitions) -> offset_map: partitions are being given
// up; load what is buffered for them and answer the offsets to commit before they go.
using handoff_atom = caf::atom_constant<caf::atom("handoff")>;
// supervisor -> consumer, shutdown step 1: stop polling and hand on everything read.
using quiesce_atom = caf::atom_constant<caf::atom("quiesce")>;
// -> partition source: answers once everything it received before is handed on.
using barrier_atom = caf::atom_constant<caf::atom("barrier")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using credit_atom = caf::atom_constant<caf::atom("credit")>;
using pressure_atom = caf::atom_constant<caf::atom("pressure")>;
// -> consumer: leave the group (revoking, so handing off and committing) and quit.
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using writer_atom = caf::atom_constant<caf::atom("writer")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using load_atom = caf::atom_constant<caf::atom("load")>;
using state_atom = caf::atom_constant<caf::atom("state")>;
using errlog_atom = caf::atom_constant<caf::atom("errlog")>;
using lag_atom = caf::atom_constant<caf::atom("lag")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using assigned_atom = caf::atom_constant<caf::atom("assigned")>;
// A partition has been read to its end for now (sent behind its data, never ahead of it).
using caught_up_atom = caf::atom_constant<caf::atom("caughtup")>;
using dlq_atom = caf::atom_constant<caf::atom("dlq")>;
// PUT /connectors/{n}/pause and /resume: consumption stops and starts again; what is
// buffered stays and is loaded.
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
// Exactly-once: prepare a task's transactions; a consumer's checkpoint; the slot a task's
// writers label transactions with from now on; partitions a consumer gave up.
using prepare_atom = caf::atom_constant<caf::atom("prepare")>;
using checkpoint_atom = caf::atom_constant<caf::atom("ckpt")>;
using slot_atom = caf::atom_constant<caf::atom("slot")>;
using forget_atom = caf::atom_constant<caf::atom("forget")>;
// sink.version=AUTO: does the FE have the transaction endpoints?
using probe_atom = caf::atom_constant<caf::atom("probe")>;
// writer -> supervisor: (retrying_atom, table, reason): StarRocks is unreachable, loads wait.
using retrying_atom = caf::atom_constant<caf::atom("retrying")>;
// writer -> dead-letter queue: rows StarRocks rejected, whose records go to the dead-letter topic.
using rejected_atom = caf::atom_constant<caf::atom("rejected")>;

} // namespace starpipe

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::record_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::row_fragment)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<starpipe::piece_id>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::offset_map)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::topic_partition)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::stream_load::interface_probe)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<starpipe::topic_partition>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::stream_load::load_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::stream_load::attempt_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::load_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::transaction_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::stream_load::txn_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::prepared_checkpoint)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::stream_load::prepared_label)
