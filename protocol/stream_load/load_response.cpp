#include "protocol/stream_load/load_response.h"
#include "protocol/connect/json_scan.h"

#include <nlohmann/json.hpp>

namespace starpipe::stream_load {

namespace {
int64_t int_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (...) {
    }
  }
  return 0;
}
std::string str_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}
} // namespace

std::optional<load_response> parse_load_response(const std::string& body) {
  if (connect::nested_deeper_than(body)) return std::nullopt;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("Status")) return std::nullopt;
  load_response r;
  r.txn_id = j.contains("TxnId") ? int_of(j, "TxnId") : -1;
  r.label = str_of(j, "Label");
  r.status = str_of(j, "Status");
  r.existing_job_status = str_of(j, "ExistingJobStatus");
  r.message = str_of(j, "Message");
  r.total_rows = int_of(j, "NumberTotalRows");
  r.loaded_rows = int_of(j, "NumberLoadedRows");
  r.filtered_rows = int_of(j, "NumberFilteredRows");
  r.unselected_rows = int_of(j, "NumberUnselectedRows");
  r.load_bytes = int_of(j, "LoadBytes");
  r.load_time_ms = int_of(j, "LoadTimeMs");
  r.error_url = str_of(j, "ErrorURL");
  return r;
}

std::optional<label_state> parse_label_state(const std::string& body) {
  if (connect::nested_deeper_than(body)) return std::nullopt;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  label_state s;
  s.state = str_of(j, "state");
  s.status = str_of(j, "status");
  s.message = str_of(j, "message");
  s.reason = str_of(j, "reason");
  return s;
}

} // namespace starpipe::stream_load
