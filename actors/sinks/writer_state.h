#pragma once
// The Stream Load writer's state and the steps its two files share: stream_load_writer.cpp
// (buffering, loads, retries and the writer's become() states) and rejected_load.cpp (a
// load refused for its rows: telling the rejected rows apart and loading the others). Internal
// to the writer.
#include <caf/all.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/messages.h"
#include "actors/sinks/row_origins.h"
#include "actors/sinks/stream_load_writer.h"
#include "protocol/stream_load/label.h"
#include "protocol/stream_load/rejected_rows.h"
#include "protocol/stream_load/row_encoder.h"
#include "protocol/stream_load/transaction_run.h"

namespace starpipe::sinks {

using clock = std::chrono::steady_clock;

struct writer_state {
  writer_settings settings;
  caf::actor supervisor;
  caf::actor executor;
  std::unique_ptr<stream_load::row_encoder> encoder;
  std::unique_ptr<flush_policy> policy;

  std::string body; // the next load's body, filling
  size_t body_rows = 0;
  std::vector<piece_id> body_pieces;
  row_origins body_origins;
  // At-least-once: bodies that reached the load size while a load was in flight, loaded in
  // order. Each is reserved once at that size and never grows, so what the bodies hold stays
  // what the memory budget counts (a body that kept growing overshot it by its reallocations).
  struct sealed_body {
    std::string body;
    size_t rows = 0;
    std::vector<piece_id> pieces;
    row_origins origins;
  };
  std::deque<sealed_body> sealed;

  bool in_flight = false;
  stream_load::load_request request; // the load in flight (label fixed for all its retries)
  std::vector<piece_id> request_pieces;
  row_origins request_origins;
  int attempt = 0;
  int unreachable_streak = 0; // consecutive attempts no FE took a connection for
  int label_polls = 0;
  clock::time_point load_started;

  uint64_t loads_started = 0;
  uint64_t loads_done = 0;
  std::vector<std::pair<uint64_t, caf::response_promise>> waiters; // answered when loads_done >= first
  std::string token = stream_load::random_token();
  uint64_t next_sequence = 1; // transaction labels
  std::optional<bool> transactions; // the interface, once known (AUTO: after the FE answered)
  bool load_uses_transactions = false; // the interface of the load in flight, for all its retries

  // A load refused for its rows, while its rejected rows are told apart: the rows, the
  // search, and (exactly-once) the probes prepared so far.
  struct rejection {
    rejection(std::shared_ptr<const std::string> b, std::vector<stream_load::row_span> s, bool first_only,
              std::string label, size_t n)
        : body(std::move(b)), spans(std::move(s)), search(n, first_only), first_label(std::move(label)), rows(n) {}
    std::shared_ptr<const std::string> body;
    std::vector<stream_load::row_span> spans;
    stream_load::rejection_search search;
    std::string first_label;
    std::string first_refusal; // StarRocks' answer to the whole load
    size_t rows = 0;
    uint64_t probe_labels = 0;
    int64_t bytes_loaded = 0, filtered_within_ratio = 0;
    std::vector<stream_load::prepared_label> prepared;
  };
  std::unique_ptr<rejection> rejecting;
  // Exactly-once: the checkpoint's prepare waiting for its transaction(s).
  std::optional<caf::typed_response_promise<prepared_checkpoint>> prepare_promise;
  // A transaction Stream Load under way, step by step (its waits are backing_off, as a V1
  // load's retries are), and what to do with its result.
  std::optional<stream_load::transaction_run> txn;
  std::function<void(const stream_load::txn_result&)> txn_done;

  caf::behavior idle, flushing, backing_off, failed;
  std::string failure;
  std::set<stream_id> not_caught_up; // streams that may still have rows coming

  static inline const char* name = "stream_load_writer";
};

namespace writer_steps {

using self_ptr = caf::stateful_actor<writer_state>*;

// Answers the checkpoint's prepare, if one waits.
void deliver_prepared(writer_state& st, prepared_checkpoint p);
// The writer fails for good: every piece it holds is reported failed with StarRocks' answer.
void fail_writer(self_ptr self, const std::string& reason, const std::optional<stream_load::load_response>& resp);
// The load in flight is over: its pieces are acknowledged and the next load may start.
void finish_load(self_ptr self, const load_stats& stats);
// Sends the load in flight (again), over its interface.
void send_attempt(self_ptr self);

// rejected_load.cpp. A load was refused with `reason`: true when it was refused for its rows
// and the writer now tells them apart (else the caller fails the writer).
bool on_rows_refused(self_ptr self, const std::string& reason, const std::optional<stream_load::load_response>& resp);
// A probe of the refused rows loaded: the search goes on.
void probe_loaded(self_ptr self, const std::optional<stream_load::load_response>& resp);

} // namespace writer_steps
} // namespace starpipe::sinks
