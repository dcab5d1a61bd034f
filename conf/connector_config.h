#pragma once
// A StarRocks sink connector file (connect-StarRocks-sink.properties), validated in one
// place with the keys, defaults and ranges of the StarRocks Kafka connector.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "conf/config_errors.h"
#include "conf/worker_config.h"
#include "protocol/connect/time_zone.h"
#include "protocol/transforms/transform.h"

namespace starpipe::conf {

enum class load_format { json, csv };
enum class delivery { at_least_once, exactly_once }; // sink.semantic
enum class load_interface { v1, v2, automatic };    // sink.version

struct connector_config {
  std::string name;
  std::string connector_class;
  std::vector<std::string> topics;         // exactly one of topics / topics_regex
  std::optional<std::string> topics_regex;
  std::map<std::string, std::string> topic2table;
  std::vector<std::string> fe_urls;        // "http://host:port", in the given order
  std::string database;
  std::string username;
  std::string password;
  int64_t tasks_max = 1;
  int64_t buffer_max_bytes = 67108864;
  int64_t buffer_interval_ms = 1000;
  int64_t connect_timeout_ms = 1000;
  int64_t max_retries = 3; // -1: unlimited
  load_format format = load_format::json;
  std::string row_delimiter = "\n";
  int64_t buffer_max_rows = 0;            // sink.buffer-flush.max-rows (0: no row limit)
  int64_t wait_for_continue_ms = 30000;   // sink.wait-for-continue.timeout-ms
  // sink.socket.timeout-ms (the Flink connector's): how long any answer may take; -1: a load
  // waits its `timeout` + 60 s and other requests 10 s.
  int64_t socket_timeout_ms = -1;
  delivery semantic = delivery::at_least_once;
  load_interface version = load_interface::automatic;
  std::string label_prefix;               // sink.label-prefix (default starpipe-<name>)
  bool ignore_update_before = true;       // sink.ignore.update-before
  // Every sink.properties.<name> (name lower-cased), sent as Stream Load headers.
  std::map<std::string, std::string> load_properties;
  // sink.properties.<table>.<name>: overrides for one table of a multi-table connector.
  std::map<std::string, std::map<std::string, std::string>> table_load_properties;
  converter_spec key_converter;
  converter_spec value_converter;
  std::map<std::string, std::string> consumer_overrides; // consumer.override.*
  std::vector<transforms::transform_spec> transforms;   // validated; built per partition
  bool ignore_deletes = false;      // sink.ignore.deletes: rows with __op=1 are not loaded
  std::shared_ptr<const connect::time_zone> zone; // starrocks.timezone: zone for zoned timestamps
  bool errors_tolerate_all = false; // errors.tolerance=all
  bool errors_log = false;          // errors.log.enable
  bool errors_log_messages = false; // errors.log.include.messages
  std::string dlq_topic;            // errors.deadletterqueue.topic.name
  bool dlq_context_headers = false; // errors.deadletterqueue.context.headers.enable
  std::vector<std::string> warnings;
  std::map<std::string, std::string> raw; // every key as given, for GET /connectors/{name}/config

  std::string group_id() const { return "connect-" + name; }
  // The target table of a topic: the map entry, or the topic's own name.
  const std::string& table_for(const std::string& topic) const;
  // The Stream Load headers of one table: sink.properties.* with its own overrides.
  std::map<std::string, std::string> load_properties_for(const std::string& table) const;
};

inline constexpr const char* sink_connector_class = "com.starrocks.connector.kafka.StarRocksSinkConnector";

// Throws config_exception listing every bad key.
connector_config parse_connector_config(const properties& p, const worker_config& worker);

// The librdkafka settings of a client in the connector's consumer group, as Kafka Connect
// layers them: `defaults`, then the worker's consumer.*, then consumer.override.*; the group,
// and auto-commit off (offsets are committed after the load), always.
// A task's consumer: the group settings plus its static membership (group.instance.id).
std::map<std::string, std::string> task_consumer_settings(const connector_config& c, const worker_config& worker,
                                                          int task, std::map<std::string, std::string> defaults);
std::map<std::string, std::string> group_consumer_settings(const connector_config& c, const worker_config& worker,
                                                           std::map<std::string, std::string> defaults);

// "\x01" style or literal delimiter, as the StarRocks connector reads row_delimiter.
std::optional<std::string> parse_delimiter(const std::string& raw);

// Why a connector name cannot be used (control characters, invalid UTF-8), or nullopt.
std::optional<std::string> connector_name_problem(const std::string& name);
// Debezium's and other known source connectors' classes.
bool is_source_connector_class(const std::string& connector_class);

} // namespace starpipe::conf
