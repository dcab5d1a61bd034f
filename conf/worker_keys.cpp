// Every key of the Kafka Connect worker file starpipe reads, declared once.
#include "conf/key_tables.h"

namespace starpipe::conf {

namespace {

const char* const common = "Common";
const char* const rest = "REST";
const char* const clients = "Kafka clients";
const char* const distributed = "Distributed mode";

config_def make_worker_keys() {
  config_def d("worker");
  d.define(string_key("bootstrap.servers", "localhost:9092", "The Kafka cluster.")
               .with_group(common)
               .with_importance(key_importance::high)
               .values("host:port list"));
  define_converter_keys(d, common, "org.apache.kafka.connect.json.JsonConverter",
                        " for every connector that sets none");
  d.define(long_key("offset.flush.interval.ms", 60000, 1, 86400000, "How often loaded offsets are committed "
                                                                    "(flush, then commit).")
               .with_group(common));
  d.define(long_key("offset.flush.timeout.ms", 5000, 1, 86400000, "How long an offset commit may take.")
               .with_group(common));
  d.define(long_key("task.shutdown.graceful.timeout.ms", 5000, 0, 86400000,
                    "How long SIGTERM waits for buffered rows to load; past it the StarRocks requests still "
                    "open are cancelled (their rows are not committed and are read again at the next start) and "
                    "the process exits 0 at most 5 s later.")
               .with_group(common));
  d.define(long_key("task.stall.timeout.ms", 60000, 1000, 86400000,
                    "starpipe's own: no load for this long while records wait (in Kafka or in starpipe) is "
                    "logged, shown as the task's trace and starpipe_stalled = 1, until a load succeeds.")
               .with_group(common));
  d.define(string_key("offset.storage.file.filename", std::nullopt, "Kafka Connect's file of source offsets.")
               .with_group(common)
               .without_effect("a sink's offsets are committed to its Kafka consumer group (connect-<name>), as "
                               "in Kafka Connect, and starpipe runs no source connector yet"));
  d.define(string_key("plugin.path", std::nullopt, "Where Kafka Connect looks for plugin jars.")
               .with_group(common)
               .without_effect("the StarRocks sink and its transforms are built into starpipe"));
  d.define(string_key("plugin.discovery", std::nullopt, "How Kafka Connect scans plugin.path.")
               .with_group(common)
               .without_effect("there are no plugin jars to scan"));
  for (const char* internal : {"internal.key.converter", "internal.value.converter"})
    d.define(string_key(internal, std::nullopt, "Removed in Kafka 3.0.")
                 .with_group(common)
                 .without_effect("the internal topics are always JSON without schemas, as since Kafka 2.0"));
  d.define(string_key("client.id", std::nullopt, "Kafka Connect's worker client id.")
               .with_group(common)
               .without_effect("each client gets its own id (connector-consumer-<name>-<task>, ...)"));
  d.define(string_key("config.providers", std::nullopt,
                      "Aliases of config providers; then ${<alias>:...} in connector values (GET config shows "
                      "them unresolved).")
               .with_group(common)
               .values("comma list"));
  d.define(prefix_key("config.providers.",
                      "config.providers.<alias>.class: org.apache.kafka.common.config.provider.FileConfigProvider "
                      "(${file:PATH:key}) or ...EnvVarConfigProvider (${env:NAME}).")
               .with_group(common));

  d.define(string_key("listeners", "http://127.0.0.1:8083",
                      "The REST API (the first listener of a list; the others are warned about).")
               .with_group(rest)
               .values("http://host:port or https://host:port"));
  d.define(prefix_key("listeners.https.", "listeners.https.ssl.*: the https listener's keystore, over ssl.*.")
               .with_group(rest));
  d.define(string_key("rest.advertised.host.name", std::nullopt, "Host part of worker_id in statuses; the "
                                                                  "listener's host when unset.")
               .with_group(rest));
  d.define(int_key("rest.advertised.port", 8083, 0, 65535, "Port part of worker_id; the listener's when unset.")
               .with_group(rest));
  d.define(string_key("rest.advertised.listener", std::nullopt, "Which listener to advertise.")
               .with_group(rest)
               .without_effect("starpipe listens on one listener"));
  d.define(string_key("rest.basic.auth.file", std::nullopt,
                      "A file of user=password lines; when set, every REST request needs HTTP Basic auth (401 "
                      "with a challenge otherwise).")
               .with_group(rest));
  d.define(string_key("ssl.keystore.type", "JKS", "The https listener's keystore type (listeners.https.ssl.* "
                                                  "first); JKS needs a JVM and is refused with the keytool "
                                                  "conversion to use. With SSL or SASL_SSL, ssl.* also reaches "
                                                  "the worker's Kafka clients.")
               .with_group(rest)
               .values("PKCS12, PEM"));
  d.define(prefix_key("ssl.", "ssl.keystore.location, .keystore.password, .key.password (a PKCS12 file, or a PEM "
                              "file with the key and the certificate chain), or ssl.keystore.key and "
                              "ssl.keystore.certificate.chain as PEM text; librdkafka's ssl.* for the worker's "
                              "Kafka clients when security.protocol is SSL or SASL_SSL.")
               .with_group(rest));

  d.define(prefix_key("consumer.", "A librdkafka consumer setting for every sink consumer; Java-only keys are "
                                   "translated (sasl.jaas.config, ssl.truststore.location) or warned about. "
                                   "consumer.group.instance.id: static membership (KIP-345), suffixed "
                                   "-<connector>-<task>; standalone: starpipe-<host>:<REST port>, distributed: "
                                   "unset; empty turns it off. consumer.session.timeout.ms and "
                                   "consumer.heartbeat.interval.ms default to 10000 and 3000.")
               .with_group(clients));
  d.define(prefix_key("producer.", "A librdkafka producer setting for the dead-letter producer.")
               .with_group(clients));
  d.define(prefix_key("admin.", "Kafka Connect's admin client settings.")
               .with_group(clients)
               .without_effect("starpipe's admin requests use the worker's own client settings"));
  d.define(string_key("security.protocol", "PLAINTEXT", "The worker's own Kafka clients (the distributed "
                                                        "mode's topics), with sasl.* and ssl.*.")
               .with_group(clients)
               .values("librdkafka's"));
  d.define(prefix_key("sasl.", "librdkafka's sasl.* for the worker's own Kafka clients (sasl.jaas.config is "
                               "translated).")
               .with_group(clients));

  d.define(string_key("group.id", "connect-cluster", "Workers with the same value form one cluster (the default "
                                                     "is warned about).")
               .with_group(distributed));
  d.define(string_key("config.storage.topic", "connect-configs", "Connector configs and target states, created "
                                                                 "compacted when missing.")
               .with_group(distributed));
  d.define(string_key("status.storage.topic", "connect-status", "Connector and task statuses, created compacted "
                                                                "when missing.")
               .with_group(distributed));
  d.define(string_key("offset.storage.topic", "connect-offsets", "Source offsets; must differ from the other two.")
               .with_group(distributed)
               .with_note("Accepted: a sink's offsets are in its consumer group."));
  d.define(int_key("config.storage.replication.factor", 3, -1, 32767, "For the topic starpipe creates; -1: the "
                                                                       "broker's default.")
               .with_group(distributed)
               .values("-1, 1 – 32767"));
  d.define(int_key("status.storage.replication.factor", 3, -1, 32767, "For the topic starpipe creates; -1: the "
                                                                       "broker's default.")
               .with_group(distributed)
               .values("-1, 1 – 32767"));
  d.define(int_key("offset.storage.replication.factor", 3, -1, 32767, "Validated.")
               .with_group(distributed)
               .values("-1, 1 – 32767"));
  d.define(int_key("status.storage.partitions", 5, 1, 10000, "Partitions of the status topic.")
               .with_group(distributed));
  d.define(int_key("offset.storage.partitions", 25, 1, 10000, "Validated.").with_group(distributed));
  return d;
}

} // namespace

const config_def& worker_keys() {
  static const config_def keys = make_worker_keys();
  return keys;
}

} // namespace starpipe::conf
