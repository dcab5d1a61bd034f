#include "protocol/connect/converter.h"

#include <cstdint>
#include <stdexcept>

#include "protocol/connect/json_scan.h"
#include "protocol/connect/schema_cache.h"
#include "protocol/connect/schema_plan.h"

namespace starpipe::connect {

namespace {

// org.apache.kafka.connect.json.JsonConverter: with schemas.enable, {"schema": ..., "payload":
// ...} envelopes; without, plain JSON (schemaless data).
class json_converter final : public converter {
public:
  json_converter(bool schemas_enable, size_t cache_size) : schemas_enable_(schemas_enable), schemas_(cache_size) {}

  bool to_connect(const char* data, size_t len, std::optional<schema_and_value>& out,
                  std::string& error) const override {
    out.reset();
    if (data == nullptr) return true;
    std::string_view text(data, len);
    if (schemas_enable_) {
      std::shared_ptr<const compiled_schema> schema;
      json payload;
      switch (read_envelope(text, schemas_, schema, payload, error)) {
      case envelope_read::decoded: out = schema_and_value{schema->schema, std::move(payload)}; return true;
      case envelope_read::null_payload: return true;
      case envelope_read::refused: return false;
      case envelope_read::not_cached: break;
      }
    }
    return read_json_value(text, schemas_enable_, out, error);
  }

  // As Kafka's JsonConverter.fromConnectData: a null value is null bytes; with schemas.enable
  // the envelope carries the schema (null for schemaless data).
  std::optional<std::string> from_connect(const std::optional<schema_and_value>& data) const override {
    if (!data) return std::nullopt;
    if (!schemas_enable_) return data->value.dump();
    json envelope;
    envelope["schema"] = data->schema;
    envelope["payload"] = data->value;
    return envelope.dump();
  }

private:
  bool schemas_enable_;
  // The converter's own (one record stage's): to_connect is const to its callers, the cache
  // is not what they see.
  mutable schema_cache schemas_;
};

// org.apache.kafka.connect.storage.StringConverter ("string") and
// org.apache.kafka.connect.converters.ByteArrayConverter ("bytes"): the bytes as they are, as a
// value of that schema type; any value back as its text.
class bytes_as_value_converter final : public converter {
public:
  explicit bytes_as_value_converter(const char* schema_type) : schema_type_(schema_type) {}
  bool to_connect(const char* data, size_t len, std::optional<schema_and_value>& out, std::string&) const override {
    out.reset();
    if (data) out = schema_and_value{json{{"type", schema_type_}, {"optional", false}}, json(std::string(data, len))};
    return true;
  }
  std::optional<std::string> from_connect(const std::optional<schema_and_value>& data) const override {
    if (!data) return std::nullopt;
    return data->value.is_string() ? data->value.get<std::string>() : data->value.dump();
  }

private:
  const char* schema_type_;
};

const conf::config_def& json_converter_keys() {
  static const conf::config_def keys = [] {
    conf::config_def d("JsonConverter");
    d.define(conf::bool_key("schemas.enable", true,
                            "Values are {\"schema\":...,\"payload\":...} envelopes; false: bare JSON."));
    d.define(conf::int_key("schemas.cache.size", 1000, 0, INT32_MAX,
                           "How many distinct schemas each task keeps compiled (least recently used go first)."));
    d.define(conf::choice_key("decimal.format", "BASE64", {"BASE64", "NUMERIC"}, "How Decimal values are written.")
                 .without_effect("reading, both forms are accepted; starpipe writes no Kafka records yet"));
    return d;
  }();
  return keys;
}

const conf::config_def& string_converter_keys() {
  static const conf::config_def keys = [] {
    conf::config_def d("StringConverter");
    d.define(conf::choice_key("converter.encoding", "UTF8", {"UTF8", "UTF-8"},
                              "The text's character set; only UTF-8, which StarRocks reads."));
    return d;
  }();
  return keys;
}

const conf::config_def& no_keys() {
  static const conf::config_def keys("ByteArrayConverter");
  return keys;
}

} // namespace

bool read_json_value(std::string_view text, bool schemas_enable, std::optional<schema_and_value>& out,
                     std::string& error) {
  out.reset();
  if (nested_deeper_than(text)) {
    error = "Converting byte[] to Kafka Connect data failed due to serialization error: value is " +
            too_deep_message();
    return false;
  }
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) {
    error = "Converting byte[] to Kafka Connect data failed due to serialization error: value is not valid JSON";
    return false;
  }
  if (!schemas_enable) {
    if (!doc.is_null()) out = schema_and_value{json(), std::move(doc)};
    return true;
  }
  if (!doc.is_object() || doc.size() != 2 || !doc.contains("schema") || !doc.contains("payload")) {
    error = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain "
            "additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your "
            "converter configuration.";
    return false;
  }
  if (doc["payload"].is_null()) return true; // (schema, null) and the legacy {"schema":null,"payload":null}
  try {
    schema_plan::compile(doc["schema"])->check(doc["payload"]);
  } catch (const std::exception& e) {
    error = std::string("Converting byte[] to Kafka Connect data failed: ") + e.what();
    return false;
  }
  out = schema_and_value{std::move(doc["schema"]), std::move(doc["payload"])};
  return true;
}

