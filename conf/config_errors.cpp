#include "conf/config_errors.h"

#include <algorithm>
#include <cctype>

namespace starpipe::conf {

namespace {
// Control bytes are shown escaped: a value with a NUL or a newline must not cut or forge a log line.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c != 0x7F) {
      out += static_cast<char>(c);
      continue;
    }
    const char* digits = "0123456789abcdef";
    out += "\\x";
    out += digits[c >> 4];
    out += digits[c & 0xF];
  }
  return out;
}
} // namespace

std::string config_error::to_string() const {
  std::string shown = is_secret_key(key) ? "[hidden]" : printable(value);
  return source + ": " + key + "=" + "'" + shown + "': " + problem;
}

void config_errors::add(const properties& p, const std::string& key, const std::string& problem) {
  std::string src = p.source;
  int line = p.line_of(key);
  if (line > 0) src += ":" + std::to_string(line);
  errors_.push_back({src, key, p.get(key).value_or(""), problem});
}

std::string config_errors::to_string() const {
  std::string out;
  for (const auto& e : errors_) {
    if (!out.empty()) out += '\n';
    out += e.to_string();
  }
  return out;
}

namespace {
std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}
} // namespace

int64_t read_long(const properties& p, const std::string& key, int64_t def, int64_t min, int64_t max,
                  config_errors& errs) {
  auto raw = p.get(key);
  if (!raw) return def;
  std::string s = trim(*raw);
  std::string range = "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (s.empty()) {
    errs.add(p, key, range);
    return def;
  }
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used, 10);
    if (used != s.size() || v < min || v > max) {
      errs.add(p, key, range);
      return def;
    }
    return v;
  } catch (...) {
    errs.add(p, key, range);
    return def;
  }
}

bool read_bool(const properties& p, const std::string& key, bool def, config_errors& errs) {
  auto raw = p.get(key);
  if (!raw) return def;
  std::string s = trim(*raw);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "true") return true;
  if (s == "false") return false;
  errs.add(p, key, "must be true or false");
  return def;
}

std::string read_string(const properties& p, const std::string& key, const std::string& def) {
  auto raw = p.get(key);
  return raw ? trim(*raw) : def;
}

std::optional<std::string> read_required(const properties& p, const std::string& key,
                                         bool allow_empty, config_errors& errs) {
  auto raw = p.get(key);
  if (!raw) {
    errs.add({p.source, key, "", "is required (You must specify " + key + ")"});
    return std::nullopt;
  }
  std::string s = trim(*raw);
  if (s.empty() && !allow_empty) {
    errs.add(p, key, "must not be empty");
    return std::nullopt;
  }
  return s;
}

bool is_secret_key(const std::string& key) {
  std::string k = key;
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  return k.find("password") != std::string::npos || k.find("secret") != std::string::npos ||
         k.find("sasl.jaas.config") != std::string::npos || k.find("ssl.key") != std::string::npos ||
         k.find("token") != std::string::npos;
}

} // namespace starpipe::conf
