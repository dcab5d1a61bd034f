#include "tools/starrocks_emulator/catalog.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <regex>

namespace emulator {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

int table::column_index(const std::string& n) const {
  std::string l = lower(n);
  for (size_t i = 0; i < columns.size(); ++i)
    if (lower(columns[i].name) == l) return static_cast<int>(i);
  return -1;
}

std::vector<row> table::snapshot() const {
  if (model == key_model::duplicate) return rows;
  std::vector<row> out;
  for (const auto& [k, r] : keyed_rows) out.push_back(r);
  return out;
}

database* catalog::find_db(const std::string& name) {
  auto it = databases.find(lower(name));
  return it == databases.end() ? nullptr : &it->second;
}

table* catalog::find_table(const std::string& db, const std::string& name) {
  auto* d = find_db(db);
  if (!d) return nullptr;
  auto it = d->tables.find(lower(name));
  return it == d->tables.end() ? nullptr : &it->second;
}

namespace {

bool parse_int(const std::string& s, long double min, long double max, std::string& out) {
  static const std::regex re(R"(^\s*[-+]?[0-9]+\s*$)");
  if (!std::regex_match(s, re)) return false;
  long double v = std::stold(s);
  if (v < min || v > max) return false;
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  std::string t = s.substr(b, e - b + 1);
  if (t[0] == '+') t = t.substr(1);
  // strip leading zeros
  bool neg = t[0] == '-';
  std::string digits = neg ? t.substr(1) : t;
  size_t nz = digits.find_first_not_of('0');
  digits = nz == std::string::npos ? "0" : digits.substr(nz);
  out = (neg && digits != "0" ? "-" : "") + digits;
  return true;
}

bool parse_date(const std::string& s, int& y, int& m, int& d, std::string& rest) {
  static const std::regex re(R"(^\s*([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(.*)$)");
  static const std::regex compact(R"(^\s*([0-9]{4})([0-9]{2})([0-9]{2})(.*)$)");
  std::smatch mm;
  if (!std::regex_match(s, mm, re) && !std::regex_match(s, mm, compact)) return false;
  y = std::stoi(mm[1]);
  m = std::stoi(mm[2]);
  d = std::stoi(mm[3]);
  rest = mm[4];
  static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > days[m - 1]) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && d == 29 && !leap) return false;
  return true;
}

} // namespace