envelope_read read_envelope(std::string_view text, schema_cache& schemas, std::shared_ptr<const compiled_schema>& schema,
                            json& payload, std::string& error) {
  std::string_view schema_text, payload_text;
  if (!split_envelope(text, schema_text, payload_text)) return envelope_read::not_cached;
  payload = json::parse(payload_text.begin(), payload_text.end(), nullptr, false);
  if (payload.is_discarded()) return envelope_read::not_cached;
  schema = schemas.by_text(schema_text);
  if (!schema) return envelope_read::not_cached;
  if (payload.is_null()) return envelope_read::null_payload;
  try {
    schema->plan->check(payload);
  } catch (const std::exception& e) {
    error = std::string("Converting byte[] to Kafka Connect data failed: ") + e.what();
    return envelope_read::refused;
  }
  return envelope_read::decoded;
}

const std::vector<converter_plugin>& converter_plugins() {
  static const std::vector<converter_plugin> all = {
      {"org.apache.kafka.connect.converters.ByteArrayConverter", conf::converter_kind::byte_array,
       [](const conf::converter_spec&) { return std::make_unique<bytes_as_value_converter>("bytes"); }, &no_keys()},
      {"org.apache.kafka.connect.json.JsonConverter", conf::converter_kind::json,
       [](const conf::converter_spec& s) {
         return std::make_unique<json_converter>(s.schemas_enable, static_cast<size_t>(s.schemas_cache_size));
       },
       &json_converter_keys()},
      {"org.apache.kafka.connect.storage.StringConverter", conf::converter_kind::string,
       [](const conf::converter_spec&) { return std::make_unique<bytes_as_value_converter>("string"); },
       &string_converter_keys()},
  };
  return all;
}

void check_converter_keys(const conf::properties& p, const std::string& prefix, const conf::converter_spec& spec,
                          conf::config_errors& errs, std::vector<std::string>& warnings) {
  const converter_plugin* plugin = find_converter(spec.class_name);
  if (!plugin) return; // the class itself is already an error
  const std::string sub = prefix + ".";
  std::string simple = plugin->class_name.substr(plugin->class_name.rfind('.') + 1);
  for (const auto& key : plugin->keys->check_prefixed(p, sub, errs)) {
    std::string theirs;
    for (const auto& k : plugin->keys->keys()) theirs += (theirs.empty() ? "" : ", ") + k.name;
    std::string why = key.find("schema.registry.") != std::string::npos
                          ? "Schema Registry keys are read by the registry's converters (AvroConverter, "
                            "ProtobufConverter, JsonSchemaConverter), which starpipe does not have yet"
                          : simple + (theirs.empty() ? " reads no keys" : " reads only " + theirs);
    warnings.push_back(p.source + ": " + key + " is not a key of " + prefix + "=" + simple + "; ignored (" + why +
                       ")");
  }
  for (auto& w : plugin->keys->without_effect(p, sub)) warnings.push_back(std::move(w));
}

const converter_plugin* find_converter(const std::string& class_name) {
  for (const auto& p : converter_plugins())
    if (p.class_name == class_name) return &p;
  return nullptr;
}

std::string converter_class_list() {
  std::string out;
  for (const auto& p : converter_plugins()) out += (out.empty() ? "" : ", ") + p.class_name;
  return out;
}

std::unique_ptr<converter> make_converter(const conf::converter_spec& spec) {
  const converter_plugin* p = find_converter(spec.class_name);
  if (!p) throw std::invalid_argument("unsupported converter " + spec.class_name + "; allowed: " + converter_class_list());
  return p->make(spec);
}

} // namespace starpipe::connect
