#include "protocol/connect/record.h"

#include "protocol/connect/json_converter.h"
#include "protocol/connect/json_scan.h"
#include "protocol/connect/time_zone.h"

namespace starpipe::connect {

namespace {

// JsonConverter's checks when it turns a payload into Connect data: a required field may
// not be null or missing unless its schema has a default; types must match.
void validate(const json& schema, const json& value, const std::string& path) {
  if (!schema.is_object()) return;
  auto where = [&]() { return path.empty() ? std::string() : " (field '" + path + "')"; };
  if (value.is_null()) {
    if (!schema.value("optional", false) && !(schema.contains("default") && !schema["default"].is_null())) {
      std::string type = schema.value("type", "");
      for (auto& ch : type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      throw std::runtime_error("Invalid null value for required " + type + " field" + where());
    }
    return;
  }
  const std::string type = schema.value("type", "");
  if (type == "struct") {
    if (!value.is_object()) throw std::runtime_error("struct payload must be a JSON object" + where());
    if (schema.contains("fields"))
      for (const auto& f : schema["fields"]) {
        std::string name = f.value("field", "");
        validate(f, value.contains(name) ? value[name] : json(), path.empty() ? name : path + "." + name);
      }
  } else if (type == "array") {
    if (!value.is_array()) throw std::runtime_error("array payload must be a JSON array" + where());
    for (const auto& item : value) validate(schema.value("items", json()), item, path + "[]");
  } else if ((type == "int8" || type == "int16" || type == "int32" || type == "int64") && !value.is_number_integer()) {
    throw std::runtime_error("expected an integer for " + type + where());
  } else if (type == "boolean" && !value.is_boolean()) {
    throw std::runtime_error("expected a boolean" + where());
  } else if ((type == "string") && !value.is_string()) {
    throw std::runtime_error("expected a string" + where());
  }
}

} // namespace

bool decode(const conf::converter_spec& spec, const char* data, size_t len, std::optional<schema_and_value>& out,
            std::string& error) {
  out.reset();
  if (data == nullptr) return true; // null bytes: null value
  std::string_view text(data, len);
  switch (spec.kind) {
    case conf::converter_kind::string:
      out = schema_and_value{json{{"type", "string"}, {"optional", false}}, json(std::string(text))};
      return true;
    case conf::converter_kind::byte_array:
      out = schema_and_value{json{{"type", "bytes"}, {"optional", false}}, json(std::string(text))};
      return true;
    case conf::converter_kind::json: break;
  }
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
  if (!spec.schemas_enable) {
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
    validate(doc["schema"], doc["payload"], "");
  } catch (const std::exception& e) {
    error = std::string("Converting byte[] to Kafka Connect data failed: ") + e.what();
    return false;
  }
  out = schema_and_value{std::move(doc["schema"]), std::move(doc["payload"])};
  return true;
}

std::optional<std::string> render_row(const connect_record& r, const render_options& opt, std::string& error) {
  error.clear();
  if (!r.value) return std::nullopt;
  json row;
  try {
    row = render_with_schema(r.value->schema, r.value->value, "", opt.zone, true);
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
  if (row.is_null()) return std::nullopt;
  if (!row.is_object()) {
    error = "value is a " + std::string(row.type_name()) + ", not a struct or map: StarRocks needs one object per row";
    return std::nullopt;
  }
  return row.dump();
}

} // namespace starpipe::connect
