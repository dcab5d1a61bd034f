#pragma once
// What to do after one Stream Load attempt: a pure function of the outcome and the attempt
// number, so every rule is unit-tested on its own.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "protocol/stream_load/load_response.h"

namespace starpipe::stream_load {

struct attempt_outcome {
  // Set when no HTTP answer arrived (refused, reset, timeout). body_may_have_landed says
  // whether the body was (partly) sent, i.e. whether the load's fate is unknown.
  std::optional<std::string> transport_error;
  bool body_may_have_landed = false;
  // The process is stopping and abandoned the request (past task.shutdown.graceful.timeout.ms):
  // never retried, and nothing it carried is committed.
  bool cancelled = false;
  // No FE of starrocks.http.url took the connection: nothing reached StarRocks. Retried with
  // capped backoff for as long as it lasts, not counted against sink.maxretries, so a
  // StarRocks that is down when the task starts is waited for, not a permanent failure.
  bool unreachable = false;
  int http_status = 0;
  std::optional<load_response> response; // parsed BE/FE JSON, when there was one
  std::string raw_body;
};

struct retry_settings {
  int64_t max_retries = 3; // -1: unlimited
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{10000};
};

struct retry_decision {
  enum class action {
    done,         // loaded (Success, Publish Timeout, or the label already FINISHED)
    check_label,  // the label's transaction is running: ask get_load_state before anything else
    retry,        // same label, after `delay`
    fail          // stop: `reason` says why
  };
  action what = action::fail;
  std::chrono::milliseconds delay{0};
  std::string reason;
  bool waiting_for_starrocks = false; // a retry because StarRocks is unreachable (see attempt_outcome)
};

// attempt: 1 for the first try.
retry_decision decide(const attempt_outcome& outcome, int attempt, const retry_settings& settings);

// After check_label: the label's state decides. Returns done, retry (ABORTED/UNKNOWN: the
// data is not there, load again with the same label) or check_label (still running).
retry_decision decide_from_label_state(const std::string& state, int attempt, const retry_settings& settings);

std::chrono::milliseconds backoff_delay(int attempt, const retry_settings& settings);

// Messages StarRocks answers for errors that a retry cannot fix.
bool is_permanent_message(const std::string& message);
// Back-pressure messages: retried, with a longer wait.
bool is_back_pressure_message(const std::string& message);

} // namespace starpipe::stream_load
