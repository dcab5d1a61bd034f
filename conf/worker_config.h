#pragma once
// The Kafka Connect worker file (connect-standalone.properties), as starpipe reads it.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "conf/config_errors.h"
#include "conf/properties.h"

namespace starpipe::conf {

enum class converter_kind { json, string, byte_array };

// Converter classes are registered in protocol/connect/converter.h (converter_plugins).

struct converter_spec {
  converter_kind kind = converter_kind::json;
  bool schemas_enable = true; // JsonConverter default
  int64_t schemas_cache_size = 1000; // JsonConverter's schemas.cache.size
  std::string class_name = "org.apache.kafka.connect.json.JsonConverter";
};

// Reads `<prefix>` (e.g. "value.converter") and `<prefix>.schemas.enable` over a base spec.
converter_spec read_converter(const properties& p, const std::string& prefix, const converter_spec& base,
                              config_errors& errs);

struct worker_config {
  std::string bootstrap_servers = "localhost:9092";
  converter_spec key_converter;
  converter_spec value_converter;
  int64_t offset_flush_interval_ms = 60000;
  int64_t offset_flush_timeout_ms = 5000;
  int64_t task_shutdown_graceful_timeout_ms = 5000;
  int64_t task_stall_timeout_ms = 60000; // no load for this long while lag > 0: reported as stalled
  std::string offset_storage_file; // accepted; sink offsets live in the consumer group
  std::string plugin_path;         // accepted; everything is built in
  std::string rest_host = "127.0.0.1"; // from `listeners` (default http://127.0.0.1:8083)
  unsigned short rest_port = 8083;
  bool rest_tls = false; // an https:// listener
  struct tls_settings {
    std::string keystore_type;     // PKCS12 or PEM
    std::string keystore_location; // PKCS12 file, or PEM file with the key and the certificate chain
    std::string keystore_password;
    std::string key_password;      // an encrypted PEM key's password
    std::string certificate_chain; // PEM text (ssl.keystore.certificate.chain)
    std::string key;               // PEM text (ssl.keystore.key)
  } rest_tls_settings;
  std::string worker_id;               // rest.advertised.host.name:port, or the listener's
  // Standalone: each task is a static group member (KIP-345), so a restarted process gets
  // its partitions back at once instead of after the dead member's session timeout. The
  // identity is this host and REST port (no two live processes share it), connector, task.
  bool static_membership = false;
  std::string member_identity;        // <hostname>:<rest port>
  // rest.basic.auth.file: user=password lines (as Kafka Connect's PropertyFileLoginModule
  // reads); when set, every REST request needs HTTP Basic auth.
  std::map<std::string, std::string> rest_users;
  // librdkafka consumer settings for every sink consumer (worker `consumer.*`), Java-only
  // keys already translated (sasl.jaas.config -> sasl.username/sasl.password).
  std::map<std::string, std::string> consumer_settings;
  std::map<std::string, std::string> producer_settings; // producer.*: the dead-letter producer
  // security.protocol, ssl.*, sasl.*: the worker's own clients (distributed mode's topics).
  std::map<std::string, std::string> client_settings;
  std::vector<std::string> warnings; // unknown or no-op keys, logged once at start
  std::map<std::string, std::string> config_provider_classes; // config.providers.<alias>.class

  // Distributed mode (connect-distributed.properties): where the cluster keeps its state.
  std::string group_id;             // group.id: workers sharing the same topics form one cluster
  std::string config_topic;         // config.storage.topic: connector configs and target states
  std::string status_topic;         // status.storage.topic: connector and task statuses
  std::string offset_topic;         // offset.storage.topic: accepted; sink offsets live in consumer groups
  int config_replication = 3;       // *.storage.replication.factor, -1 = the broker's default
  int status_replication = 3;
  int status_partitions = 5;
};

enum class worker_mode { standalone, distributed };

// Throws config_exception when any key is invalid; all errors are in the message.
worker_config parse_worker_config(const properties& p, worker_mode mode = worker_mode::standalone);

struct config_exception : std::runtime_error {
  explicit config_exception(const config_errors& e) : std::runtime_error(e.to_string()), errors(e) {}
  config_errors errors;
};

// Java client keys that librdkafka spells differently or does not know. Returns the
// librdkafka settings, records unknown keys as warnings and bad values as errors.
std::map<std::string, std::string> translate_client_settings(const properties& p, const std::string& prefix,
                                                             std::vector<std::string>& warnings,
                                                             config_errors& errs);

} // namespace starpipe::conf
