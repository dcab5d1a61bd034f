#include "protocol/stream_load/retry_policy.h"

#include <algorithm>

namespace starpipe::stream_load {

using action = retry_decision::action;

std::chrono::milliseconds backoff_delay(int attempt, const retry_settings& s) {
  int64_t d = s.initial_backoff.count();
  for (int i = 1; i < attempt && d < s.max_backoff.count(); ++i) d *= 2;
  return std::chrono::milliseconds(std::min<int64_t>(d, s.max_backoff.count()));
}

bool is_permanent_message(const std::string& m) {
  static const char* markers[] = {"too many filtered rows",
                                  "primary key size exceed the limit",
                                  "Only primary key table support partial update",
                                  "Access denied",
                                  "no valid Basic authorization",
                                  "There is no 100-continue header",
                                  "unknown database",
                                  "unknown table",
                                  "Unknown table",
                                  "Unknown database",
                                  "unknown data format",
                                  "No database selected",
                                  "No table selected",
                                  "Invalid",
                                  "Mapping column is not in table",
                                  "Duplicate column",
                                  "Column has no default value",
                                  "illegal json started with",
                                  "Can not specify both"};
  for (const char* marker : markers)
    if (m.find(marker) != std::string::npos) return true;
  return false;
}

bool is_back_pressure_message(const std::string& m) {
  return m.find("too many versions") != std::string::npos || m.find("Too many versions") != std::string::npos ||
         m.find("too large compaction score") != std::string::npos ||
         m.find("current running txns on db") != std::string::npos ||
         m.find("exceed http cuncurrent limit") != std::string::npos;
}

namespace {

retry_decision retry_or_give_up(int attempt, const retry_settings& s, const std::string& why, bool slow = false) {
  if (s.max_retries >= 0 && attempt > s.max_retries)
    return {action::fail, {}, why + " (gave up after " + std::to_string(attempt) + " attempts, sink.maxretries=" +
                                  std::to_string(s.max_retries) + ")"};
  auto delay = backoff_delay(attempt, s);
  if (slow) delay = std::min(s.max_backoff, delay * 4);
  return {action::retry, delay, why};
}

} // namespace

retry_decision decide(const attempt_outcome& o, int attempt, const retry_settings& s) {
  if (o.cancelled) return {action::fail, {}, "abandoned at shutdown before StarRocks answered: " + o.transport_error.value_or("")};
  if (o.transport_error && o.unreachable) {
    retry_decision d{action::retry, backoff_delay(attempt, s),
                     "StarRocks unreachable: " + *o.transport_error +
                         " (retrying until it answers; not counted against sink.maxretries)"};
    d.waiting_for_starrocks = true;
    return d;
  }
  if (o.transport_error) {
    // A retry with the same label is safe even when the body may have landed: StarRocks
    // then answers Label Already Exists, which settles the outcome.
    return retry_or_give_up(attempt, s, "transport error: " + *o.transport_error);
  }
  if (o.http_status == 401) return {action::fail, {}, "authentication refused by StarRocks (HTTP 401)"};
  if (o.http_status == 307) return retry_or_give_up(attempt, s, "redirect loop (HTTP 307 after following one)");
  if (o.http_status != 200) return retry_or_give_up(attempt, s, "HTTP " + std::to_string(o.http_status));
  if (!o.response) return retry_or_give_up(attempt, s, "answer is not a Stream Load result: " + o.raw_body.substr(0, 200));

  const load_response& r = *o.response;
  if (r.status == "Success" || r.status == "Publish Timeout" || r.status == "OK") return {action::done, {}, r.status};
  if (r.status == "Label Already Exists") {
    if (r.existing_job_status == "FINISHED") return {action::done, {}, "label already loaded (FINISHED)"};
    return {action::check_label, {}, "label already exists, transaction " +
                                         (r.existing_job_status.empty() ? std::string("state unknown")
                                                                        : r.existing_job_status)};
  }
  std::string why = r.status + ": " + r.message;
  if (is_permanent_message(r.message)) return {action::fail, {}, why};
  if (r.status == "Fail" || r.status == "FAILED" || r.status == "INTERNAL_ERROR" || r.status == "TXN_IN_PROCESSING")
    return retry_or_give_up(attempt, s, why, is_back_pressure_message(r.message));
  return {action::fail, {}, why};
}

retry_decision decide_from_label_state(const std::string& state, int attempt, const retry_settings& s) {
  if (state == "VISIBLE" || state == "COMMITTED") return {action::done, {}, "label " + state};
  if (state == "ABORTED" || state == "UNKNOWN")
    return retry_or_give_up(attempt, s, "label " + state + ": the load did not land");
  if (state == "PREPARE" || state == "PREPARED") return {action::check_label, backoff_delay(1, s), "label " + state};
  return retry_or_give_up(attempt, s, "label state unreadable: '" + state + "'");
}

} // namespace starpipe::stream_load
