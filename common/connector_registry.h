#pragma once
// What the REST API shows about each connector: its config, the state of the connector and
// its tasks (with the trace of a failure), its topics and load metrics. Supervisors publish
// into it; the REST thread reads snapshots. A mutex-guarded map, touched for microseconds.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace starpipe::pipelines {

struct task_status {
  int id = 0;
  std::string state = "UNASSIGNED"; // UNASSIGNED RUNNING PAUSED FAILED RESTARTING
  std::string trace;
  std::string worker_id; // empty: this worker
};

struct connector_metrics {
  int64_t total_flush_bytes = 0;
  int64_t total_flush_rows = 0;
  int64_t total_flush_succeeded_times = 0;
  int64_t total_flush_failed_times = 0;
  int64_t total_filtered_rows = 0;
  int64_t consumer_lag = 0;
  int64_t buffered_bytes = 0;
  int64_t last_load_latency_ms = 0;
  int64_t stalled = 0; // 1 while no load has succeeded for task.stall.timeout.ms with lag > 0
  int64_t waiting_for_starrocks = 0; // 1 while a load retries because no FE takes a connection
  // Per task (one Kafka consumer each). The load counters above are the connector's on this
  // worker: its tasks share one Stream Load writer per table, so a load is no one task's.
  std::map<int, int64_t> task_lag;
  std::map<int, int64_t> task_partitions; // partitions (streams) each task reads now
  int64_t credit_pauses = 0;  // a source paused because its share of bufferflush.maxbytes was spent
  int64_t credit_resumes = 0; // and read again once loads gave the credit back
};

struct connector_view {
  std::string name;
  std::map<std::string, std::string> config; // as given, `name` included
  std::string state = "UNASSIGNED";
  std::string trace;
  std::string worker_id; // the worker reporting the connector's state; empty: this worker
  std::vector<task_status> tasks;
  std::set<std::string> topics;
  connector_metrics metrics;
};

class connector_registry {
public:
  void put(connector_view v);
  template <class F>
  void update(const std::string& name, F&& f) {
    std::lock_guard<std::mutex> g(mutex_);
    auto it = connectors_.find(name);
    if (it != connectors_.end()) f(it->second);
  }
  std::optional<connector_view> get(const std::string& name) const;
  void remove(const std::string& name);
  // Replaces every view at once (distributed mode's merged cluster view).
  void replace_all(std::vector<connector_view> views);
  std::vector<connector_view> all() const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, connector_view> connectors_;
};

} // namespace starpipe::pipelines
