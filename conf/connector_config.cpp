#include "conf/connector_config.h"

#include "protocol/connect/converter.h"
#include "protocol/connect/json_scan.h"
#include "protocol/kafka/topic_pattern.h"

#include "conf/config_providers.h"
#include "conf/key_tables.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <sstream>

namespace starpipe::conf {

const std::string& connector_config::table_for(const std::string& topic) const {
  auto it = topic2table.find(topic);
  return it == topic2table.end() ? topic : it->second;
}

std::map<std::string, std::string> connector_config::load_properties_for(const std::string& table) const {
  auto out = load_properties;
  auto it = table_load_properties.find(table);
  if (it != table_load_properties.end())
    for (const auto& [k, v] : it->second) out[k] = v;
  return out;
}

namespace {

std::string to_hex(unsigned char b) {
  const char* digits = "0123456789abcdef";
  return {digits[b >> 4], digits[b & 0xF]};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// host:port with an optional http:// scheme; https is refused (StarRocks' HTTP port is plain).
std::optional<std::string> normalize_fe_url(const std::string& raw) {
  std::string s = raw;
  if (s.rfind("http://", 0) == 0) s = s.substr(7);
  while (!s.empty() && s.back() == '/') s.pop_back();
  static const std::regex host_port(R"(^[A-Za-z0-9._\-]+:[0-9]{1,5}$|^\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}$)");
  if (!std::regex_match(s, host_port)) return std::nullopt;
  auto port = std::stol(s.substr(s.rfind(':') + 1));
  if (port < 1 || port > 65535) return std::nullopt;
  return "http://" + s;
}

} // namespace

std::optional<std::string> parse_delimiter(const std::string& raw) {
  if (raw.size() >= 2 && raw[0] == '\\' && (raw[1] == 'x' || raw[1] == 'X')) {
    std::string hex = raw.substr(2);
    if (hex.empty() || hex.size() % 2 != 0) return std::nullopt;
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2) {
      if (!std::isxdigit(static_cast<unsigned char>(hex[i])) ||
          !std::isxdigit(static_cast<unsigned char>(hex[i + 1])))
        return std::nullopt;
      out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    return out;
  }
  if (raw == "\\n") return std::string("\n");
  if (raw == "\\t") return std::string("\t");
  if (raw.empty()) return std::nullopt;
  return raw;
}

std::optional<std::string> connector_name_problem(const std::string& name) {
  // Kafka Connect's NonEmptyStringWithoutControlChars, plus well-formed UTF-8: the name is a
  // group id, a topic key and a JSON string in every REST answer.
  std::string controls;
  for (size_t i = 0, len; i < name.size(); i += len) {
    uint32_t cp = 0;
    len = connect::utf8_sequence(name, i, cp);
    if (len == 0)
      return "is not valid UTF-8 (byte 0x" + to_hex(static_cast<unsigned char>(name[i])) + " at " + std::to_string(i) + ")";
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) controls += (controls.empty() ? "" : ", ") + std::to_string(cp);
  }
  if (!controls.empty()) return "String may not contain control sequences but had the following ASCII chars: " + controls;
  return std::nullopt;
}

bool is_source_connector_class(const std::string& cls) {
  static const char* sources[] = {"io.debezium.connector.", "SourceConnector", "io.confluent.connect.jdbc.JdbcSource",
                                  "org.apache.kafka.connect.file.FileStreamSource",
                                  "org.apache.kafka.connect.mirror.MirrorSource"};
  for (const char* s : sources)
    if (cls.find(s) != std::string::npos) return true;
  return false;
}

connector_config parse_connector_config(const properties& given, const worker_config& worker) {
  connector_config c;
  config_errors errs;
  const config_def& keys = sink_connector_keys();
  for (const auto& e : given.entries()) c.raw[e.key] = e.value; // as written: ${...} stays unresolved
  const properties p = resolve_config(given, config_providers{worker.config_provider_classes}, errs);

  if (auto v = keys.read_required(p, "name", errs)) {
    c.name = *v;
    if (auto problem = connector_name_problem(*v)) errs.add(p, "name", *problem);
  }
  if (auto v = keys.read_required(p, "connector.class", errs)) {
    c.connector_class = *v;
    if (is_source_connector_class(*v)) {
      // Every other key would be judged as a sink's and be wrong; one error says what it is.
      config_errors only;
      only.add(p, "connector.class",
               "is a source connector; starpipe runs the StarRocks sink (" + std::string(sink_connector_class) +
                   ") and no source connector yet (the PostgreSQL CDC source is planned)");
      throw config_exception(only);
    }
    if (*v != sink_connector_class && *v != "StarRocksSinkConnector" && *v != "StarRocksSink")
      errs.add(p, "connector.class", std::string("unsupported connector; allowed: ") + sink_connector_class);
  }

  bool has_topics = p.has("topics") && !read_string(p, "topics", "").empty();
  bool has_regex = p.has("topics.regex") && !read_string(p, "topics.regex", "").empty();
  if (has_topics && has_regex) {
    errs.add(p, "topics", "topics and topics.regex are mutually exclusive options, but both are set.");
  } else if (!has_topics && !has_regex) {
    errs.add({p.source, "topics", "", "Must configure one of topics or topics.regex"});
  } else if (has_topics) {
    c.topics = conf::split_list(keys.read_string(p, "topics"));
  } else {
    std::string re = keys.read_string(p, "topics.regex");
    std::string problem;
    if (auto dropped = p.dropped_escapes_of("topics.regex"); !dropped.empty()) {
      errs.add(p, "topics.regex",
               "'\\" + dropped.substr(0, 1) + "' in a .properties file reads as '" + dropped.substr(0, 1) +
                   "' (java.util.Properties drops the backslash, as Kafka Connect does), so the pattern would be '" +
                   re + "'; write '\\\\" + dropped.substr(0, 1) + "' for the regex escape");
    } else if (kafka::topic_pattern::compile(re, problem)) {
      c.topics_regex = re;
    } else {
      errs.add(p, "topics.regex", problem);
    }
  }

  if (auto map = p.get("starrocks.topic2table.map"); map && !read_string(p, "starrocks.topic2table.map", "").empty()) {
    static const std::regex table_re(R"(^([_a-zA-Z][_$a-zA-Z0-9]+\.){0,2}[_a-zA-Z][_$a-zA-Z0-9]+$)");
    for (const auto& entry : conf::split_list(*map)) {
      auto colon = entry.find(':');
      if (colon == std::string::npos || entry.find(':', colon + 1) != std::string::npos || colon == 0 ||
          colon + 1 == entry.size()) {
        errs.add(p, "starrocks.topic2table.map",
                 "entry '" + entry + "' must be topic:table (format topic-1:table-1,topic-2:table-2)");
        continue;
      }
      std::string topic = entry.substr(0, colon), table = entry.substr(colon + 1);
      if (!std::regex_match(table, table_re))
        errs.add(p, "starrocks.topic2table.map", "table name '" + table + "' is not a valid StarRocks table name");
      if (c.topic2table.count(topic))
        errs.add(p, "starrocks.topic2table.map", "topic '" + topic + "' is mapped twice");
      c.topic2table[topic] = table;
    }
  }

  if (auto urls = keys.read_required(p, "starrocks.http.url", errs)) {
    for (const auto& u : conf::split_list(*urls)) {
      if (auto n = normalize_fe_url(u))
        c.fe_urls.push_back(*n);
      else
        errs.add(p, "starrocks.http.url", "'" + u + "' is not host:port (optionally with http://)");
    }
    if (c.fe_urls.empty() && !urls->empty())
      errs.add(p, "starrocks.http.url", "must list at least one FE host:port");
  }
  if (auto v = keys.read_required(p, "starrocks.database.name", errs)) c.database = *v;
  if (auto v = keys.read_required(p, "starrocks.username", errs)) c.username = *v;
  if (auto v = keys.read_required(p, "starrocks.password", errs)) c.password = p.get("starrocks.password").value_or("");

  c.tasks_max = keys.read_long(p, "tasks.max", errs);
  c.buffer_max_bytes = keys.read_long(p, "bufferflush.maxbytes", errs);
  c.buffer_interval_ms = keys.read_long(p, "bufferflush.intervalms", errs);
  c.connect_timeout_ms = keys.read_long(p, "connect.timeoutms", errs);
  c.max_retries = keys.read_long(p, "sink.maxretries", errs);
  c.buffer_max_rows = keys.read_long(p, "sink.buffer-flush.max-rows", errs);
  c.wait_for_continue_ms = keys.read_long(p, "sink.wait-for-continue.timeout-ms", errs);
  c.socket_timeout_ms = keys.read_long(p, "sink.socket.timeout-ms", errs);
  if (c.socket_timeout_ms == 0) errs.add(p, "sink.socket.timeout-ms", "must be -1 (the load's own deadline) or a positive number of ms");
  c.ignore_update_before = keys.read_bool(p, "sink.ignore.update-before", errs);
  {
    if (keys.read_choice(p, "sink.semantic", errs) == "exactly-once") c.semantic = delivery::exactly_once;
    std::string version = keys.read_choice(p, "sink.version", errs);
    if (version == "V1") c.version = load_interface::v1;
    else if (version == "V2") c.version = load_interface::v2;
    if (c.semantic == delivery::exactly_once && c.version == load_interface::v1)
      errs.add(p, "sink.version",
               "V1 cannot give exactly-once: sink.semantic=exactly-once needs the transaction interface (V2 or AUTO)");
    static const std::regex prefix_re(R"(^[-_A-Za-z0-9]{1,64}$)");
    c.label_prefix = keys.read_string(p, "sink.label-prefix");
    if (p.has("sink.label-prefix") && !std::regex_match(c.label_prefix, prefix_re))
      errs.add(p, "sink.label-prefix", "must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'");
    if (c.label_prefix.empty()) {
      c.label_prefix = "starpipe-" + c.name;
      for (auto& ch : c.label_prefix)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-') ch = '_';
      if (c.label_prefix.size() > 64) c.label_prefix.resize(64);
    }
  }

  for (const auto& [name, value] : p.with_prefix("sink.properties.")) {
    auto dot = name.find('.');
    if (dot == std::string::npos) {
      c.load_properties[lower(name)] = value;
      continue;
    }
    std::string table = name.substr(0, dot), header = lower(name.substr(dot + 1));
    if (header == "format" || header == "row_delimiter" || header == "strip_outer_array")
      errs.add(p, "sink.properties." + name, "the body format is per connector; only load options can be set per table");
    else
      c.table_load_properties[table][header] = value;
  }
  if (auto f = c.load_properties.find("format"); f != c.load_properties.end()) {
    std::string v = lower(f->second);
    if (v == "json") c.format = load_format::json;
    else if (v == "csv") c.format = load_format::csv;
    else errs.add(p, "sink.properties.format", "must be json or csv");
    f->second = v;
  } else {
    c.load_properties["format"] = "json";
  }
  if (auto d = c.load_properties.find("row_delimiter"); d != c.load_properties.end()) {
    if (auto parsed = parse_delimiter(d->second))
      c.row_delimiter = *parsed;
    else
      errs.add(p, "sink.properties.row_delimiter", "must be a literal or \\x followed by an even number of hex digits");
  }
  if (c.format == load_format::json) {
    // StarRocks needs both for the array bodies starpipe sends; users of the StarRocks
    // connector had to add them by hand.
    auto s = c.load_properties.find("strip_outer_array");
    if (s != c.load_properties.end() && lower(s->second) != "true")
      errs.add(p, "sink.properties.strip_outer_array", "must be true: starpipe sends JSON rows as one array per load");
    c.load_properties["strip_outer_array"] = "true";
    if (!c.load_properties.count("ignore_json_size")) c.load_properties["ignore_json_size"] = "true";
  }
  for (const char* reserved : {"label", "expect", "authorization", "content-length", "transfer-encoding", "db", "table"})
    if (c.load_properties.count(reserved))
      errs.add(p, std::string("sink.properties.") + reserved, "is set by starpipe per request and may not be overridden");
  auto check_partial = [&](const std::map<std::string, std::string>& props, const std::string& where) {
    auto pu = props.find("partial_update");
    if (pu == props.end() || lower(pu->second) != "true") return;
    if (!props.count("columns"))
      errs.add(p, where + "partial_update",
               "partial updates need " + where + "columns: the key and the columns to update, e.g. id,name,__op");
  };
  check_partial(c.load_properties, "sink.properties.");
  for (const auto& [table, props] : c.table_load_properties) {
    auto merged = c.load_properties_for(table);
    check_partial(merged, "sink.properties." + table + ".");
  }

  c.key_converter = read_converter(p, "key.converter", worker.key_converter, errs);
  c.value_converter = read_converter(p, "value.converter", worker.value_converter, errs);
  connect::check_converter_keys(p, "key.converter", c.key_converter, errs, c.warnings);
  connect::check_converter_keys(p, "value.converter", c.value_converter, errs, c.warnings);
  if (c.format == load_format::csv && c.value_converter.kind == converter_kind::json)
    errs.add(p, "value.converter",
             "CSV loads need each value as a line of text: use org.apache.kafka.connect.storage.StringConverter");

  c.transforms = transforms::read_transform_specs(p, errs);
  for (const auto& spec : c.transforms) { // validates options
    transforms::make_transform(spec, p, errs);
    if (spec.predicate) transforms::make_predicate(*spec.predicate, p, errs);
  }
  c.ignore_deletes = keys.read_bool(p, "sink.ignore.deletes", errs);
  {
    std::string tz_error;
    c.zone = connect::time_zone::load(keys.read_string(p, "starrocks.timezone"), tz_error);
    if (!c.zone) {
      errs.add(p, "starrocks.timezone", "must be UTC, an offset like +08:00 or a tz database name like Asia/Shanghai: " + tz_error);
      c.zone = connect::time_zone::utc();
    }
  }
  c.errors_tolerate_all = keys.read_choice(p, "errors.tolerance", errs) == "all";
  c.errors_log = keys.read_bool(p, "errors.log.enable", errs);
  c.errors_log_messages = keys.read_bool(p, "errors.log.include.messages", errs);

  std::vector<std::string> consumer_warnings;
  c.consumer_overrides = translate_client_settings(p, "consumer.override.", consumer_warnings, errs);
  c.warnings.insert(c.warnings.end(), consumer_warnings.begin(), consumer_warnings.end());

  keys.read_choice(p, "header.converter", errs);
  keys.read_choice(p, "config.action.reload", errs);
  keys.read_long(p, "errors.retry.timeout", errs);
  keys.read_long(p, "errors.retry.delay.max.ms", errs);
  for (const auto& key : keys.undeclared(p)) c.warnings.push_back(p.source + ": unknown connector key '" + key + "' ignored");
  for (auto& w : keys.without_effect(p)) c.warnings.push_back(std::move(w));
  c.dlq_topic = keys.read_string(p, "errors.deadletterqueue.topic.name");
  c.dlq_context_headers = keys.read_bool(p, "errors.deadletterqueue.context.headers.enable", errs);
  keys.read_long(p, "errors.deadletterqueue.topic.replication.factor", errs);
  if (!c.dlq_topic.empty()) {
    bool consumed = std::find(c.topics.begin(), c.topics.end(), c.dlq_topic) != c.topics.end();
    if (!consumed && c.topics_regex) {
      try {
        consumed = std::regex_match(c.dlq_topic, std::regex(*c.topics_regex));
      } catch (const std::regex_error&) {
      }
    }
    if (consumed)
      errs.add(p, "errors.deadletterqueue.topic.name",
               "The DLQ topic '" + c.dlq_topic + "' may not be included in the list of topics consumed by the connector");
    if (!c.errors_tolerate_all)
      c.warnings.push_back(p.source + ": errors.deadletterqueue.topic.name has no effect with errors.tolerance=none");
  }

  if (!errs.empty()) throw config_exception(errs);
  return c;
}

std::map<std::string, std::string> group_consumer_settings(const connector_config& c, const worker_config& worker,
                                                           std::map<std::string, std::string> defaults) {
  auto settings = std::move(defaults);
  settings.emplace("bootstrap.servers", worker.bootstrap_servers);
  settings["group.id"] = c.group_id();
  for (const auto& [k, v] : worker.consumer_settings) settings[k] = v;
  for (const auto& [k, v] : c.consumer_overrides) settings[k] = v;
  settings["enable.auto.commit"] = "false";
  return settings;
}

std::map<std::string, std::string> task_consumer_settings(const connector_config& c, const worker_config& worker,
                                                          int task, std::map<std::string, std::string> defaults) {
  auto settings = group_consumer_settings(c, worker, std::move(defaults));
  const std::string member = "-" + c.name + "-" + std::to_string(task);
  auto given = settings.find("group.instance.id");
  if (given != settings.end()) {
    // consumer.group.instance.id (or consumer.override.*) names the worker; each task needs
    // its own id, or the tasks would fence each other. Empty turns static membership off.
    if (given->second.empty()) settings.erase(given);
    else given->second += member;
  } else if (worker.static_membership && !worker.member_identity.empty()) {
    settings["group.instance.id"] = "starpipe-" + worker.member_identity + member;
  }
  return settings;
}

} // namespace starpipe::conf
