#pragma once
// Answers and settings the retry-policy and transaction tests build their cases from.
#include "protocol/stream_load/retry_policy.h"

namespace starpipe::stream_load::testing {

// An HTTP 200 answer whose JSON carries `status`, `message` and ExistingJobStatus `existing`.
inline attempt_outcome with_status(const std::string& status, const std::string& message = "",
                                   const std::string& existing = "") {
  attempt_outcome o;
  o.http_status = 200;
  load_response r;
  r.status = status;
  r.message = message;
  r.existing_job_status = existing;
  o.response = r;
  return o;
}

inline retry_settings settings(int64_t max = 3) {
  retry_settings s;
  s.max_retries = max;
  return s;
}

} // namespace starpipe::stream_load::testing
