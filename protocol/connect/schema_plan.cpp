#include "protocol/connect/schema_plan.h"

#include <cctype>
#include <set>
#include <stdexcept>
#include <string_view>

#include "protocol/connect/json_converter.h"
#include "protocol/connect/json_scan.h"

namespace starpipe::connect {

using json = nlohmann::ordered_json;

namespace {

enum class logical {
  none, decimal, date, timestamp, time,                                       // org.apache.kafka.connect.data.*
  epoch_date, epoch_units, time_units, zoned, variable_decimal, json_text, bits // io.debezium.*
};
enum class base { structure, array, map, integer, floating, boolean, text, unknown };

// Where a value sits in the record, spelled out only for an error.
struct crumb {
  enum how_t { root, field, item, key } how = root;
  const crumb* parent = nullptr;
  std::string_view segment;
};

std::string spell(const crumb* c) {
  if (!c || c->how == crumb::root) return "";
  std::string p = spell(c->parent);
  switch (c->how) {
  case crumb::field: return p.empty() ? std::string(c->segment) : p + "." + std::string(c->segment);
  case crumb::item: return p + "[]";
  case crumb::key: return p + "." + std::string(c->segment);
  default: return p;
  }
}

[[noreturn]] void fail_at(const crumb* at, const std::string& what) {
  std::string path = spell(at);
  throw std::runtime_error(path.empty() ? what : "field '" + path + "': " + what);
}

// JsonConverter's own wording puts the field after the message.
[[noreturn]] void check_failed(const crumb* at, const std::string& what) {
  std::string path = spell(at);
  throw std::runtime_error(path.empty() ? what : what + " (field '" + path + "')");
}

// What reading a malformed part of the schema threw, thrown again when a value gets there.
[[noreturn]] void rethrow(const std::string& what) { throw std::runtime_error(what); }

} // namespace

struct schema_plan::node {
  struct field {
    std::string name;
    std::optional<std::string> name_error; // the field entry is not an object with a string "field"
    std::unique_ptr<node> plan;
  };

  bool schemaless = false;    // a null schema
  bool is_object = false;     // not an object: nothing to check (and, unless null, nothing to render)
  bool renderable = false;    // an object with a string "type"
  std::string type;           // "" when absent (the checks' reading)
  std::optional<std::string> type_error; // "type" present but not a string
  std::string upper_type;
  bool optional = false;
  std::optional<std::string> optional_error;
  bool has_default = false;
  json default_value;
  std::optional<std::string> name_error;
  logical kind = logical::none;
  int digits = 0; // epoch_units / time_units
  int scale = 0;
  std::optional<std::string> scale_error;
  base shape = base::unknown;
  std::vector<field> fields;
  bool fields_rendered = false; // "fields" is an array (rendering reads only then)
  bool field_names_unique = true;
  std::unique_ptr<node> items, values;

