#include "protocol/transforms/builtin_transforms.h"

#include <cmath>
#include <ctime>
#include <regex>
#include <set>

#include "protocol/connect/json_converter.h"

namespace starpipe::transforms {

namespace {

const std::string connect_prefix = "org.apache.kafka.connect.transforms.";
const char* timestamp_logical = "org.apache.kafka.connect.data.Timestamp";
const char* date_logical = "org.apache.kafka.connect.data.Date";
const char* time_logical = "org.apache.kafka.connect.data.Time";

// The part of a record a $Key / $Value transform works on.
enum class part { key, value };

std::optional<connect::schema_and_value>& target(connect_record& r, part p) { return p == part::key ? r.key : r.value; }

// A struct or map to work on; Connect's own error text otherwise.
void require_object(const connect::schema_and_value& sv, const std::string& what) {
  if (!sv.value.is_object())
    throw std::runtime_error(sv.schema.is_null()
                                 ? "Only Map objects supported in absence of schema for [" + what + "], found: " +
                                       std::string(sv.value.type_name())
                                 : "Only Struct objects supported for [" + what + "], found: " +
                                       std::string(sv.value.type_name()));
}

json struct_schema(const std::string& name = "") {
  json s{{"type", "struct"}, {"fields", json::array()}, {"optional", false}};
  if (!name.empty()) s["name"] = name;
  return s;
}

// --- ReplaceField -------------------------------------------------------------------------
class replace_field : public transform {
public:
  part where;
  std::set<std::string> include, exclude;
  std::map<std::string, std::string> renames;

  std::optional<connect_record> apply(connect_record r) const override {
    auto& t = target(r, where);
    if (!t) return r;
    require_object(*t, "field replacement");
    json out = json::object();
    for (auto it = t->value.begin(); it != t->value.end(); ++it)
      if (keep(it.key())) out[rename(it.key())] = it.value();
    if (!t->schema.is_null()) {
      json fields = json::array();
      for (auto f : t->schema["fields"]) {
        std::string n = f.value("field", "");
        if (!keep(n)) continue;
        f["field"] = rename(n);
        fields.push_back(f);
        if (!out.contains(rename(n))) out[rename(n)] = nullptr;
      }
      t->schema["fields"] = fields;
    }
    t->value = std::move(out);
    return r;
  }

private:
  bool keep(const std::string& n) const { return !exclude.count(n) && (include.empty() || include.count(n)); }
  std::string rename(const std::string& n) const {
    auto it = renames.find(n);
    return it == renames.end() ? n : it->second;
  }
};

// --- InsertField --------------------------------------------------------------------------
class insert_field : public transform {
public:
  std::string topic_field, partition_field, offset_field, timestamp_field, static_field, static_value;

