#pragma once
// A connector's progress and health as plain state, fed by its supervisor: the totals of its
// progress line, whether it is stalled (nothing loaded for task.stall.timeout.ms while records
// wait) and whether a load waits for an unreachable StarRocks. Each call says what changed;
// the supervisor logs and publishes it (task trace, /metrics gauges).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace starpipe::checkpoint {

class connector_health {
public:
  using clock = std::chrono::steady_clock;

  explicit connector_health(clock::time_point now) : last_progress_(now), last_report_(now) {}

  // What a successful load ended.
  struct recovery {
    bool stall_ended = false;
    bool wait_ended = false;
  };
  recovery on_loaded(int64_t rows, clock::time_point now);

  // A load waits for an unreachable StarRocks (until the next on_loaded).
  void on_waiting_for_starrocks() { waiting_ = true; }

  // Paused, stopping or failed: not loading is then no stall.
  void not_expected_to_load(clock::time_point now) { last_progress_ = now; }

  // The reason, when the connector has just become stalled: nothing loaded for `timeout_ms`
  // while `lag` records wait in Kafka or `buffered` bytes in starpipe.
  std::optional<std::string> check_stall(int64_t lag, int64_t buffered, int64_t timeout_ms, clock::time_point now);

  // Rows per second since the last call, and the totals, for the periodic progress line.
  struct report {
    double rows_per_second = 0;
    int64_t rows_since = 0;
  };
  report take_report(clock::time_point now);

  bool stalled() const { return stalled_; }
  bool waiting_for_starrocks() const { return waiting_; }
  int64_t rows_total() const { return rows_total_; }
  int64_t loads_total() const { return loads_total_; }

private:
  clock::time_point last_progress_;
  clock::time_point last_report_;
  bool stalled_ = false;
  bool waiting_ = false;
  int64_t rows_total_ = 0, loads_total_ = 0, rows_at_last_report_ = 0;
};

} // namespace starpipe::checkpoint
