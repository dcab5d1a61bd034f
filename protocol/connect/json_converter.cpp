#include "protocol/connect/json_converter.h"

#include "protocol/connect/json_scan.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <vector>

namespace starpipe::connect {

using json = nlohmann::ordered_json;

std::string base64_decode(std::string_view in, bool& ok) {
  static const auto table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
    t['-'] = 62; // url-safe variants
    t['_'] = 63;
    return t;
  }();
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  ok = true;
  for (char c : in) {
    if (c == '=') break;
    if (c == '\n' || c == '\r') continue;
    int v = table[static_cast<unsigned char>(c)];
    if (v < 0) {
      ok = false;
      return {};
    }
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  return out;
}

std::string unscaled_to_decimal(const std::string& bytes, int scale) {
  if (bytes.empty()) return "0";
  bool negative = static_cast<unsigned char>(bytes[0]) & 0x80;
  std::vector<unsigned char> mag(bytes.begin(), bytes.end());
  if (negative) { // two's complement -> magnitude
    for (auto& b : mag) b = static_cast<unsigned char>(~b);
    for (size_t i = mag.size(); i-- > 0;) {
      if (++mag[i] != 0) break;
    }
  }
  // Repeated division by 10 of a big-endian byte string.
  std::string digits;
  bool nonzero = true;
  while (nonzero) {
    unsigned rem = 0;
    nonzero = false;
    for (auto& b : mag) {
      unsigned cur = (rem << 8) | b;
      b = static_cast<unsigned char>(cur / 10);
      rem = cur % 10;
      if (b) nonzero = true;
    }
    digits += static_cast<char>('0' + rem);
  }
  std::string s(digits.rbegin(), digits.rend());
  if (scale > 0) {
    if (static_cast<int>(s.size()) <= scale) s.insert(0, static_cast<size_t>(scale) - s.size() + 1, '0');
    s.insert(s.size() - static_cast<size_t>(scale), ".");
  } else if (scale < 0 && s != "0") {
    s.append(static_cast<size_t>(-scale), '0');
  }
  return negative ? "-" + s : s;
}

std::string days_to_date(int64_t days) {
  std::time_t t = static_cast<std::time_t>(days) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

std::string millis_to_datetime(int64_t epoch_ms) {
  int64_t secs = epoch_ms / 1000, ms = epoch_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string millis_to_time(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", static_cast<int>(ms / 3600000),
                static_cast<int>(ms / 60000 % 60), static_cast<int>(ms / 1000 % 60), static_cast<int>(ms % 1000));
  return buf;
}

namespace {

std::string upper_type(const json& schema) {
  std::string t = schema.value("type", "");
  for (auto& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return t;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path.empty() ? what : "field '" + path + "': " + what);
}

} // namespace

json render_with_schema(const json& schema, const json& payload, const std::string& path) {
  if (schema.is_null()) return payload; // schemaless payload
  if (!schema.is_object() || !schema.contains("type") || !schema["type"].is_string())
    fail(path, "schema must be an object with a \"type\"");
  const std::string type = schema["type"];
  const bool optional = schema.value("optional", false);
  json value = payload;
  if (value.is_null()) {
    if (schema.contains("default") && !schema["default"].is_null()) value = schema["default"];
    else if (optional) return nullptr;
    else fail(path, "Invalid null value for required " + upper_type(schema) + " field");
  }
  const std::string name = schema.value("name", "");

  if (name == "org.apache.kafka.connect.data.Decimal") {
    int scale = 0;
    if (schema.contains("parameters") && schema["parameters"].contains("scale"))
      scale = std::stoi(schema["parameters"]["scale"].get<std::string>());
    if (value.is_number()) return value; // decimal.format=NUMERIC
    if (!value.is_string()) fail(path, "Decimal payload must be base64 bytes or a number");
    bool ok = false;
    std::string raw = base64_decode(value.get<std::string>(), ok);
    if (!ok) fail(path, "Decimal payload is not valid base64");
    // Emitted as a JSON number token with the exact digits (no double rounding).
    return json::parse(unscaled_to_decimal(raw, scale));
  }
  if (name == "org.apache.kafka.connect.data.Date") {
    if (!value.is_number_integer()) fail(path, "Date payload must be an integer (days since epoch)");
    return days_to_date(value.get<int64_t>());
  }
  if (name == "org.apache.kafka.connect.data.Timestamp") {
    if (!value.is_number_integer()) fail(path, "Timestamp payload must be an integer (epoch ms)");
    return millis_to_datetime(value.get<int64_t>());
  }
  if (name == "org.apache.kafka.connect.data.Time") {
    if (!value.is_number_integer()) fail(path, "Time payload must be an integer (ms of day)");
    return millis_to_time(value.get<int64_t>());
  }

  if (type == "struct") {
    if (!value.is_object()) fail(path, "struct payload must be a JSON object");
    json out = json::object();
    if (schema.contains("fields") && schema["fields"].is_array()) {
      for (const auto& f : schema["fields"]) {
        std::string fname = f.value("field", "");
        const json& fv = value.contains(fname) ? value[fname] : json();
        out[fname] = render_with_schema(f, fv, path.empty() ? fname : path + "." + fname);
      }
    }
    return out;
  }
  if (type == "array") {
    if (!value.is_array()) fail(path, "array payload must be a JSON array");
    json out = json::array();
    const json items = schema.value("items", json());
    for (const auto& item : value) out.push_back(render_with_schema(items, item, path + "[]"));
    return out;
  }
  if (type == "map") {
    const json keys = schema.value("keys", json()), values = schema.value("values", json());
    if (value.is_object()) {
      json out = json::object();
      for (auto it = value.begin(); it != value.end(); ++it)
        out[it.key()] = render_with_schema(values, it.value(), path + "." + it.key());
      return out;
    }
    if (value.is_array()) return value; // [[k,v],...] form for non-string keys
    fail(path, "map payload must be an object or an array of pairs");
  }
  if (type == "int8" || type == "int16" || type == "int32" || type == "int64") {
    if (!value.is_number_integer()) fail(path, "expected an integer for " + type);
    return value;
  }
  if (type == "float" || type == "double" || type == "float32" || type == "float64") {
    if (!value.is_number()) fail(path, "expected a number for " + type);
    return value;
  }
  if (type == "boolean") {
    if (!value.is_boolean()) fail(path, "expected a boolean");
    return value;
  }
  if (type == "string" || type == "bytes") {
    if (!value.is_string()) fail(path, "expected a string for " + type);
    return value;
  }
  fail(path, "unknown schema type '" + type + "'");
}

record_converter::record_converter(conf::converter_spec value, conf::load_format format)
    : spec_(std::move(value)), format_(format) {}

namespace {
std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}
} // namespace

convert_status record_converter::json_row(std::string_view text, std::string& out, std::string& error) const {
  text = trim_ws(text);
  if (spec_.kind == conf::converter_kind::json && spec_.schemas_enable) {
    json doc = json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded()) {
      error = "value is not valid JSON";
      return convert_status::error;
    }
    if (!doc.is_object() || doc.size() != 2 || !doc.contains("schema") || !doc.contains("payload")) {
      error = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain "
              "additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in "
              "your converter configuration.";
      return convert_status::error;
    }
    if (doc["payload"].is_null() && doc["schema"].is_null()) return convert_status::skip; // legacy tombstone
    json row;
    try {
      row = render_with_schema(doc["schema"], doc["payload"]);
    } catch (const std::exception& e) {
      error = e.what();
      return convert_status::error;
    }
    if (row.is_null()) return convert_status::skip;
    if (!row.is_object()) {
      error = "payload is a " + std::string(row.type_name()) + ", not a struct: StarRocks needs one object per row";
      return convert_status::error;
    }
    out += row.dump();
    return convert_status::row;
  }
  // Schemaless JSON and JSON text in strings: the text is the row, sent as it came after
  // a validating scan (no DOM is built).
  if (text.empty() || text.front() != '{') {
    if (text == "null") return convert_status::skip;
    error = "value is not a JSON object: StarRocks needs one object per row";
    return convert_status::error;
  }
  if (!is_valid_json(text)) {
    error = "value is not valid JSON";
    return convert_status::error;
  }
  out.append(text.data(), text.size());
  return convert_status::row;
}

convert_status record_converter::convert(const char* data, size_t len, std::string& out, std::string& error) const {
  if (data == nullptr) return convert_status::skip; // tombstone: offset still counts as processed
  std::string_view text(data, len);
  if (format_ == conf::load_format::csv) {
    // The value is one CSV row, unchanged; the row delimiter is added by the encoder.
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    out.append(text.data(), text.size());
    return convert_status::row;
  }
  return json_row(text, out, error);
}

} // namespace starpipe::connect
