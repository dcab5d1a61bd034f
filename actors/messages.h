#pragma once
// The messages actors exchange. Hot-path messages carry batches (a poll's worth of records
// for one partition, a fragment of encoded rows), never one record.
#include <caf/all.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocol/connect/schema_fetch.h"
#include "protocol/pipeline/source_contract.h"
#include "protocol/exactly_once/checkpoint_record.h"
#include "protocol/exactly_once/prepared_checkpoint.h"
#include "protocol/stream_load/load_request.h"
#include "protocol/stream_load/retry_policy.h"
#include "protocol/stream_load/transaction.h"

namespace starpipe {

using pipeline::piece_id;
using pipeline::position_map;
using pipeline::record_set;
using pipeline::source_position;
using pipeline::stream_id;

// What a source hands on (source_contract.h): the records of one stream that one read
// returned, in order. seq numbers a stream's batches from 0 up; last_position is where the
// stream resumes once every record of the batch is done.
struct record_batch {
  stream_id stream;
  uint64_t seq = 0;
  source_position last_position;
  std::shared_ptr<const record_set> records;
  int64_t bytes = 0; // what the batch costs until loaded, charged against its source's credit
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

// Encoded rows of one source batch for one table, with each row's record offset (so that a
// row StarRocks rejects can be named and re-read for the dead-letter topic).
struct row_fragment {
  stream_id stream;
  uint64_t seq = 0;
  std::string table;
  std::string data;
  size_t rows = 0;
  std::vector<offset_run> offsets;
};


struct load_stats {
  std::string table;
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t filtered_rows = 0;
  int64_t millis = 0;
};

// Atoms: at most 10 characters each.
// record stage -> schema fetcher: (schemas_atom, ids) -> std::vector<connect::fetched_schema>.
using schemas_atom = caf::atom_constant<caf::atom("schemas")>;
// record stage -> itself: go on with the next of the batches and signals that waited.
using queued_atom = caf::atom_constant<caf::atom("queued")>;
using poll_atom = caf::atom_constant<caf::atom("poll")>;
using batch_atom = caf::atom_constant<caf::atom("batch")>;
using register_atom = caf::atom_constant<caf::atom("register")>;
using loaded_atom = caf::atom_constant<caf::atom("loaded")>;
using failed_atom = caf::atom_constant<caf::atom("failed")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
// source -> supervisor, (handoff_atom, streams) -> position_map: the streams are being given
// up; load what is buffered for them and answer the positions to commit before they go.
using handoff_atom = caf::atom_constant<caf::atom("handoff")>;
// supervisor -> source, shutdown step 1 (the contract's barrier): read no more, and answer
// once everything read is handed on.
using quiesce_atom = caf::atom_constant<caf::atom("quiesce")>;
// -> record stage: answers once everything it received before is handed on.
using barrier_atom = caf::atom_constant<caf::atom("barrier")>;
// -> source: every row up to these positions is loaded; commit them.
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using credit_atom = caf::atom_constant<caf::atom("credit")>;
// source -> supervisor: its credit is spent and it paused reading (writers should flush);
// relieved: enough credit came back and it reads again.
using pressure_atom = caf::atom_constant<caf::atom("pressure")>;
using relieved_atom = caf::atom_constant<caf::atom("relieved")>;
// -> source: give up the streams (handing off and committing, as a revoke) and quit.
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
// Run a checkpoint now: the supervisor's offset.flush.interval.ms timer, and under
// exactly-once the supervisor to each source (whose driver runs the two phases).
using checkpoint_atom = caf::atom_constant<caf::atom("ckpt")>;
// Exactly-once: prepare a task's transactions; the slot a task's writers label transactions
// with from now on; partitions a consumer gave up.
using prepare_atom = caf::atom_constant<caf::atom("prepare")>;
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
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<starpipe::connect::fetched_schema>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::row_fragment)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<starpipe::piece_id>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::position_map)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::stream_id)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::source_position)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::stream_load::interface_probe)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<starpipe::stream_id>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::stream_load::load_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::stream_load::attempt_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::load_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::stream_load::txn_op)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::prepared_checkpoint)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(starpipe::stream_load::prepared_label)
