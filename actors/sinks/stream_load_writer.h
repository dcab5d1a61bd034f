#pragma once
// One writer per target table: buffers row fragments into the next load's body, decides
// when to load (flush_policy), runs one load at a time through its executor, retries with
// the same label per retry_policy, and acks every source piece a successful load covered.
//
// A load refused for its rows ("too many filtered rows") is not the end: the writer tells the
// rejected rows apart (rejected_rows.h), loads the others under new labels, and then sends the
// rejected ones' records to the dead-letter topic (errors.tolerance=all) or fails naming the
// first one's topic, partition and offset (none). Pieces are acknowledged only after all that.
//
// States (become()): idle -> flushing -> (backing_off -> flushing)* -> idle; failed is final.
#include <caf/all.hpp>

#include "protocol/stream_load/flush_policy.h"
#include "conf/connector_config.h"
#include "protocol/stream_load/retry_policy.h"

namespace starpipe::sinks {

struct writer_settings {
  std::string table;
  std::shared_ptr<const conf::connector_config> connector;
  flush_settings flush;
  stream_load::retry_settings retry;
  std::string label_prefix;
  std::chrono::milliseconds tick{100};
  // V2, transaction Stream Load: each load is begin, load, commit (at-least-once), or, with
  // exactly_once, rows wait for (prepare_atom) and the transaction is only prepared. AUTO asks
  // the FE once whether it has the transaction endpoints (V2 if so, else V1).
  conf::load_interface load_interface = conf::load_interface::v1;
  bool exactly_once = false;
  std::string slot; // exactly-once label identity (worker hash, task, rebalance); labels count from 1
  // Rows StarRocks rejects (errors.tolerance=all) go here as dead letters; none: only logged.
  caf::actor dead_letters;
};

// Handlers:
//   (batch_atom, row_fragment)  rows to load
//   (flush_atom) -> bool        answers once everything received before it is loaded
//                               (true) or the writer has failed (false)
//   (prepare_atom) -> prepared_checkpoint   exactly-once: everything received before it in one
//                               prepared transaction (labels empty when there were no rows)
//   (slot_atom, slot)           exactly-once: label later transactions with this slot
// Sends to `supervisor`: (loaded_atom, vector<piece_id>, load_stats) and
//                        (failed_atom, table, reason, vector<piece_id>).
caf::actor spawn_stream_load_writer(caf::actor_system& sys, writer_settings settings, caf::actor supervisor,
                                    caf::actor executor);

} // namespace starpipe::sinks
