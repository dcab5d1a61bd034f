#pragma once
// When a table's buffer becomes a load: the StarRocks connector's rules (bytes, age) plus
// explicit flushes for offset commits, revokes, shutdown and memory pressure. Pure logic.
#include <chrono>
#include <cstdint>

namespace starpipe::sinks {

struct flush_settings {
  int64_t max_batch_bytes = 16 * 1024 * 1024;   // one load's body size that triggers a flush
  std::chrono::milliseconds interval{1000};      // bufferflush.intervalms
  // When every partition feeding the buffer has been read to its end, waiting for the age
  // only adds latency: a buffer at least this big loads at once. Smaller ones still wait,
  // so a trickle of rows does not become a stream of tiny loads.
  int64_t caught_up_min_bytes = 1024 * 1024;
  int64_t max_rows = 0; // sink.buffer-flush.max-rows; 0: no row limit
};

enum class flush_reason { none, bytes, rows, interval, requested, caught_up };

class flush_policy {
public:
  using clock = std::chrono::steady_clock;
  explicit flush_policy(flush_settings s) : settings_(s) {}

  void on_rows_added(int64_t bytes, clock::time_point now, int64_t rows = 0) {
    if (buffered_bytes_ == 0) oldest_ = now;
    buffered_bytes_ += bytes;
    buffered_rows_ += rows;
  }
  void on_flushed() { buffered_bytes_ = 0, buffered_rows_ = 0; }
  void request() { requested_ = true; }
  void set_caught_up(bool v) { caught_up_ = v; }

  // Checked after rows arrive, on each timer tick and when a load finishes.
  flush_reason due(clock::time_point now) const {
    if (buffered_bytes_ == 0) return flush_reason::none;
    if (requested_) return flush_reason::requested;
    if (buffered_bytes_ >= settings_.max_batch_bytes) return flush_reason::bytes;
    if (settings_.max_rows > 0 && buffered_rows_ >= settings_.max_rows) return flush_reason::rows;
    if (now - oldest_ >= settings_.interval) return flush_reason::interval;
    if (caught_up_ && buffered_bytes_ >= settings_.caught_up_min_bytes) return flush_reason::caught_up;
    return flush_reason::none;
  }
  void clear_request() { requested_ = false; }
  bool requested() const { return requested_; }
  int64_t buffered_bytes() const { return buffered_bytes_; }
  const flush_settings& settings() const { return settings_; }

private:
  flush_settings settings_;
  int64_t buffered_bytes_ = 0;
  int64_t buffered_rows_ = 0;
  clock::time_point oldest_{};
  bool requested_ = false;
  bool caught_up_ = false;
};

const char* to_string(flush_reason r);

// The body size that triggers a load, from bufferflush.maxbytes: a quarter of the memory
// budget, so one load can be in flight while the next fills, inside the budget.
int64_t batch_bytes_for(int64_t buffer_max_bytes);

} // namespace starpipe::sinks
