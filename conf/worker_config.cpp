#include "conf/worker_config.h"

#include <unistd.h>

#include <cstdio>

#include "conf/config_providers.h"
#include "conf/key_tables.h"
#include "protocol/connect/converter.h"

#include <librdkafka/rdkafka.h>

#include <regex>
#include <set>

namespace starpipe::conf {

converter_spec read_converter(const properties& p, const std::string& prefix, const converter_spec& base,
                              config_errors& errs) {
  converter_spec spec = base;
  if (auto cls = p.get(prefix)) {
    std::string c = read_string(p, prefix, "");
    const connect::converter_plugin* found = connect::find_converter(c);
    if (found) {
      spec.kind = found->kind;
      if (found->kind == converter_kind::json) spec.schemas_enable = true;
    } else {
      errs.add(p, prefix, "unsupported converter; allowed: " + connect::converter_class_list());
    }
    spec.class_name = c;
  }
  spec.schemas_enable = read_bool(p, prefix + ".schemas.enable", spec.schemas_enable, errs);
  if (const connect::converter_plugin* plugin = connect::find_converter(spec.class_name)) {
    // Default and range are the converter's table's; a bad value is reported (once) by
    // check_converter_keys. A converter named here starts from its defaults, as in Kafka
    // Connect; one inherited from the worker keeps the worker's setting.
    if (const conf::key_def* k = plugin->keys->find("schemas.cache.size"); k && k->default_value) {
      if (p.get(prefix)) spec.schemas_cache_size = std::stoll(*k->default_value);
      config_errors reported_elsewhere;
      spec.schemas_cache_size = read_long(p, prefix + ".schemas.cache.size", spec.schemas_cache_size,
                                          k->min.value_or(0), k->max.value_or(INT32_MAX), reported_elsewhere);
    }
  }
  return spec;
}

namespace {

// `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`
bool parse_jaas(const std::string& jaas, std::string& user, std::string& pass) {
  static const std::regex user_re(R"(username\s*=\s*\"([^\"]*)\")");
  static const std::regex pass_re(R"(password\s*=\s*\"([^\"]*)\")");
  std::smatch m;
  if (!std::regex_search(jaas, m, user_re)) return false;
  user = m[1];
  if (!std::regex_search(jaas, m, pass_re)) return false;
  pass = m[1];
  return true;
}

// Java consumer keys with no librdkafka meaning: accepted silently but reported once.
const std::set<std::string> java_only_keys = {
    "key.deserializer", "value.deserializer", "max.poll.records", "request.timeout.ms",
    "ssl.truststore.type", "ssl.keystore.type", "interceptor.classes", "default.api.timeout.ms",
    "retry.backoff.ms", "client.dns.lookup"};

} // namespace

std::map<std::string, std::string> translate_client_settings(const properties& p, const std::string& prefix,
                                                             std::vector<std::string>& warnings,
                                                             config_errors& errs) {
  std::map<std::string, std::string> out;
  rd_kafka_conf_t* probe = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [key, value] : p.with_prefix(prefix)) {
    std::string full = prefix + key;
    if (key == "sasl.jaas.config") {
      std::string user, pass;
      if (!parse_jaas(value, user, pass)) {
        errs.add(p, full, "expected a PlainLoginModule/ScramLoginModule entry with username=\"...\" password=\"...\"");
        continue;
      }
      out["sasl.username"] = user;
      out["sasl.password"] = pass;
      continue;
    }
    if (java_only_keys.count(key)) {
      warnings.push_back(full + " is a Java client setting with no librdkafka equivalent; ignored");
      continue;
    }
    std::string k = key;
    if (k == "ssl.truststore.location") k = "ssl.ca.location"; // only PEM files work with librdkafka
    auto res = rd_kafka_conf_set(probe, k.c_str(), value.c_str(), errstr, sizeof errstr);
    if (res == RD_KAFKA_CONF_UNKNOWN) {
      warnings.push_back(full + " is not a librdkafka consumer setting; ignored");
      continue;
    }
    if (res == RD_KAFKA_CONF_INVALID) {
      errs.add(p, full, std::string("invalid consumer setting: ") + errstr);
      continue;
    }
    out[k] = value;
  }
  rd_kafka_conf_destroy(probe);
  return out;
}

