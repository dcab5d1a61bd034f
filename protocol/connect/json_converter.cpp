#include "protocol/connect/json_converter.h"
#include "protocol/connect/converter.h"

#include "protocol/connect/json_scan.h"
#include "protocol/connect/record.h"
#include "protocol/connect/schema_cache.h"
#include "protocol/connect/schema_plan.h"

#include <array>
#include <cstdio>
#include <cctype>
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

std::string units_to_datetime(int64_t value, int digits) {
  int64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  int64_t secs = value / scale, frac = value % scale;
  if (frac < 0) frac += scale, secs -= 1;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out = buf;
  if (digits > 0 && frac > 0) {
    std::string f = std::to_string(frac);
    f.insert(0, static_cast<size_t>(digits) - f.size(), '0');
    if (f.size() > 6) f.resize(6); // StarRocks DATETIME keeps microseconds
    while (!f.empty() && f.back() == '0') f.pop_back();
    if (!f.empty()) out += "." + f;
  }
  return out;
}

std::string units_to_time(int64_t value, int digits) {
  std::string dt = units_to_datetime(value, digits);
  return dt.substr(11); // time of day since 1970-01-01
}

std::optional<std::string> zoned_to_datetime(const std::string& iso, const time_zone* zone) {
  int y, mo, d, h, mi, sec;
  char sep;
  int consumed = 0;
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &sec, &consumed) != 7 ||
      (sep != 'T' && sep != ' '))
    return std::nullopt;
  std::string rest = iso.substr(static_cast<size_t>(consumed));
  std::string frac;
  size_t i = 0;
  if (i < rest.size() && rest[i] == '.') {
    ++i;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) frac += rest[i++];
  }
  int offset = 0; // minutes east of UTC in the input
  if (i < rest.size()) {
    if (rest[i] == 'Z') {
      ++i;
    } else if (rest[i] == '+' || rest[i] == '-') {
      int oh = 0, om = 0;
      if (std::sscanf(rest.c_str() + i + 1, "%2d:%2d", &oh, &om) < 1) return std::nullopt;
      offset = (oh * 60 + om) * (rest[i] == '-' ? -1 : 1);
      i = rest.size();
    } else {
      return std::nullopt;
    }
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t utc = static_cast<int64_t>(timegm(&tm)) - offset * 60;
  int64_t epoch = utc + (zone ? zone->offset_at(utc) : 0);
  std::string out = units_to_datetime(epoch, 0);
  if (frac.size() > 6) frac.resize(6);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  if (!frac.empty()) out += "." + frac;
  return out;
}

json render_with_schema(const json& schema, const json& payload, const time_zone* zone) {
  return schema_plan::compile(schema)->render(payload, zone);
}

record_converter::record_converter(conf::converter_spec value, conf::load_format format, const time_zone* zone)
    : spec_(std::move(value)), format_(format), zone_(zone) {
  if (spec_.kind == conf::converter_kind::json && spec_.schemas_enable)
    schemas_ = std::make_unique<schema_cache>(static_cast<size_t>(spec_.schemas_cache_size));
}

record_converter::~record_converter() = default;

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
  if (schemas_) {
    // Envelopes: the same decoding and rendering as the transforms path; the plain ones with
    // the schema's compiled plan straight from the payload to the row.
    std::shared_ptr<const compiled_schema> schema;
    json payload;
    switch (read_envelope(text, *schemas_, schema, payload, error)) {
    case envelope_read::decoded: {
      auto row = render_row(*schema->plan, payload, render_options{zone_}, error);
      if (!row) return error.empty() ? convert_status::skip : convert_status::error;
      out += *row;
      return convert_status::row;
    }
    case envelope_read::null_payload: return convert_status::skip;
    case envelope_read::refused: return convert_status::error;
    case envelope_read::not_cached: break;
    }
    connect_record r;
    if (!read_json_value(text, true, r.value, error)) return convert_status::error;
    auto row = render_row(r, render_options{zone_}, error);
    if (!row) return error.empty() ? convert_status::skip : convert_status::error;
    out += *row;
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
    error = nested_deeper_than(text) ? "value is " + too_deep_message() : "value is not valid JSON";
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