  std::optional<connect_record> apply(connect_record r) const override {
    if (!r.value) return r;
    require_object(*r.value, "field insertion");
    auto add = [&](const std::string& spec, json v, json schema) {
      if (spec.empty()) return;
      std::string name = spec;
      bool optional = true;
      if (name.back() == '!') optional = false, name.pop_back();
      else if (name.back() == '?') name.pop_back();
      r.value->value[name] = std::move(v);
      if (!r.value->schema.is_null()) {
        schema["optional"] = optional;
        schema["field"] = name;
        r.value->schema["fields"].push_back(std::move(schema));
      }
    };
    add(topic_field, r.topic, json{{"type", "string"}});
    add(partition_field, r.partition, json{{"type", "int32"}});
    add(offset_field, r.offset, json{{"type", "int64"}});
    if (r.value->schema.is_null())
      add(timestamp_field, connect::millis_to_datetime(r.timestamp), json());
    else
      add(timestamp_field, r.timestamp, json{{"type", "int64"}, {"name", timestamp_logical}, {"version", 1}});
    add(static_field, static_value, json{{"type", "string"}});
    return r;
  }
};

// --- ValueToKey ---------------------------------------------------------------------------
class value_to_key : public transform {
public:
  std::vector<std::string> fields;
  std::optional<connect_record> apply(connect_record r) const override {
    if (!r.value) return r;
    require_object(*r.value, "copying fields from value to key");
    connect::schema_and_value key{json(), json::object()};
    if (!r.value->schema.is_null()) key.schema = struct_schema();
    for (const auto& f : fields) {
      if (!r.value->value.contains(f)) throw std::runtime_error("field '" + f + "' is not in the value");
      key.value[f] = r.value->value[f];
      if (!key.schema.is_null()) key.schema["fields"].push_back(field_schema(r.value->schema, f));
    }
    r.key = std::move(key);
    return r;
  }
};

// --- ExtractField -------------------------------------------------------------------------
class extract_field : public transform {
public:
  part where;
  std::string field;
  std::optional<connect_record> apply(connect_record r) const override {
    auto& t = target(r, where);
    if (!t) return r;
    require_object(*t, "field extraction");
    auto it = t->value.find(field);
    if (it == t->value.end() || it->is_null()) {
      t.reset();
      return r;
    }
    json schema = t->schema.is_null() ? json() : field_schema(t->schema, field);
    if (!schema.is_null()) schema.erase("field");
    t = connect::schema_and_value{schema, *it};
    return r;
  }
};

// --- HoistField ---------------------------------------------------------------------------
class hoist_field : public transform {
public:
  part where;
  std::string field;
  std::optional<connect_record> apply(connect_record r) const override {
    auto& t = target(r, where);
    if (!t) return r;
    json schema;
    if (!t->schema.is_null()) {
      schema = struct_schema();
      json inner = t->schema;
      inner["field"] = field;
      schema["fields"].push_back(inner);
    }
    t = connect::schema_and_value{schema, json{{field, t->value}}};
    return r;
  }
};

// --- Cast ---------------------------------------------------------------------------------
json cast_value(const json& v, const std::string& type) {
  if (v.is_null()) return v;
  auto as_double = [&]() -> double {
    if (v.is_number()) return v.get<double>();
    if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
    if (v.is_string()) return std::stod(v.get<std::string>());
    throw std::runtime_error("cannot cast a " + std::string(v.type_name()) + " to " + type);
  };
  if (type == "int8" || type == "int16" || type == "int32" || type == "int64") {
    double d = as_double();
    return static_cast<int64_t>(std::trunc(d));
  }
  if (type == "float32" || type == "float64") return as_double();
  if (type == "boolean") {
    if (v.is_string()) return v.get<std::string>() == "true";
    return as_double() != 0;
  }
  if (type == "string") return v.is_string() ? v : json(v.dump());
  throw std::runtime_error("unknown cast type " + type);
}

class cast : public transform {
public:
  part where;
  std::map<std::string, std::string> fields; // "" -> whole value
  std::optional<connect_record> apply(connect_record r) const override {
    auto& t = target(r, where);
    if (!t) return r;
    auto whole = fields.find("");
    if (whole != fields.end()) {
      t->value = cast_value(t->value, whole->second);
      if (!t->schema.is_null()) t->schema = json{{"type", whole->second}, {"optional", t->schema.value("optional", false)}};
      return r;
    }
    require_object(*t, "cast types");
    for (const auto& [f, type] : fields) {
      if (t->value.contains(f)) t->value[f] = cast_value(t->value[f], type);
      if (!t->schema.is_null())
        for (auto& fs : t->schema["fields"])
          if (fs.value("field", "") == f) {
            fs["type"] = type;
            fs.erase("name");
            fs.erase("parameters");
          }
    }
    return r;
  }
};

// --- RegexRouter, Filter ------------------------------------------------------------------
class regex_router : public transform {
public:
  std::regex re;
  std::string replacement;
  std::optional<connect_record> apply(connect_record r) const override {
    std::smatch m;
    if (std::regex_match(r.topic, m, re)) r.topic = m.format(replacement);
    return r;
  }
};

class filter : public transform {
public:
  std::optional<connect_record> apply(connect_record) const override { return std::nullopt; }
};

// --- TimestampConverter -------------------------------------------------------------------
class timestamp_converter : public transform {
public:
  part where;
  std::string field, target_type, format;
  int64_t unix_units_per_second = 1000;

