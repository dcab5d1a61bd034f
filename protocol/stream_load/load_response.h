#pragma once
// The BE's Stream Load result JSON and the FE's get_load_state answer, parsed.
#include <cstdint>
#include <optional>
#include <string>

namespace starpipe::stream_load {

struct load_response {
  int64_t txn_id = -1;
  std::string label;
  std::string status;              // Success, Publish Timeout, Label Already Exists, Fail, FAILED
  std::string existing_job_status; // RUNNING / FINISHED with Label Already Exists
  std::string message;
  int64_t total_rows = 0, loaded_rows = 0, filtered_rows = 0, unselected_rows = 0, load_bytes = 0;
  int64_t load_time_ms = 0;
  std::string error_url;
};

// nullopt when the body is not the JSON object a load answers with.
std::optional<load_response> parse_load_response(const std::string& body);

struct label_state {
  std::string state; // UNKNOWN PREPARE PREPARED COMMITTED VISIBLE ABORTED, or "" on error
  std::string status;
  std::string message;
  std::string reason;
};
std::optional<label_state> parse_label_state(const std::string& body);

} // namespace starpipe::stream_load
