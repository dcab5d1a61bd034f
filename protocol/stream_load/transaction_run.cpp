#include "protocol/stream_load/transaction_run.h"

namespace starpipe::stream_load {

namespace {

bool exhausted(int attempt, const retry_settings& s) { return s.max_retries >= 0 && attempt > s.max_retries; }

std::string next_step_text(const txn_decision& d) {
  switch (d.what) {
    case txn_step::done: return "done";
    case txn_step::retry: return "retrying in " + std::to_string(d.delay.count()) + " ms with the same label";
    case txn_step::restart:
      return "begun again under the next label in " + std::to_string(d.delay.count()) + " ms, with the same rows";
    case txn_step::settle: return "settling through the label's state";
    case txn_step::fail: return "giving up";
  }
  return "?";
}

} // namespace

transaction_run::transaction_run(load_request batch, label_maker labels, uint64_t first_sequence, bool commit_at_end,
                                 retry_settings settings, txn_observer observe)
    : batch_(std::move(batch)), labels_(std::move(labels)), settings_(settings), observe_(std::move(observe)),
      ops_{txn_op::begin, txn_op::load, commit_at_end ? txn_op::commit : txn_op::prepare} {
  result_.sequence = first_sequence;
  start_label();
}

transaction_run transaction_run::finish(load_request prepared, bool commit, retry_settings settings,
                                        txn_observer observe) {
  transaction_run run;
  run.batch_ = std::move(prepared);
  run.settings_ = settings;
  run.observe_ = std::move(observe);
  run.ops_ = {commit ? txn_op::commit : txn_op::rollback};
  run.restarts_allowed_ = false;
  run.req_ = run.batch_;
  run.result_.label = run.req_.label;
  run.start_op();
  return run;
}

void transaction_run::start_label() {
  req_ = batch_;
  req_.label = labels_(result_.sequence);
  result_.label = req_.label;
  op_index_ = 0;
  start_op();
}

void transaction_run::start_op() {
  attempt_ = 1;
  unreachable_ = 0;
  call_current();
}

void transaction_run::call_current() {
  step_ = {};
  step_.what = txn_step_request::kind::call;
  step_.op = current_op();
  step_.request = req_;
}

void transaction_run::answered(const attempt_outcome& o) {
  if (rolling_back_) { // whatever it answered, the label is not used again
    rolling_back_ = false;
    close_label(pending_);
    return;
  }
  ++result_.attempts;
  auto d = decide_txn(current_op(), o, attempt_, settings_);
  if (o.unreachable && d.what == txn_step::retry) {
    d.delay = backoff_delay(++unreachable_, settings_); // waiting for StarRocks uses up no attempt
  } else {
    unreachable_ = 0;
    if (d.what == txn_step::retry) ++attempt_;
  }
  answer_ = d.reason;
  settled_ = false;
  last_ = o;
  if (d.what == txn_step::settle) { // settled within the attempt that was made
    settled_ = true;
    step_ = {};
    step_.what = txn_step_request::kind::read_state;
    step_.request = req_;
    return;
  }
  conclude(std::move(d));
}

void transaction_run::state_read(const std::string& state) {
  auto d = decide_txn_from_state(current_op(), state, attempt_, settings_);
  if (d.what == txn_step::settle) { // unreadable: ask again after a pause
    ++attempt_;
    after_ = after_wait::read_again;
    step_ = {};
    step_.what = txn_step_request::kind::wait;
    step_.delay = d.delay;
    return;
  }
  if (d.what == txn_step::retry) ++attempt_;
  conclude(std::move(d));
}

void transaction_run::conclude(txn_decision d) {
  if (observe_ && (settled_ || d.what != txn_step::done))
    observe_(std::string(to_string(current_op())) + " of label " + req_.label + " answered " + answer_ +
             (settled_ ? "; settled through the label's state (" + d.reason + ")" : "") + ": " + next_step_text(d));
  if (last_ && last_->response && (d.what == txn_step::done || d.what == txn_step::fail))
    result_.counters = *last_->response;
  switch (d.what) {
    case txn_step::retry:
      after_ = after_wait::call_again;
      step_ = {};
      step_.what = txn_step_request::kind::wait;
      step_.delay = d.delay;
      step_.waiting_for_starrocks = last_ && last_->unreachable && !settled_;
      step_.why = d.reason;
      return;
    case txn_step::done:
      if (++op_index_ < ops_.size()) return start_op();
      return finish_with(true);
    case txn_step::settle: // not reached: settled above
    case txn_step::restart:
    case txn_step::fail:
      if (!restarts_allowed_) return finish_with(false, d.reason);
      // Whatever state the label is in, it will not be used again: make sure it is not left open.
      pending_ = std::move(d);
      rolling_back_ = true;
      step_ = {};
      step_.what = txn_step_request::kind::call;
      step_.op = txn_op::rollback;
      step_.request = req_;
      return;
  }
}

void transaction_run::close_label(txn_decision d) {
  if (d.what == txn_step::fail) return finish_with(false, d.reason);
  ++result_.restarts;
  if (exhausted(result_.restarts, settings_))
    return finish_with(false, d.reason + " (transaction begun again " + std::to_string(result_.restarts - 1) +
                                  " times)");
  after_ = after_wait::restart;
  step_ = {};
  step_.what = txn_step_request::kind::wait;
  step_.delay = d.delay;
}

void transaction_run::waited() {
  switch (after_) {
    case after_wait::call_again: return call_current();
    case after_wait::read_again:
      step_ = {};
      step_.what = txn_step_request::kind::read_state;
      step_.request = req_;
      return;
    case after_wait::restart:
      ++result_.sequence;
      return start_label();
  }
}

void transaction_run::finish_with(bool ok, std::string failure) {
  result_.ok = ok;
  result_.failure = std::move(failure);
  step_ = {};
  step_.what = txn_step_request::kind::finished;
}

} // namespace starpipe::stream_load