std::optional<std::string> convert_value(const column& c, const std::string& raw, bool& always_filtered,
                                         std::string& error) {
  always_filtered = false;
  const std::string& t = c.type;
  std::string out;
  auto bad = [&](const std::string& why) -> std::optional<std::string> {
    error = "Value '" + raw + "' is out of range or invalid for column '" + c.name + "' (" + t + "): " + why;
    return std::nullopt;
  };
  if (t == "BITMAP" || t == "HLL") return raw; // the set text to_bitmap()/hll_hash() made
  if (t == "TINYINT") return parse_int(raw, -128, 127, out) ? std::optional(out) : bad("not a TINYINT");
  if (t == "SMALLINT") return parse_int(raw, -32768, 32767, out) ? std::optional(out) : bad("not a SMALLINT");
  if (t == "INT" || t == "INTEGER")
    return parse_int(raw, -2147483648.0L, 2147483647.0L, out) ? std::optional(out) : bad("not an INT");
  if (t == "BIGINT")
    return parse_int(raw, -9223372036854775808.0L, 9223372036854775807.0L, out) ? std::optional(out)
                                                                                  : bad("not a BIGINT");
  if (t == "LARGEINT") return parse_int(raw, -1.7e38L, 1.7e38L, out) ? std::optional(out) : bad("not a LARGEINT");
  if (t == "BOOLEAN") {
    std::string l = lower(raw);
    if (l == "true" || l == "1") return std::string("1");
    if (l == "false" || l == "0") return std::string("0");
    return bad("not a BOOLEAN");
  }
  if (t == "FLOAT" || t == "DOUBLE") {
    try {
      size_t used = 0;
      double v = std::stod(raw, &used);
      if (used != raw.size() || !std::isfinite(v)) return bad("not a number");
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", v);
      std::string s = buf;
      // shortest form that round-trips is nicer to read; good enough: trim %.17g noise
      std::snprintf(buf, sizeof buf, t == "FLOAT" ? "%.7g" : "%.15g", v);
      return std::string(buf);
    } catch (...) {
      return bad("not a number");
    }
  }
  if (t == "DECIMAL" || t == "DECIMALV2" || t == "DECIMAL32" || t == "DECIMAL64" || t == "DECIMAL128") {
    static const std::regex re(R"(^\s*([-+]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([-+]?[0-9]+))?\s*$)");
    std::smatch m;
    if (!std::regex_match(raw, m, re) || (std::string(m[2]).empty() && std::string(m[3]).empty()))
      return bad("not a DECIMAL");
    std::string ip = m[2], fp = m[3];
    int exp = m[4].matched ? std::stoi(m[4]) : 0;
    std::string digits = ip + fp;
    int point = static_cast<int>(ip.size()) + exp;
    while (point < 0) digits.insert(0, "0"), ++point;
    while (static_cast<int>(digits.size()) < point) digits += '0';
    ip = digits.substr(0, static_cast<size_t>(point));
    fp = digits.substr(static_cast<size_t>(point));
    size_t nz = ip.find_first_not_of('0');
    ip = nz == std::string::npos ? "0" : ip.substr(nz);
    if (static_cast<int>(fp.size()) > c.scale) fp = fp.substr(0, static_cast<size_t>(c.scale)); // truncation
    while (static_cast<int>(fp.size()) < c.scale) fp += '0';
    int int_digits = ip == "0" ? 0 : static_cast<int>(ip.size());
    int precision = c.precision > 0 ? c.precision : 10;
    if (int_digits > precision - c.scale) return bad("too many integer digits for DECIMAL(" +
                                                     std::to_string(precision) + "," + std::to_string(c.scale) + ")");
    std::string v = ip + (c.scale > 0 ? "." + fp : "");
    bool zero = v.find_first_not_of("0.") == std::string::npos;
    return (std::string(m[1]) == "-" && !zero ? "-" : "") + v;
  }
  if (t == "DATE" || t == "DATETIME") {
    int y, mo, d;
    std::string rest;
    if (!parse_date(raw, y, mo, d, rest)) return bad("not a " + t);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, mo, d);
    if (t == "DATE") return std::string(buf);
    static const std::regex time_re(R"(^(?:[ T]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:\.([0-9]{1,9}))?)?\s*(Z)?$)");
    std::smatch m;
    if (!std::regex_match(rest, m, time_re)) return bad("not a DATETIME");
    int h = m[1].matched ? std::stoi(m[1]) : 0, mi = m[2].matched ? std::stoi(m[2]) : 0,
        s = m[3].matched ? std::stoi(m[3]) : 0;
    if (h > 23 || mi > 59 || s > 59) return bad("not a DATETIME");
    char tb[40];
    std::snprintf(tb, sizeof tb, " %02d:%02d:%02d", h, mi, s);
    std::string frac = m[4].matched ? std::string(m[4]) : "";
    if (frac.size() > 6) frac.resize(6);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return std::string(buf) + tb + (frac.empty() ? "" : "." + frac);
  }
  if (t == "VARCHAR" || t == "CHAR" || t == "STRING" || t == "TEXT") {
    int limit = c.length > 0 ? c.length : (t == "CHAR" ? 1 : 65533);
    if (t == "STRING" || t == "TEXT") limit = 65533;
    if (static_cast<int>(raw.size()) > limit) {
      always_filtered = true;
      error = "Value length is beyond the capacity. column=" + c.name + ", capacity=" + std::to_string(limit) +
              " (length " + std::to_string(raw.size()) + " exceeds " + std::to_string(limit) + " bytes)";
      return std::nullopt;
    }
    return raw;
  }
  if (t == "JSON") return raw;
  return raw; // other types are kept as text
}

} // namespace emulator