worker_config parse_worker_config(const properties& p, worker_mode mode) {
  worker_config w;
  config_errors errs;
  const config_def& keys = worker_keys();
  w.bootstrap_servers = keys.read_string(p, "bootstrap.servers");
  if (w.bootstrap_servers.empty()) errs.add(p, "bootstrap.servers", "must list at least one host:port");
  w.key_converter = read_converter(p, "key.converter", w.key_converter, errs);
  w.value_converter = read_converter(p, "value.converter", w.value_converter, errs);
  connect::check_converter_keys(p, "key.converter", w.key_converter, errs, w.warnings);
  connect::check_converter_keys(p, "value.converter", w.value_converter, errs, w.warnings);
  keys.read_choice(p, "header.converter", errs);
  w.offset_flush_interval_ms = keys.read_long(p, "offset.flush.interval.ms", errs);
  w.offset_flush_timeout_ms = keys.read_long(p, "offset.flush.timeout.ms", errs);
  w.task_shutdown_graceful_timeout_ms = keys.read_long(p, "task.shutdown.graceful.timeout.ms", errs);
  w.task_stall_timeout_ms = keys.read_long(p, "task.stall.timeout.ms", errs);
  w.offset_storage_file = keys.read_string(p, "offset.storage.file.filename");
  w.plugin_path = keys.read_string(p, "plugin.path");
  {
    static const std::regex listener_re(R"(^\s*(https?)://([^:/\s]*):([0-9]{1,5})/?\s*$)");
    std::string listeners = keys.read_string(p, "listeners");
    std::string first = listeners.substr(0, listeners.find(','));
    std::smatch m;
    if (!std::regex_match(first, m, listener_re) || std::stol(m[3]) > 65535) {
      errs.add(p, "listeners", "must be http://host:port or https://host:port with a port in [0, 65535]");
    } else {
      w.rest_tls = m[1] == "https";
      w.rest_host = m[2].length() ? std::string(m[2]) : "0.0.0.0";
      if (w.rest_host == "localhost") w.rest_host = "127.0.0.1";
      w.rest_port = static_cast<unsigned short>(std::stol(m[3]));
    }
    if (listeners.find(',') != std::string::npos)
      w.warnings.push_back("listeners=" + listeners + ": starpipe listens on the first one only (" + first + ")");
    if (w.rest_tls) {
      // Kafka Connect reads listeners.https.ssl.* first, then ssl.*.
      auto tls = [&](const std::string& key) -> std::optional<std::string> {
        if (auto v = p.get("listeners.https." + key)) return v;
        return p.get(key);
      };
      auto& t = w.rest_tls_settings;
      t.keystore_type = tls("ssl.keystore.type").value_or("JKS");
      for (auto& ch : t.keystore_type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      t.keystore_location = tls("ssl.keystore.location").value_or("");
      t.keystore_password = tls("ssl.keystore.password").value_or("");
      t.key_password = tls("ssl.key.password").value_or("");
      t.certificate_chain = tls("ssl.keystore.certificate.chain").value_or("");
      t.key = tls("ssl.keystore.key").value_or("");
      if (!t.certificate_chain.empty() || !t.key.empty()) {
        if (t.certificate_chain.empty() || t.key.empty())
          errs.add(p, "ssl.keystore.key", "ssl.keystore.key and ssl.keystore.certificate.chain go together (PEM text)");
        t.keystore_type = "PEM";
      } else if (t.keystore_type == "JKS") {
        errs.add(p, "ssl.keystore.type",
                 "JKS keystores need a JVM: set ssl.keystore.type=PKCS12 (keytool -importkeystore -deststoretype "
                 "PKCS12) or PEM, for the https listener");
      } else if (t.keystore_type != "PKCS12" && t.keystore_type != "PEM") {
        errs.add(p, "ssl.keystore.type", "must be PKCS12 or PEM for the https listener");
      } else if (t.keystore_location.empty()) {
        errs.add(p, "ssl.keystore.location", "is required for an https listener (a " + t.keystore_type +
                                                  " file with the server's key and certificate chain)");
      }
    }
    std::string host = read_string(p, "rest.advertised.host.name", w.rest_host == "0.0.0.0" ? "127.0.0.1" : w.rest_host);
    int64_t port = p.has("rest.advertised.port") ? keys.read_long(p, "rest.advertised.port", errs) : w.rest_port;
    w.worker_id = host + ":" + std::to_string(port);
    char hostname[256] = {};
    if (gethostname(hostname, sizeof hostname - 1) != 0) std::snprintf(hostname, sizeof hostname, "localhost");
    w.member_identity = std::string(hostname) + ":" + std::to_string(w.rest_port);
  }
  // A distributed worker hands its partitions over when it stops; a static member never
  // leaves its group, so there it is off unless the worker file sets consumer.group.instance.id.
  w.static_membership = mode == worker_mode::standalone;
  if (auto file = p.get("rest.basic.auth.file"); file && !file->empty()) {
    try {
      auto users = load_properties_file(read_string(p, "rest.basic.auth.file", ""));
      for (const auto& e : users.entries()) w.rest_users[e.key] = e.value;
      if (w.rest_users.empty()) errs.add(p, "rest.basic.auth.file", "lists no users (user=password lines)");
    } catch (const std::exception& e) {
      errs.add(p, "rest.basic.auth.file", e.what());
    }
  }
  w.consumer_settings = translate_client_settings(p, "consumer.", w.warnings, errs);
  w.config_provider_classes = read_config_providers(p, errs).classes;
  w.producer_settings = translate_client_settings(p, "producer.", w.warnings, errs);
  {
    properties own;
    own.source = p.source;
    // ssl.* also configures an https REST listener; it reaches Kafka only over SSL.
    std::string protocol = p.get("security.protocol").value_or("PLAINTEXT");
    bool kafka_tls = protocol == "SSL" || protocol == "SASL_SSL";
    for (const auto& e : p.entries())
      if (e.key == "security.protocol" || (kafka_tls && e.key.rfind("ssl.", 0) == 0) || e.key.rfind("sasl.", 0) == 0)
        own.set(e.key, e.value, e.line);
    w.client_settings = translate_client_settings(own, "", w.warnings, errs);
  }
  if (mode == worker_mode::distributed) {
    // Kafka Connect requires these four; the StarRocks guide's connect-distributed.properties
    // relies on the values of Kafka's sample file, so those are the defaults here, said aloud.
    auto required = [&](const char* key) {
      auto v = p.get(key);
      if (v && v->empty()) errs.add(p, key, "must not be empty");
      if (v) return *v;
      std::string sample = keys.read_string(p, key);
      w.warnings.push_back(std::string(key) + " is not set: using " + sample +
                           ", the value of Kafka's sample connect-distributed.properties");
      return sample;
    };
    w.group_id = required("group.id");
    w.config_topic = required("config.storage.topic");
    w.offset_topic = required("offset.storage.topic");
    w.status_topic = required("status.storage.topic");
    auto replication = [&](const char* key) {
      int64_t v = keys.read_long(p, key, errs);
      if (v == 0) errs.add(p, key, "must be -1 (the broker's default) or in [1, 32767]");
      return static_cast<int>(v);
    };
    w.config_replication = replication("config.storage.replication.factor");
    w.status_replication = replication("status.storage.replication.factor");
    replication("offset.storage.replication.factor");
    w.status_partitions = static_cast<int>(keys.read_long(p, "status.storage.partitions", errs));
    keys.read_long(p, "offset.storage.partitions", errs);
    if (!w.config_topic.empty() && (w.config_topic == w.status_topic || w.config_topic == w.offset_topic))
      errs.add(p, "config.storage.topic", "must differ from status.storage.topic and offset.storage.topic");
    if (!w.status_topic.empty() && w.status_topic == w.offset_topic)
      errs.add(p, "status.storage.topic", "must differ from offset.storage.topic");
  }

  for (const auto& key : keys.undeclared(p)) {
    if (sink_connector_keys().find(key) && !worker_keys().find(key)) {
      w.warnings.push_back(p.source + ": " + key +
                           " is a connector setting; as in Kafka Connect it has no effect in the worker file "
                           "(put it in the connector file)");
      continue;
    }
    w.warnings.push_back(p.source + ": unknown worker key '" + key + "' ignored");
  }
  for (auto& warning : keys.without_effect(p)) w.warnings.push_back(std::move(warning));
  if (!errs.empty()) throw config_exception(errs);
  return w;
}

} // namespace starpipe::conf