  void check(const json& value, const crumb* at) const;
  json render(const json& value, const crumb* at, const time_zone* zone, bool top_level) const;
};

namespace {

std::unique_ptr<schema_plan::node> compile_node(const json& schema);

void read_kind(schema_plan::node& n, const std::string& name) {
  static const std::pair<const char*, std::pair<logical, int>> named[] = {
      {"org.apache.kafka.connect.data.Decimal", {logical::decimal, 0}},
      {"org.apache.kafka.connect.data.Date", {logical::date, 0}},
      {"org.apache.kafka.connect.data.Timestamp", {logical::timestamp, 0}},
      {"org.apache.kafka.connect.data.Time", {logical::time, 0}},
      {"io.debezium.time.Date", {logical::epoch_date, 0}},
      {"io.debezium.time.Timestamp", {logical::epoch_units, 3}},
      {"io.debezium.time.MicroTimestamp", {logical::epoch_units, 6}},
      {"io.debezium.time.NanoTimestamp", {logical::epoch_units, 9}},
      {"io.debezium.time.Time", {logical::time_units, 3}},
      {"io.debezium.time.MicroTime", {logical::time_units, 6}},
      {"io.debezium.time.NanoTime", {logical::time_units, 9}},
      {"io.debezium.time.ZonedTimestamp", {logical::zoned, 0}},
      {"io.debezium.data.VariableScaleDecimal", {logical::variable_decimal, 0}},
      {"io.debezium.data.Json", {logical::json_text, 0}},
      {"io.debezium.data.Bits", {logical::bits, 0}},
  };
  for (const auto& [text, k] : named)
    if (name == text) {
      n.kind = k.first;
      n.digits = k.second;
      return;
    }
}

base read_shape(const std::string& type) {
  if (type == "struct") return base::structure;
  if (type == "array") return base::array;
  if (type == "map") return base::map;
  if (type == "int8" || type == "int16" || type == "int32" || type == "int64") return base::integer;
  if (type == "float" || type == "double" || type == "float32" || type == "float64") return base::floating;
  if (type == "boolean") return base::boolean;
  if (type == "string" || type == "bytes") return base::text;
  return base::unknown;
}

std::unique_ptr<schema_plan::node> compile_node(const json& schema) {
  auto n = std::make_unique<schema_plan::node>();
  n->schemaless = schema.is_null();
  if (!schema.is_object()) return n;
  n->is_object = true;
  auto type_it = schema.find("type");
  if (type_it != schema.end() && !type_it->is_string()) {
    try {
      (void)schema.value("type", "");
    } catch (const std::exception& e) {
      n->type_error = e.what();
    }
  }
  if (type_it != schema.end() && type_it->is_string()) {
    n->type = type_it->get<std::string>();
    n->renderable = true;
  }
  n->upper_type = n->type;
  for (auto& c : n->upper_type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  try {
    n->optional = schema.value("optional", false);
  } catch (const std::exception& e) {
    n->optional_error = e.what();
  }
  n->has_default = schema.contains("default") && !schema["default"].is_null();
  if (n->has_default) n->default_value = schema["default"];
  try {
    read_kind(*n, schema.value("name", ""));
  } catch (const std::exception& e) {
    n->name_error = e.what();
  }
  if (n->kind == logical::decimal && schema.contains("parameters") && schema["parameters"].contains("scale")) {
    try {
      n->scale = std::stoi(schema["parameters"]["scale"].get<std::string>());
    } catch (const std::exception& e) {
      n->scale_error = e.what();
    }
  }
  n->shape = read_shape(n->type);
  if (n->shape == base::structure && schema.contains("fields")) {
    const json& fields = schema["fields"];
    n->fields_rendered = fields.is_array();
    std::set<std::string> seen;
    for (const auto& f : fields) {
      schema_plan::node::field entry;
      try {
        entry.name = f.value("field", "");
      } catch (const std::exception& e) {
        entry.name_error = e.what();
      }
      if (!entry.name_error && !seen.insert(entry.name).second) n->field_names_unique = false;
      entry.plan = compile_node(f);
      n->fields.push_back(std::move(entry));
    }
  }
  if (n->shape == base::array) n->items = compile_node(schema.value("items", json()));
  if (n->shape == base::map) n->values = compile_node(schema.value("values", json()));
  return n;
}

// A struct's member by name: values usually list their fields in the schema's order, so the
// member at the field's own position is tried first.
const json* member(const json& object, size_t position, const std::string& name) {
  const auto& members = static_cast<const json::object_t::Container&>(object.get_ref<const json::object_t&>());
  if (position < members.size() && members[position].first == name) return &members[position].second;
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

const json& null_json() {
  static const json null;
  return null;
}

} // namespace

void schema_plan::node::check(const json& value, const crumb* at) const {
  if (!is_object) return;
  if (value.is_null()) {
    if (optional_error) rethrow(*optional_error);
    if (!optional && !has_default) {
      if (type_error) rethrow(*type_error);
      check_failed(at, "Invalid null value for required " + upper_type + " field");
    }
    return;
  }
  if (type_error) rethrow(*type_error);
  switch (shape) {
  case base::structure:
    if (!value.is_object()) check_failed(at, "struct payload must be a JSON object");
    for (size_t i = 0; i < fields.size(); ++i) {
      const auto& f = fields[i];
      if (f.name_error) rethrow(*f.name_error);
      const json* fv = member(value, i, f.name);
      crumb here{crumb::field, at, f.name};
      f.plan->check(fv ? *fv : null_json(), &here);
    }
    break;
  case base::array:
    if (!value.is_array()) check_failed(at, "array payload must be a JSON array");
    for (const auto& item : value) {
      crumb here{crumb::item, at, {}};
      items->check(item, &here);
    }
    break;
  case base::integer:
    if (!value.is_number_integer()) check_failed(at, "expected an integer for " + type);
    break;
  case base::boolean:
    if (!value.is_boolean()) check_failed(at, "expected a boolean");
    break;
  case base::text:
    if (type == "string" && !value.is_string()) check_failed(at, "expected a string");
    break;
  default: break;
  }
}

json schema_plan::node::render(const json& payload, const crumb* at, const time_zone* zone, bool top_level) const {
  if (schemaless) { // nested objects become JSON text below the top level
    if (!top_level && payload.is_object()) return payload.dump();
    return payload;
  }
  if (!renderable) fail_at(at, "schema must be an object with a \"type\"");
  if (optional_error) rethrow(*optional_error);
  const json* v = &payload;
  if (v->is_null()) {
    if (has_default) v = &default_value;
    else if (optional) return nullptr;
    else fail_at(at, "Invalid null value for required " + upper_type + " field");
  }
  const json& value = *v;
  if (name_error) rethrow(*name_error);
  auto int_of = [&](const char* what) {
    if (!value.is_number_integer()) fail_at(at, std::string(what) + " payload must be an integer");
    return value.get<int64_t>();
  };
  switch (kind) {
  case logical::decimal: {
    if (scale_error) rethrow(*scale_error);
    if (value.is_number()) return value; // decimal.format=NUMERIC
    if (!value.is_string()) fail_at(at, "Decimal payload must be base64 bytes or a number");
    bool ok = false;
    std::string raw = base64_decode(value.get_ref<const std::string&>(), ok);
    if (!ok) fail_at(at, "Decimal payload is not valid base64");
    // A JSON number token with the exact digits (no double rounding).
    return json::parse(unscaled_to_decimal(raw, scale));
  }
  case logical::date:
    if (!value.is_number_integer()) fail_at(at, "Date payload must be an integer (days since epoch)");
    return days_to_date(value.get<int64_t>());
  case logical::timestamp:
    if (!value.is_number_integer()) fail_at(at, "Timestamp payload must be an integer (epoch ms)");
    return millis_to_datetime(value.get<int64_t>());
  case logical::time:
    if (!value.is_number_integer()) fail_at(at, "Time payload must be an integer (ms of day)");
    return millis_to_time(value.get<int64_t>());
  case logical::epoch_date: return days_to_date(int_of("Date"));
  case logical::epoch_units:
    return units_to_datetime(int_of(digits == 3 ? "Timestamp" : digits == 6 ? "MicroTimestamp" : "NanoTimestamp"),
                             digits);
  case logical::time_units:
    return units_to_time(int_of(digits == 3 ? "Time" : digits == 6 ? "MicroTime" : "NanoTime"), digits);
  case logical::zoned: {
    if (!value.is_string()) fail_at(at, "ZonedTimestamp payload must be a string");
    auto dt = zoned_to_datetime(value.get<std::string>(), zone);
    if (!dt) fail_at(at, "ZonedTimestamp '" + value.get<std::string>() + "' is not ISO-8601");
    return *dt;
  }
  case logical::variable_decimal: {
    if (!value.is_object() || !value.contains("scale") || !value.contains("value"))
      fail_at(at, "VariableScaleDecimal payload must be {scale, value}");
    bool ok = false;
    std::string raw = base64_decode(value["value"].get<std::string>(), ok);
    if (!ok) fail_at(at, "VariableScaleDecimal value is not valid base64");
    return json::parse(unscaled_to_decimal(raw, value["scale"].get<int>()));
  }
  case logical::json_text: {
    if (!value.is_string()) fail_at(at, "Json payload must be a string");
    const auto& text = value.get_ref<const std::string&>();
    if (nested_deeper_than(text)) fail_at(at, "Json value is " + too_deep_message());
    auto parsed = json::parse(text, nullptr, false);
    return parsed.is_discarded() ? value : parsed; // the document itself, for JSON columns
  }
  case logical::bits: {
    if (!value.is_string()) fail_at(at, "Bits payload must be base64 bytes");
    bool ok = false;
    std::string raw = base64_decode(value.get<std::string>(), ok);
    if (!ok || raw.size() > 8) fail_at(at, "Bits payload must be at most 64 bits of base64 bytes");
    uint64_t bits = 0;
    for (size_t i = raw.size(); i-- > 0;) bits = (bits << 8) | static_cast<unsigned char>(raw[i]); // little-endian
    return bits;
  }
  case logical::none: break; // other io.debezium.* names (Enum, Uuid, Xml, ...) are carried as they are
  }

  switch (shape) {
  case base::structure: {
    if (!value.is_object()) fail_at(at, "struct payload must be a JSON object");
    json out = json::object();
    if (fields_rendered) {
      auto& members = out.get_ref<json::object_t&>();
      members.reserve(fields.size());
      for (size_t i = 0; i < fields.size(); ++i) {
        const auto& f = fields[i];
        if (f.name_error) rethrow(*f.name_error);
        const json* fv = member(value, i, f.name);
        crumb here{crumb::field, at, f.name};
        json rendered = f.plan->render(fv ? *fv : null_json(), &here, zone, false);
        // Distinct names go straight to the end of the object; a repeated name replaces.
        if (field_names_unique) members.json::object_t::Container::emplace_back(f.name, std::move(rendered));
        else out[f.name] = std::move(rendered);
      }
    }
    if (!top_level) return out.dump(); // a nested struct goes into a column as JSON text
    return out;
  }
  case base::array: {
    if (!value.is_array()) fail_at(at, "array payload must be a JSON array");
    json out = json::array();
    auto& elements = out.get_ref<json::array_t&>();
    elements.reserve(value.size());
    for (const auto& item : value) {
      crumb here{crumb::item, at, {}};
      elements.push_back(items->render(item, &here, zone, false));
    }
    return out;
  }
  case base::map: {
    if (value.is_object()) {
      json out = json::object();
      for (auto it = value.begin(); it != value.end(); ++it) {
        crumb here{crumb::key, at, it.key()};
        out[it.key()] = values->render(it.value(), &here, zone, false);
      }
      return top_level ? out : json(out.dump());
    }
    if (value.is_array()) return top_level ? value : json(value.dump()); // [[k,v],...] for non-string keys
    fail_at(at, "map payload must be an object or an array of pairs");
  }
  case base::integer:
    if (!value.is_number_integer()) fail_at(at, "expected an integer for " + type);
    return value;
  case base::floating:
    if (!value.is_number()) fail_at(at, "expected a number for " + type);
    return value;
  case base::boolean:
    if (!value.is_boolean()) fail_at(at, "expected a boolean");
    return value;
  case base::text:
    if (!value.is_string()) fail_at(at, "expected a string for " + type);
    return value;
  case base::unknown: break;
  }
  fail_at(at, "unknown schema type '" + type + "'");
}

schema_plan::schema_plan() = default;
schema_plan::~schema_plan() = default;

std::shared_ptr<const schema_plan> schema_plan::compile(const json& schema) {
  std::shared_ptr<schema_plan> plan(new schema_plan());
  plan->root_ = compile_node(schema);
  return plan;
}

void schema_plan::check(const json& value) const { root_->check(value, nullptr); }

json schema_plan::render(const json& value, const time_zone* zone) const {
  return root_->render(value, nullptr, zone, true);
}

} // namespace starpipe::connect
