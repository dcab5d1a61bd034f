#include "conf/properties.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "protocol/connect/json_scan.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace starpipe::conf {

void properties::set(const std::string& key, const std::string& value, int line, const std::string& dropped_escapes) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    entries_[it->second].value = value;
    entries_[it->second].line = line;
    entries_[it->second].dropped_escapes = dropped_escapes;
    return;
  }
  index_[key] = entries_.size();
  entries_.push_back({key, value, line, dropped_escapes});
}

std::string properties::dropped_escapes_of(const std::string& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? std::string() : entries_[it->second].dropped_escapes;
}

std::optional<std::string> properties::get(const std::string& key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return entries_[it->second].value;
}

int properties::line_of(const std::string& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? 0 : entries_[it->second].line;
}

std::map<std::string, std::string> properties::with_prefix(const std::string& prefix) const {
  std::map<std::string, std::string> out;
  for (const auto& e : entries_)
    if (e.key.size() > prefix.size() && e.key.compare(0, prefix.size(), prefix) == 0)
      out[e.key.substr(prefix.size())] = e.value;
  return out;
}

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

// Splits into natural lines, accepting \n, \r and \r\n.
std::vector<std::string> natural_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n' || c == '\r') {
      lines.push_back(cur);
      cur.clear();
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

bool ends_with_odd_backslashes(const std::string& s) {
  size_t n = 0;
  for (auto it = s.rbegin(); it != s.rend() && *it == '\\'; ++it) ++n;
  return n % 2 == 1;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Resolves escapes in [begin, end) of a logical line.
std::string unescape(const std::string& s, size_t begin, size_t end, std::string* dropped = nullptr) {
  std::string out;
  out.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 >= end) {
      out += c;
      continue;
    }
    char n = s[++i];
    switch (n) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        unsigned cp = 0;
        size_t j = 0;
        for (; j < 4 && i + 1 + j < end && hex_value(s[i + 1 + j]) >= 0; ++j)
          cp = cp * 16 + static_cast<unsigned>(hex_value(s[i + 1 + j]));
        if (j == 4) {
          append_utf8(out, cp);
          i += 4;
        } else {
          out += 'u'; // malformed \u: keep the letter as Java would reject; we stay lenient
        }
        break;
      }
      default: // \\ \= \: \# \! and any other char stand for themselves
        out += n;
        if (dropped && n != '\\' && n != '=' && n != ':' && n != '#' && n != '!' && n != ' ') *dropped += n;
    }
  }
  return out;
}

} // namespace

properties properties_from(const std::map<std::string, std::string>& config, const std::string& source) {
  properties p;
  p.source = source;
  for (const auto& [k, v] : config) p.set(k, v);
  return p;
}

properties parse_properties(const std::string& text, const std::string& source) {
  properties props;
  props.source = source;
  auto lines = natural_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    int first_line = static_cast<int>(i) + 1;
    std::string line = lines[i];
    size_t start = 0;
    while (start < line.size() && is_blank(line[start])) ++start;
    if (start == line.size()) continue;
    if (line[start] == '#' || line[start] == '!') continue;
    std::string logical = line.substr(start);
    while (ends_with_odd_backslashes(logical) && i + 1 < lines.size()) {
      logical.pop_back();
      const std::string& next = lines[++i];
      size_t k = 0;
      while (k < next.size() && is_blank(next[k])) ++k;
      logical += next.substr(k);
    }
    if (ends_with_odd_backslashes(logical)) logical.pop_back(); // continuation at EOF

    size_t key_end = 0;
    while (key_end < logical.size()) {
      char c = logical[key_end];
      if (c == '\\') {
        key_end += 2;
        continue;
      }
      if (c == '=' || c == ':' || is_blank(c)) break;
      ++key_end;
    }
    if (key_end > logical.size()) key_end = logical.size();
    size_t v = key_end;
    while (v < logical.size() && is_blank(logical[v])) ++v;
    if (v < logical.size() && (logical[v] == '=' || logical[v] == ':')) ++v;
    while (v < logical.size() && is_blank(logical[v])) ++v;
    std::string dropped;
    std::string value = unescape(logical, v, logical.size(), &dropped);
    props.set(unescape(logical, 0, key_end), value, first_line, dropped);
  }
  return props;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" \t\r\n"), e = item.find_last_not_of(" \t\r\n");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

namespace {

// A configuration file's text: a regular, readable text file, or an error that says which
// of those it is not. A UTF-8 byte order mark is dropped (editors on Windows write one).
std::string read_config_text(const std::string& path) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) {
    const int e = errno;
    throw std::runtime_error("cannot read configuration file '" + path + "': " + std::strerror(e) + " (" +
                             (e == ENOENT ? "ENOENT" : e == EACCES ? "EACCES" : e == ENOTDIR ? "ENOTDIR" : "errno " + std::to_string(e)) + ")");
  }
  if (S_ISDIR(sb.st_mode)) throw std::runtime_error("configuration file '" + path + "' is a directory, not a file");
  if (!S_ISREG(sb.st_mode)) throw std::runtime_error("configuration file '" + path + "' is not a regular file");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int e = errno;
    throw std::runtime_error("cannot read configuration file '" + path + "': " +
                             (e ? std::string(std::strerror(e)) + (e == EACCES ? " (EACCES)" : "") : "open failed"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') ++line;
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f') {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      throw std::runtime_error("configuration file '" + path + "' is not a text file: byte " + hex + " at offset " +
                               std::to_string(i) + " (line " + std::to_string(line) + ")");
    }
  }
  return text;
}

// "parse error at line 3, column 7: syntax error ..." from nlohmann's message.
std::string json_error_text(const nlohmann::json::parse_error& e) {
  std::string what = e.what();
  auto at = what.find("parse error at ");
  return at == std::string::npos ? what : what.substr(at + 15);
}

} // namespace

properties load_properties_file(const std::string& path) { return parse_properties(read_config_text(path), path); }

properties load_connector_file(const std::string& path) {
  const std::string text = read_config_text(path);
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text[first] != '{') return parse_properties(text, path);
  const char* shape = " (a JSON connector file is {\"name\": ..., \"config\": {...}} or the bare config map)";
  if (connect::nested_deeper_than(text)) throw std::runtime_error(path + ": JSON " + connect::too_deep_message() + shape);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(path + ": not valid JSON: " + json_error_text(e) + shape);
  }
  if (!doc.is_object()) throw std::runtime_error(path + ": not a JSON object" + std::string(shape));
  properties props;
  props.source = path;
  const nlohmann::json* config = &doc;
  if (doc.contains("config")) {
    if (!doc["config"].is_object()) throw std::runtime_error(path + ": \"config\" must be an object");
    config = &doc["config"];
    if (doc.contains("name") && doc["name"].is_string()) props.set("name", doc["name"].get<std::string>());
  }
  for (auto it = config->begin(); it != config->end(); ++it) {
    if (!it.value().is_string())
      throw std::runtime_error(path + ": " + it.key() + " must be a string value, as Kafka Connect requires");
    if (it.key() == "name" && props.has("name") && *props.get("name") != it.value().get<std::string>())
      throw std::runtime_error(path + ": name=" + it.value().get<std::string>() +
                               " does not match the connector name " + *props.get("name"));
    props.set(it.key(), it.value().get<std::string>());
  }
  return props;
}

} // namespace starpipe::conf