  std::optional<connect_record> apply(connect_record r) const override {
    auto& t = target(r, where);
    if (!t) return r;
    if (field.empty()) {
      auto [v, s] = convert(t->value, t->schema);
      t->value = v;
      if (!t->schema.is_null()) t->schema = s;
      return r;
    }
    require_object(*t, "converting timestamp formats");
    if (!t->value.contains(field) || t->value[field].is_null()) return r;
    json fs = t->schema.is_null() ? json() : field_schema(t->schema, field);
    auto [v, s] = convert(t->value[field], fs);
    t->value[field] = v;
    if (!t->schema.is_null())
      for (auto& f : t->schema["fields"])
        if (f.value("field", "") == field) {
          bool optional = f.value("optional", false);
          f = s;
          f["field"] = field;
          f["optional"] = optional;
        }
    return r;
  }

private:
  std::pair<json, json> convert(const json& v, const json& schema) const {
    int64_t ms;
    std::string name = schema.is_object() ? schema.value("name", "") : "";
    if (name == timestamp_logical) ms = v.get<int64_t>();
    else if (name == date_logical) ms = v.get<int64_t>() * 86400000LL;
    else if (name == time_logical) ms = v.get<int64_t>();
    else if (v.is_string()) {
      auto parsed = parse_timestamp(v.get<std::string>(), format);
      if (!parsed) throw std::runtime_error("could not parse timestamp '" + v.get<std::string>() + "' with format " + format);
      ms = *parsed;
    } else if (v.is_number_integer()) {
      ms = v.get<int64_t>() * 1000 / unix_units_per_second;
    } else {
      throw std::runtime_error("cannot convert a " + std::string(v.type_name()) + " as a timestamp");
    }
    const bool schemaless = schema.is_null();
    if (target_type == "string") return {format_timestamp(ms, format), json{{"type", "string"}}};
    if (target_type == "unix")
      return {ms * unix_units_per_second / 1000, json{{"type", "int64"}}};
    if (target_type == "Date") {
      int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
      if (schemaless) return {connect::days_to_date(days), json()};
      return {days, json{{"type", "int32"}, {"name", date_logical}, {"version", 1}}};
    }
    if (target_type == "Time") {
      int64_t tod = ((ms % 86400000) + 86400000) % 86400000;
      if (schemaless) return {connect::millis_to_time(tod), json()};
      return {tod, json{{"type", "int32"}, {"name", time_logical}, {"version", 1}}};
    }
    if (schemaless) return {connect::millis_to_datetime(ms), json()};
    return {ms, json{{"type", "int64"}, {"name", timestamp_logical}, {"version", 1}}};
  }
};

} // namespace

// --- SimpleDateFormat subset --------------------------------------------------------------
namespace {
struct token {
  char letter = 0; // 0: literal
  size_t width = 0;
  std::string literal;
};
std::vector<token> tokenize(const std::string& pattern) {
  std::vector<token> out;
  for (size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    if (c == '\'') {
      size_t e = pattern.find('\'', i + 1);
      std::string lit = pattern.substr(i + 1, (e == std::string::npos ? pattern.size() : e) - i - 1);
      out.push_back({0, 0, lit.empty() ? "'" : lit});
      i = e == std::string::npos ? pattern.size() : e + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < pattern.size() && pattern[j] == c) ++j;
      out.push_back({c, j - i, ""});
      i = j;
    } else {
      out.push_back({0, 0, std::string(1, c)});
      ++i;
    }
  }
  return out;
}
} // namespace

std::string format_timestamp(int64_t epoch_ms, const std::string& pattern) {
  int64_t secs = epoch_ms / 1000, ms = epoch_ms % 1000;
  if (ms < 0) ms += 1000, secs -= 1;
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::string out;
  char buf[16];
  for (const auto& t : tokenize(pattern)) {
    int v = -1;
    switch (t.letter) {
      case 0: out += t.literal; continue;
      case 'y': v = t.width == 2 ? (tm.tm_year + 1900) % 100 : tm.tm_year + 1900; break;
      case 'M': v = tm.tm_mon + 1; break;
      case 'd': v = tm.tm_mday; break;
      case 'H': v = tm.tm_hour; break;
      case 'm': v = tm.tm_min; break;
      case 's': v = tm.tm_sec; break;
      case 'S': v = static_cast<int>(ms); break;
      case 'X': case 'Z': out += t.letter == 'X' ? "Z" : "+0000"; continue;
      default: out += std::string(t.width, t.letter); continue;
    }
    std::snprintf(buf, sizeof buf, "%0*d", static_cast<int>(t.letter == 'S' ? 3 : std::max<size_t>(t.width, 1)), v);
    out += buf;
  }
  return out;
}

