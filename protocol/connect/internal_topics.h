#pragma once
// Distributed mode's state in Kafka, as plain data: the records of the config topic (Kafka
// Connect's keys and JSON values: connector-<n>, target-state-<n>, restart-connector-<n>)
// and of the status topic, folded into the cluster's connectors and merged into what the
// REST API shows. No I/O here: the Kafka side is pipelines/cluster/kafka_log.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/connector_registry.h"

namespace starpipe::connect {

struct stored_record {
  std::string key;
  std::optional<std::string> value; // nullopt: a tombstone
};

// Target states as Kafka Connect stores them.
enum class target_state { started, paused, stopped };
const char* to_string(target_state s);
std::optional<target_state> parse_target_state(const std::string& s); // case-insensitive; RUNNING = STARTED

struct restart_request {
  std::string connector;
  bool include_tasks = false;
  bool only_failed = false;
  std::string worker_id; // only this worker restarts (a task restart); empty: every worker
};

// --- config topic -----------------------------------------------------------------------
stored_record connector_config_record(const std::string& name, const std::map<std::string, std::string>& config);
stored_record connector_tombstone(const std::string& name);
stored_record target_state_record(const std::string& name, target_state s);
stored_record target_state_tombstone(const std::string& name);
stored_record restart_record(const restart_request& r);

struct stored_connector {
  std::map<std::string, std::string> config;
  target_state target = target_state::started;
};

// The connectors the config topic describes, updated record by record in topic order.
class cluster_config {
public:
  // Applies one record. A restart request is returned for the caller to act on; a record
  // that cannot be read is skipped and described in `problem` (the topic is shared, and one
  // bad record must not stop a worker).
  std::optional<restart_request> apply(const stored_record& r, std::string& problem);
  const std::map<std::string, stored_connector>& connectors() const { return connectors_; }
  std::optional<stored_connector> get(const std::string& name) const;

private:
  std::map<std::string, stored_connector> connectors_;
  std::map<std::string, target_state> target_states_; // may arrive before the connector
};

// --- status topic -----------------------------------------------------------------------
// One worker's instance of one connector: the connector's state there and its local tasks.
struct worker_status {
  std::string connector;
  std::string worker_id;
  std::string state = "UNASSIGNED";
  std::string trace;
  std::vector<pipelines::task_status> tasks; // ids local to the worker
  std::vector<std::string> topics;
  int64_t generation = 0;
  int64_t time_ms = 0; // when it was written: entries not refreshed in time are from a dead worker
};

stored_record status_record(const worker_status& s);
stored_record status_tombstone(const std::string& connector, const std::string& worker_id);
// nullopt when the record is not one of ours or cannot be read (`problem` says why).
std::optional<worker_status> parse_status(const stored_record& r, std::string& problem);
bool is_status_key(const std::string& key);

// What the REST API shows for every configured connector: the statuses of the live workers
// (refreshed within `expiry_ms` of `now_ms`) merged, tasks numbered across the cluster in
// worker order. A connector no live worker reports on is UNASSIGNED.
std::vector<pipelines::connector_view> merge_views(const cluster_config& config,
                                                   const std::map<std::string, worker_status>& statuses,
                                                   int64_t now_ms, int64_t expiry_ms);

} // namespace starpipe::connect
