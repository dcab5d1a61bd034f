#include "protocol/checkpoint/connector_status.h"

#include <iomanip>

#include "common/log.h"

namespace starpipe::checkpoint {

connector_status::connector_status(std::shared_ptr<pipelines::connector_registry> registry, std::string connector,
                                   clock::time_point now)
    : registry_(std::move(registry)), connector_(std::move(connector)), health_(now) {}

void connector_status::started(const std::map<std::string, std::string>& config, int tasks) {
  if (!registry_) return;
  pipelines::connector_view v;
  v.name = connector_;
  v.config = config;
  v.state = "RUNNING";
  for (int i = 0; i < tasks; ++i) v.tasks.push_back({i, "RUNNING", "", ""});
  registry_->put(std::move(v));
}

void connector_status::topic_seen(const std::string& topic) {
  if (topics_.insert(topic).second) publish([&](pipelines::connector_view& v) { v.topics.insert(topic); });
}

void connector_status::loaded(const load& l, int64_t buffered, clock::time_point now) {
  auto ended = health_.on_loaded(l.rows, now);
  publish([&](pipelines::connector_view& v) {
    v.metrics.total_flush_bytes += l.bytes;
    v.metrics.total_flush_rows += l.rows;
    v.metrics.total_flush_succeeded_times += 1;
    v.metrics.total_filtered_rows += l.filtered_rows;
    v.metrics.last_load_latency_ms = l.millis;
    v.metrics.buffered_bytes = buffered;
  });
  if (ended.wait_ended) {
    LOG_INFO("supervisor", "connector " << connector_ << ": StarRocks answers again");
    publish([&](pipelines::connector_view& v) {
      v.metrics.waiting_for_starrocks = 0;
      for (auto& t : v.tasks)
        if (t.state == "RUNNING" && t.trace.rfind("Retrying: ", 0) == 0) t.trace.clear();
    });
  }
  if (!ended.stall_ended) return;
  LOG_INFO("supervisor", "connector " << connector_ << ": loading again, no longer stalled");
  publish([&](pipelines::connector_view& v) {
    v.metrics.stalled = 0;
    for (auto& t : v.tasks)
      if (t.state == "RUNNING") t.trace.clear();
  });
}

void connector_status::load_failed() {
  publish([](pipelines::connector_view& v) { v.metrics.total_flush_failed_times += 1; });
}

void connector_status::retrying(const std::string& table, const std::string& reason) {
  if (failed_) return; // the failure's trace stays
  health_.on_waiting_for_starrocks();
  const std::string why = "Retrying: loading table " + table + ": " + reason;
  publish([&](pipelines::connector_view& v) {
    v.metrics.waiting_for_starrocks = 1;
    for (auto& t : v.tasks)
      if (t.state == "RUNNING") t.trace = why;
  });
}

bool connector_status::fail(const std::string& reason) {
  if (failed_) return false;
  failed_ = true;
  failure_ = reason;
  publish([&](pipelines::connector_view& v) {
    for (auto& t : v.tasks) {
      t.state = "FAILED";
      t.trace = "org.apache.kafka.connect.errors.ConnectException: " + reason;
    }
  });
  return true;
}

void connector_status::hold(bool paused, clock::time_point now) {
  if (!paused) health_.not_expected_to_load(now); // a pause is not a stall
  const char* state = paused ? "PAUSED" : "RUNNING";
  publish([state](pipelines::connector_view& v) {
    v.state = state;
    for (auto& t : v.tasks)
      if (t.state != "FAILED") t.state = state;
  });
}

void connector_status::lag(int task, int64_t records, int64_t streams, int64_t buffered) {
  lag_[task] = records;
  int64_t total = total_lag();
  publish([&](pipelines::connector_view& v) {
    v.metrics.task_lag[task] = records;
    v.metrics.task_partitions[task] = streams;
    v.metrics.consumer_lag = total;
    v.metrics.buffered_bytes = buffered;
  });
}

void connector_status::credit(bool spent) {
  publish([spent](pipelines::connector_view& v) { ++(spent ? v.metrics.credit_pauses : v.metrics.credit_resumes); });
}

int64_t connector_status::total_lag() const {
  int64_t total = 0;
  for (const auto& [task, records] : lag_) total += records;
  return total;
}

void connector_status::report(int64_t buffered, clock::time_point now) {
  auto r = health_.take_report(now);
  int64_t lag = total_lag();
  if (r.rows_since > 0 || lag > 0)
    LOG_INFO("supervisor", "connector " << connector_ << ": " << std::fixed << std::setprecision(1)
                                        << r.rows_per_second << " rows/s, " << health_.rows_total() << " rows in "
                                        << health_.loads_total() << " loads, lag " << lag << ", buffered "
                                        << buffered << " bytes" << (failed_ ? ", FAILED" : ""));
}

void connector_status::watch_for_stall(bool expected_to_load, int64_t buffered, int64_t timeout_ms,
                                       clock::time_point now) {
  if (!expected_to_load || failed_) {
    health_.not_expected_to_load(now);
    return;
  }
  auto stalled = health_.check_stall(total_lag(), buffered, timeout_ms, now);
  if (!stalled) return;
  const std::string& why = *stalled;
  LOG_WARN("supervisor", "connector " << connector_ << ": " << why);
  publish([&](pipelines::connector_view& v) {
    v.metrics.stalled = 1;
    for (auto& t : v.tasks) t.trace = why;
  });
}

} // namespace starpipe::checkpoint
