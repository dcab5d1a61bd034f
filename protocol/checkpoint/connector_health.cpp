#include "protocol/checkpoint/connector_health.h"

namespace starpipe::checkpoint {

connector_health::recovery connector_health::on_loaded(int64_t rows, clock::time_point now) {
  rows_total_ += rows;
  ++loads_total_;
  last_progress_ = now;
  recovery r{stalled_, waiting_};
  stalled_ = waiting_ = false;
  return r;
}

std::optional<std::string> connector_health::check_stall(int64_t lag, int64_t buffered, int64_t timeout_ms,
                                                         clock::time_point now) {
  auto idle = std::chrono::duration_cast<std::chrono::seconds>(now - last_progress_).count();
  if (stalled_ || (lag <= 0 && buffered <= 0) || idle * 1000 < timeout_ms) return std::nullopt;
  stalled_ = true;
  return "Stalled: no rows loaded for " + std::to_string(idle) + " s while " + std::to_string(lag) +
         " records wait in Kafka and " + std::to_string(buffered) +
         " bytes wait in starpipe (StarRocks slow or unreachable, or loads retrying)";
}

connector_health::report connector_health::take_report(clock::time_point now) {
  double secs = std::chrono::duration<double>(now - last_report_).count();
  report r;
  r.rows_since = rows_total_ - rows_at_last_report_;
  r.rows_per_second = secs > 0 ? static_cast<double>(r.rows_since) / secs : 0.0;
  rows_at_last_report_ = rows_total_;
  last_report_ = now;
  return r;
}

} // namespace starpipe::checkpoint
