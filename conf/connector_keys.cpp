// Every key of the StarRocks sink connector file, declared once. The StarRocks Kafka
// connector's keys, Kafka Connect's runtime keys for sinks, and the StarRocks Flink
// connector's sink options starpipe reads beside them.
#include "conf/key_tables.h"

#include <cstdint>

namespace starpipe::conf {

namespace {

const char* const common = "Common";
const char* const starrocks = "StarRocks";
const char* const load = "Load";
const char* const flink = "Flink connector options";
const char* const transforms = "Transforms";
const char* const errors = "Error Handling";

config_def make_sink_connector_keys() {
  config_def d("StarRocksSinkConnector");
  // Kafka Connect's keys common to sinks.
  d.define(required_key("name", "Globally unique name of the connector; its consumer group is connect-<name>.")
               .with_group(common));
  d.define(required_key("connector.class",
                        "com.starrocks.connector.kafka.StarRocksSinkConnector (or StarRocksSinkConnector, "
                        "StarRocksSink).",
                        key_type::class_)
               .with_group(common));
  d.define(int_key("tasks.max", 1, 1, 1024, "Tasks of the connector: members of its consumer group.")
               .with_group(common)
               .with_importance(key_importance::high));
  d.define(string_key("topics", "", "Topics to load, comma-separated; each loads into the table named like it "
                                    "unless starrocks.topic2table.map says otherwise. Exactly one of topics and "
                                    "topics.regex.")
               .with_group(common)
               .values("comma list"));
  d.define(string_key("topics.regex", "",
                      "A Java regular expression matched against whole topic names (see below); the topics "
                      "are listed every 10 s.")
               .with_group(common)
               .values("regular expression"));
  define_converter_keys(d, common, std::nullopt, "; the worker's when unset");
  d.define(choice_key("config.action.reload", "restart", {"restart", "none"},
                      "What to do when a config provider's value changes.")
               .with_group(common)
               .without_effect("the file and env providers never report a change (their values have no TTL), "
                               "as in Kafka Connect"));
  d.define(prefix_key("consumer.override.", "A librdkafka consumer setting for this connector's tasks, over "
                                            "the worker's consumer.* (Java-only keys are translated or warned).")
               .with_group(common));

  // The StarRocks Kafka connector's keys.
  d.define(required_key("starrocks.http.url",
                        "FE HTTP addresses host:port, comma-separated, http:// optional (https refused); tried "
                        "in that order.",
                        key_type::list)
               .with_group(starrocks));
  d.define(required_key("starrocks.database.name", "The database every table is in.").with_group(starrocks));
  d.define(required_key("starrocks.username", "User for HTTP Basic auth, with INSERT on the tables.")
               .with_group(starrocks));
  d.define(required_key("starrocks.password", "Password of starrocks.username.", key_type::password)
               .may_be_empty()
               .with_group(starrocks));
  d.define(string_key("starrocks.topic2table.map", std::nullopt,
                      "Topic to table, for tables not named like their topic. A malformed entry is an error "
                      "(the Java connector silently disabled the whole map).")
               .with_group(starrocks)
               .values("topic:table[,topic:table]"));
  d.define(string_key("starrocks.timezone", "UTC", "Zone that ZonedTimestamp values are rendered in.")
               .with_group(starrocks)
               .values("UTC, ±HH:MM, or a tz database name (Asia/Shanghai)"));
  d.define(long_key("bufferflush.maxbytes", 67108864, 67108864, 10737418240LL,
                    "Memory budget for all record bytes held (prefetch, fetches, rows not yet loaded); one "
                    "load is a quarter of it.")
               .with_group(load)
               .with_importance(key_importance::high));
  d.define(long_key("bufferflush.intervalms", 1000, 1000, 3600000,
                    "Maximum age of buffered rows before a load (at-least-once); the checkpoint interval of "
                    "exactly-once.")
               .with_group(load)
               .with_importance(key_importance::high));
  d.define(long_key("connect.timeoutms", 1000, 100, 60000, "TCP connect timeout to the FE and the BE.")
               .with_group(load));
  d.define(long_key("sink.maxretries", 3, -1, INT64_MAX,
                    "Retries of one load (-1: unlimited), backoff 0.5 s doubling to 10 s.")
               .with_group(load));
  d.define(choice_key("sink.properties.format", "json", {"json", "csv"},
                      "The body format; CSV needs value.converter=org.apache.kafka.connect.storage.StringConverter.")
               .with_group(load));
  d.define(string_key("sink.properties.row_delimiter", "\\n",
                      "Row separator of CSV bodies; in a .properties file write \\\\x01 (Java reads \\x as x).")
               .with_group(load)
               .values("a literal, or \\x + hex pairs"));
  d.define(string_key("sink.properties.strip_outer_array", "true",
                      "JSON bodies are one array per load, so StarRocks must strip it; set by starpipe "
                      "(ignore_json_size=true too, unless given).")
               .with_group(load)
               .values("true (JSON loads)"));
  d.define(prefix_key("sink.properties.",
                      "Sent as the Stream Load header <name> (lower-cased): columns, max_filter_ratio, "
                      "strict_mode, timeout, column_separator, partial_update, merge_condition, ... "
                      "sink.properties.<table>.<name> sets it for one table of a multi-table connector. "
                      "label, expect, authorization, content-length, transfer-encoding, db and table are "
                      "refused (starpipe sets them per request).")
               .with_group(load));
  d.define(bool_key("sink.ignore.deletes", false, "Do not load rows marked __op=1.").with_group(load));

  // The StarRocks Flink connector's sink options.
  d.define(choice_key("sink.semantic", "at-least-once", {"at-least-once", "exactly-once"},
                      "exactly-once loads through transaction Stream Load, committed with the offsets (see "
                      "exactly-once.md).")
               .with_group(flink)
               .with_importance(key_importance::high));
  d.define(choice_key("sink.version", "AUTO", {"V1", "V2", "AUTO"},
                      "V1: Stream Load; V2: transaction Stream Load; AUTO asks each FE once. V1 with "
                      "exactly-once is an error.")
               .with_group(flink));
  d.define(string_key("sink.label-prefix", std::nullopt,
                      "Prefix of every load label, starpipe-<name> when unset; unique among all loads of the "
                      "database.")
               .with_group(flink)
               .values("1–64 of [A-Za-z0-9_-]"));
  d.define(long_key("sink.buffer-flush.max-bytes", 67108864, 67108864, 10737418240LL, "")
               .alias("bufferflush.maxbytes")
               .with_group(flink));
  {
    key_def rows = long_key("sink.buffer-flush.max-rows", 0, 64000, 5000000,
                            "A load starts when this many rows wait; no row limit when unset.");
    rows.default_value.reset();
    d.define(rows.with_group(flink));
  }
  d.define(long_key("sink.buffer-flush.interval-ms", 1000, 1000, 3600000, "")
               .alias("bufferflush.intervalms")
               .with_group(flink));
  d.define(long_key("sink.max-retries", 3, 0, 10, "").alias("sink.maxretries").with_group(flink));
  d.define(long_key("sink.connect.timeout-ms", 1000, 100, 60000, "").alias("connect.timeoutms").with_group(flink));
  d.define(long_key("sink.wait-for-continue.timeout-ms", 30000, 3000, 60000,
                    "How long a load waits for its 100 Continue.")
               .with_group(flink));
  d.define(long_key("sink.socket.timeout-ms", -1, -1, 86400000,
                    "How long any answer may take; -1: a load waits its timeout + 60 s, the interface probe, "
                    "begin, rollback, label states and error logs 10 s.")
               .with_group(flink)
               .values("-1, 1 – 86400000"));
  d.define(bool_key("sink.ignore.update-before", true, "Accepted for Flink files.")
               .with_group(flink)
               .without_effect("Debezium has no separate UPDATE_BEFORE record (a key change arrives as a delete "
                               "and a create), so there is nothing to ignore or keep"));

  // Kafka Connect's transforms, predicates and error handling.
  d.define(string_key("transforms", "", "Aliases of the transforms, applied in order.")
               .with_group(transforms)
               .values("comma list"));
  d.define(prefix_key("transforms.", "transforms.<alias>.type (a transform class, see cdc.md), .predicate, "
                                     ".negate and the transform's own options; unknown options are errors.")
               .with_group(transforms));
  d.define(string_key("predicates", "", "Aliases of the predicates transforms refer to.")
               .with_group(transforms)
               .values("comma list"));
  d.define(prefix_key("predicates.", "predicates.<alias>.type (a predicate class) and its options.")
               .with_group(transforms));
  d.define(choice_key("errors.tolerance", "none", {"none", "all"},
                      "all skips records that cannot be decoded, transformed or rendered, and rows StarRocks "
                      "rejects (to the dead-letter topic when one is set; see operations.md).")
               .with_group(errors));
  d.define(bool_key("errors.log.enable", false, "Log skipped records.").with_group(errors));
  d.define(bool_key("errors.log.include.messages", false, "Include the record's value in that log.")
               .with_group(errors));
  d.define(string_key("errors.deadletterqueue.topic.name", "", "Where skipped records go, with their original "
                                                               "key, value and headers.")
               .with_group(errors)
               .values("a topic the connector does not consume"));
  d.define(bool_key("errors.deadletterqueue.context.headers.enable", false, "Add the __connect.errors.* headers.")
               .with_group(errors));
  d.define(int_key("errors.deadletterqueue.topic.replication.factor", 3, -1, 32767,
                   "Replication of the dead-letter topic when Kafka Connect creates it.")
               .with_group(errors)
               .without_effect("starpipe does not create the topic; the broker's auto-creation or the operator "
                               "does"));
  d.define(long_key("errors.retry.timeout", 0, -1, INT64_MAX, "How long Kafka Connect retries a retriable "
                                                              "conversion or transform failure.")
               .with_group(errors)
               .without_effect("starpipe's converters and transforms have no retriable failures (as Kafka's "
                               "own JsonConverter and transforms), so nothing is ever retried"));
  d.define(long_key("errors.retry.delay.max.ms", 60000, 1, INT64_MAX, "Backoff cap of those retries.")
               .with_group(errors)
               .without_effect("see errors.retry.timeout"));
  return d;
}

} // namespace

void define_converter_keys(config_def& d, const std::string& group, const std::optional<std::string>& def,
                           const std::string& when_unset) {
  for (const char* which : {"key", "value"}) {
    const std::string name = std::string(which) + ".converter";
    d.define(string_key(name, def, "Converter of record " + std::string(which) + "s" + when_unset + ".")
                 .with_group(group)
                 .values("a converter class (below)"));
    d.define(prefix_key(name + ".", "The " + std::string(which) + " converter's own keys (below).").with_group(group));
  }
  d.define(choice_key("header.converter", "org.apache.kafka.connect.storage.SimpleHeaderConverter",
                      {"org.apache.kafka.connect.storage.SimpleHeaderConverter"},
                      "Header values pass through unconverted: HasHeaderKey reads only header names and the "
                      "dead-letter topic gets the original bytes.")
               .with_group(group));
}

const config_def& sink_connector_keys() {
  static const config_def keys = make_sink_connector_keys();
  return keys;
}

} // namespace starpipe::conf
