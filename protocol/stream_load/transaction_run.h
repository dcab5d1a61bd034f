#pragma once
// One batch's transaction Stream Load (begin, load, prepare or commit; restarts under the next
// label) as a machine of steps that its caller carries out: call an operation, read a label's
// state, wait. The machine makes every decision (decide_txn, decide_txn_from_state) and never
// does I/O or sleeps, so the same model serves a blocking caller (run_transaction, the
// exactly-once coordinator) and an actor that waits with delayed messages, and its tests
// drive it step by step.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "protocol/stream_load/transaction.h"

namespace starpipe::stream_load {

struct txn_step_request {
  enum class kind { call, read_state, wait, finished };
  kind what = kind::finished;
  txn_op op = txn_op::begin;      // call: the operation
  load_request request;           // call: its request (label, body); read_state: whose label
  std::chrono::milliseconds delay{0}; // wait: how long
  bool waiting_for_starrocks = false; // wait: because no FE took the connection (not an answer)
  std::string why;                    // wait: the answer that led to it
};

class transaction_run {
public:
  // commit_at_end: commit instead of prepare (at-least-once over V2). Only `finish`: the run
  // is one commit (or rollback) of an existing prepared label (finish_transaction).
  transaction_run(load_request batch, label_maker labels, uint64_t first_sequence, bool commit_at_end,
                  retry_settings settings, txn_observer observe = {});
  static transaction_run finish(load_request prepared, bool commit, retry_settings settings,
                                txn_observer observe = {});

  // What the caller does now; then it reports with the matching call below.
  const txn_step_request& next() const { return step_; }
  void answered(const attempt_outcome& o); // after kind::call
  void state_read(const std::string& state); // after kind::read_state ("" when unreadable)
  void waited();                              // after kind::wait

  bool finished() const { return step_.what == txn_step_request::kind::finished; }
  const txn_result& result() const { return result_; }

private:
  enum class after_wait { call_again, read_again, restart };
  transaction_run() = default;
  void start_label();
  void start_op();
  void call_current();
  void conclude(txn_decision d);
  void close_label(txn_decision d);
  void finish_with(bool ok, std::string failure = {});
  txn_op current_op() const { return ops_[op_index_]; }

  load_request batch_;
  label_maker labels_;
  retry_settings settings_;
  txn_observer observe_;
  std::vector<txn_op> ops_;
  bool restarts_allowed_ = true; // false for finish(): one label only
  size_t op_index_ = 0;
  int attempt_ = 1;
  int unreachable_ = 0;
  bool settled_ = false;
  bool rolling_back_ = false; // the closing rollback of a label that will not be used again
  std::string answer_;
  std::optional<attempt_outcome> last_;
  txn_decision pending_; // a restart or failure waiting for the closing rollback
  after_wait after_ = after_wait::call_again;
  load_request req_;
  txn_step_request step_;
  txn_result result_;
};

} // namespace starpipe::stream_load
