#include "protocol/stream_load/transaction.h"

#include "protocol/stream_load/transaction_run.h"

namespace starpipe::stream_load {

const char* to_string(txn_op op) {
  switch (op) {
    case txn_op::begin: return "begin";
    case txn_op::load: return "load";
    case txn_op::prepare: return "prepare";
    case txn_op::commit: return "commit";
    case txn_op::rollback: return "rollback";
  }
  return "?";
}

namespace {

bool exhausted(int attempt, const retry_settings& s) { return s.max_retries >= 0 && attempt > s.max_retries; }

txn_decision again(txn_step what, int attempt, const retry_settings& s, const std::string& why, bool slow = false) {
  if (exhausted(attempt, s))
    return {txn_step::fail, {}, why + " (gave up after " + std::to_string(attempt) + " attempts)"};
  auto delay = backoff_delay(attempt, s);
  if (slow) delay = std::min(s.max_backoff, delay * 4);
  return {what, delay, why};
}

// What an answer that settles nothing means for each operation: a load's rows may be half
// in, so the transaction is begun again; the others are settled through the label.
txn_decision unclear(txn_op op, int attempt, const retry_settings& s, const std::string& why) {
  if (op == txn_op::load) return again(txn_step::restart, attempt, s, why);
  return {txn_step::settle, {}, why};
}

} // namespace

interface_probe judge_interface_probe(const attempt_outcome& o) {
  if (o.transport_error) return {interface_support::unknown, "no answer: " + *o.transport_error};
  if (o.http_status == 404)
    return {interface_support::stream_load_only, "HTTP 404 on /api/transaction/begin (StarRocks before 2.4)"};
  std::string status = "HTTP " + std::to_string(o.http_status);
  // Only a JSON verdict from the endpoint itself proves it exists: a 200 from a proxy's
  // error page, a 401 or a 5xx does not.
  if (o.http_status == 200 && o.response && !o.response->status.empty())
    return {interface_support::transactions, status + " " + o.response->status + ": " + o.response->message};
  return {interface_support::unknown, status + " " + o.raw_body.substr(0, 200)};
}

txn_decision decide_txn(txn_op op, const attempt_outcome& o, int attempt, const retry_settings& s) {
  if (o.cancelled)
    return {txn_step::fail, {}, "abandoned at shutdown before StarRocks answered: " + o.transport_error.value_or("")};
  if (o.transport_error && o.unreachable) // nothing reached StarRocks: the same step again, for as long as it lasts
    return {txn_step::retry, backoff_delay(attempt, s),
            "StarRocks unreachable: " + *o.transport_error + " (retrying until it answers)"};
  if (o.transport_error) {
    std::string why = "transport error: " + *o.transport_error;
    if (!o.body_may_have_landed && op != txn_op::load) return again(txn_step::retry, attempt, s, why);
    return unclear(op, attempt, s, why);
  }
  if (o.http_status == 401) return {txn_step::fail, {}, "authentication refused by StarRocks (HTTP 401)"};
  if (o.http_status != 200) return unclear(op, attempt, s, "HTTP " + std::to_string(o.http_status));
  if (!o.response) return unclear(op, attempt, s, "unreadable answer: " + o.raw_body.substr(0, 200));
  const load_response& r = *o.response;
  std::string why = r.status + ": " + r.message;
  if (r.status == "OK" || r.status == "Success" || r.status == "Publish Timeout" || r.status == "PUBLISH_TIMEOUT")
    return {txn_step::done, {}, r.status};
  if (is_permanent_message(r.message)) return {txn_step::fail, {}, why};
  if (r.status == "TXN_IN_PROCESSING") return again(txn_step::retry, attempt, s, why);
  if (r.status == "LABEL_ALREADY_EXISTS") {
    if (op == txn_op::begin) return again(txn_step::restart, attempt, s, "label taken (" + why + ")");
    return {txn_step::settle, {}, why};
  }
  if (r.status == "TXN_NOT_EXISTS") {
    if (op == txn_op::rollback) return {txn_step::done, {}, why};
    if (op == txn_op::load || op == txn_op::begin) return again(txn_step::restart, attempt, s, why);
    return {txn_step::settle, {}, why};
  }
  bool slow = is_back_pressure_message(r.message);
  switch (op) {
    case txn_op::begin: // nothing began: the label is still free
      return again(txn_step::retry, attempt, s, why, slow);
    case txn_op::load:
    case txn_op::prepare: // an error here rolled the transaction back (or the FE lost it)
      if (op == txn_op::prepare && r.status == "FAILED") return {txn_step::settle, {}, why};
      return again(txn_step::restart, attempt, s, why, slow);
    case txn_op::commit:
    case txn_op::rollback:
      return {txn_step::settle, {}, why};
  }
  return {txn_step::fail, {}, why};
}

txn_decision decide_txn_from_state(txn_op op, const std::string& state, int attempt, const retry_settings& s) {
  std::string why = "label " + (state.empty() ? std::string("state unreadable") : state);
  if (state.empty()) return again(txn_step::settle, attempt, s, why);
  bool gone = state == "ABORTED" || state == "UNKNOWN";
  bool finished = state == "COMMITTED" || state == "VISIBLE";
  switch (op) {
    case txn_op::begin:
      if (state == "PREPARE") return {txn_step::done, {}, why};
      if (state == "UNKNOWN") return again(txn_step::retry, attempt, s, why);
      return again(txn_step::restart, attempt, s, why);
    case txn_op::load:
      return again(txn_step::restart, attempt, s, why);
    case txn_op::prepare:
      if (state == "PREPARED" || finished) return {txn_step::done, {}, why};
      if (state == "PREPARE") return again(txn_step::retry, attempt, s, why);
      return again(txn_step::restart, attempt, s, why);
    case txn_op::commit:
      if (finished) return {txn_step::done, {}, why};
      if (gone) return {txn_step::restart, {}, why + ": its rows are not in StarRocks"};
      return again(txn_step::retry, attempt, s, why);
    case txn_op::rollback:
      if (gone) return {txn_step::done, {}, why};
      if (finished) return {txn_step::fail, {}, why + ": already committed, cannot roll back"};
      return again(txn_step::retry, attempt, s, why);
  }
  return {txn_step::fail, {}, why};
}

namespace {

// Carries out a run's steps with `api` and `sleep`, blocking, until it finishes.
txn_result drive(transaction_run run, transaction_api& api, const sleeper& sleep) {
  using kind = txn_step_request::kind;
  while (!run.finished()) {
    const auto& step = run.next();
    switch (step.what) {
      case kind::call: run.answered(api.call(step.op, step.request)); break;
      case kind::read_state: run.state_read(api.state_of_label(step.request.database, step.request.label)); break;
      case kind::wait:
        sleep(step.delay);
        run.waited();
        break;
      case kind::finished: break;
    }
  }
  return run.result();
}

} // namespace

txn_result run_transaction(transaction_api& api, const load_request& batch, const label_maker& make_label,
                           uint64_t first_sequence, bool commit_at_end, const retry_settings& s,
                           const sleeper& sleep, const txn_observer& observe) {
  return drive(transaction_run(batch, make_label, first_sequence, commit_at_end, s, observe), api, sleep);
}

txn_result finish_transaction(transaction_api& api, const std::string& database, const std::string& table,
                              const std::string& label, bool commit, const retry_settings& s, const sleeper& sleep,
                              const txn_observer& observe) {
  load_request req;
  req.database = database;
  req.table = table;
  req.label = label;
  return drive(transaction_run::finish(req, commit, s, observe), api, sleep);
}

} // namespace starpipe::stream_load