std::optional<int64_t> parse_timestamp(const std::string& text, const std::string& pattern) {
  std::tm tm{};
  tm.tm_mday = 1;
  int ms = 0;
  size_t pos = 0;
  for (const auto& t : tokenize(pattern)) {
    if (t.letter == 0) {
      if (text.compare(pos, t.literal.size(), t.literal) != 0) return std::nullopt;
      pos += t.literal.size();
      continue;
    }
    if (t.letter == 'X' || t.letter == 'Z') { // only UTC designators
      if (pos < text.size() && text[pos] == 'Z') ++pos;
      else if (text.compare(pos, 5, "+0000") == 0) pos += 5;
      else return std::nullopt;
      continue;
    }
    size_t width = t.width == 1 ? 2 : t.width;
    if (t.letter == 'y' && t.width != 2) width = 4;
    size_t start = pos;
    while (pos < text.size() && pos - start < width && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos == start) return std::nullopt;
    int v = std::stoi(text.substr(start, pos - start));
    switch (t.letter) {
      case 'y': tm.tm_year = (t.width == 2 ? 2000 + v : v) - 1900; break;
      case 'M': tm.tm_mon = v - 1; break;
      case 'd': tm.tm_mday = v; break;
      case 'H': tm.tm_hour = v; break;
      case 'm': tm.tm_min = v; break;
      case 's': tm.tm_sec = v; break;
      case 'S': ms = v; break;
      default: return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

std::unique_ptr<transform> make_builtin_transform(const transform_spec& spec, const conf::properties& p,
                                                  conf::config_errors& errs) {
  if (spec.type.rfind(connect_prefix, 0) != 0) return nullptr;
  std::string name = spec.type.substr(connect_prefix.size());
  part where = part::value;
  auto dollar = name.find('$');
  if (dollar != std::string::npos) {
    where = name.substr(dollar + 1) == "Key" ? part::key : part::value;
    name = name.substr(0, dollar);
  }
  const std::string key_prefix = "transforms." + spec.alias + ".";
  auto opt = [&](const std::string& k) {
    auto it = spec.options.find(k);
    return it == spec.options.end() ? std::string() : it->second;
  };
  auto bad = [&](const std::string& k, const std::string& what) {
    errs.add({p.source, key_prefix + k, opt(k), what + " (alias '" + spec.alias + "', " + spec.type + ")"});
  };
  if (name == "ReplaceField") {
    auto t = std::make_unique<replace_field>();
    t->where = where;
    for (const auto& f : conf::split_list(opt("include") + "," + opt("whitelist"))) t->include.insert(f);
    for (const auto& f : conf::split_list(opt("exclude") + "," + opt("blacklist"))) t->exclude.insert(f);
    for (const auto& r : conf::split_list(opt("renames"))) {
      auto colon = r.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == r.size()) bad("renames", "entries must be old:new");
      else t->renames[r.substr(0, colon)] = r.substr(colon + 1);
    }
    return t;
  }
  if (name == "InsertField") {
    if (where == part::key) bad("type", "InsertField$Key is not supported; use InsertField$Value");
    auto t = std::make_unique<insert_field>();
    t->topic_field = opt("topic.field");
    t->partition_field = opt("partition.field");
    t->offset_field = opt("offset.field");
    t->timestamp_field = opt("timestamp.field");
    t->static_field = opt("static.field");
    t->static_value = opt("static.value");
    return t;
  }
  if (name == "ValueToKey") {
    auto t = std::make_unique<value_to_key>();
    t->fields = conf::split_list(opt("fields"));
    if (t->fields.empty()) bad("fields", "must list at least one field");
    return t;
  }
  if (name == "ExtractField" || name == "HoistField") {
    if (opt("field").empty()) bad("field", "is required");
    if (name == "ExtractField") {
      auto t = std::make_unique<extract_field>();
      t->where = where;
      t->field = opt("field");
      return t;
    }
    auto t = std::make_unique<hoist_field>();
    t->where = where;
    t->field = opt("field");
    return t;
  }
  if (name == "Cast") {
    static const std::set<std::string> types = {"int8", "int16", "int32", "int64", "float32", "float64", "boolean", "string"};
    auto t = std::make_unique<cast>();
    t->where = where;
    for (const auto& item : conf::split_list(opt("spec"))) {
      auto colon = item.find(':');
      std::string f = colon == std::string::npos ? "" : item.substr(0, colon);
      std::string type = colon == std::string::npos ? item : item.substr(colon + 1);
      if (!types.count(type)) bad("spec", "type '" + type + "' must be one of int8, int16, int32, int64, float32, float64, boolean, string");
      t->fields[f] = type;
    }
    if (t->fields.empty()) bad("spec", "is required: field:type[,field:type] or a single type");
    return t;
  }
  if (name == "RegexRouter") {
    auto t = std::make_unique<regex_router>();
    try {
      t->re = std::regex(opt("regex"));
    } catch (const std::regex_error&) {
      bad("regex", "must be a regular expression");
    }
    if (opt("regex").empty()) bad("regex", "is required");
    t->replacement = opt("replacement");
    return t;
  }
  if (name == "Filter") {
    return std::make_unique<filter>();
  }
  if (name == "TimestampConverter") {
    auto t = std::make_unique<timestamp_converter>();
    t->where = where;
    t->field = opt("field");
    t->target_type = opt("target.type");
    t->format = opt("format");
    static const std::set<std::string> targets = {"string", "unix", "Date", "Time", "Timestamp"};
    if (!targets.count(t->target_type)) bad("target.type", "must be string, unix, Date, Time or Timestamp");
    if (t->target_type == "string" && t->format.empty()) bad("format", "is required when target.type=string");
    std::string precision = opt("unix.precision").empty() ? "milliseconds" : opt("unix.precision");
    if (precision == "seconds") t->unix_units_per_second = 1;
    else if (precision == "milliseconds") t->unix_units_per_second = 1000;
    else if (precision == "microseconds") t->unix_units_per_second = 1000000;
    else if (precision == "nanoseconds") t->unix_units_per_second = 1000000000;
    else bad("unix.precision", "must be seconds, milliseconds, microseconds or nanoseconds");
    return t;
  }
  return nullptr;
}

} // namespace starpipe::transforms
