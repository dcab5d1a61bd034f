#pragma once
// Java .properties files as java.util.Properties reads them: '#'/'!' comments,
// key=value, key:value, key value, backslash continuations and escapes.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace starpipe::conf {

struct property {
  std::string key;
  std::string value;
  int line = 0; // first physical line of the logical line, 1-based
  // Characters of the value whose backslash java.util.Properties dropped (`\d` reads as `d`):
  // harmless in most values, a silent change of meaning in a regular expression.
  std::string dropped_escapes;
};

class properties {
public:
  std::string source; // file name, or "<rest>" for configs that came over HTTP

  void set(const std::string& key, const std::string& value, int line = 0, const std::string& dropped_escapes = "");
  // See property::dropped_escapes; empty for keys that are absent or came without a file.
  std::string dropped_escapes_of(const std::string& key) const;
  std::optional<std::string> get(const std::string& key) const;
  bool has(const std::string& key) const { return index_.count(key) != 0; }
  int line_of(const std::string& key) const;
  // Entries in file order; a key given twice keeps its last value and position.
  const std::vector<property>& entries() const { return entries_; }
  // Keys starting with prefix, with the prefix removed.
  std::map<std::string, std::string> with_prefix(const std::string& prefix) const;

private:
  std::vector<property> entries_;
  std::map<std::string, size_t> index_;
};

properties parse_properties(const std::string& text, const std::string& source = "<string>");
// A config that came as a map (a REST body, the config topic), in key order.
properties properties_from(const std::map<std::string, std::string>& config, const std::string& source);

// "a, b ,c" -> {"a","b","c"}: the comma lists of Kafka Connect keys (topics, transforms, ...).
std::vector<std::string> split_list(const std::string& s);
// Throws std::runtime_error naming the file when it cannot be read.
properties load_properties_file(const std::string& path);

// A connector file as connect-standalone reads it: .properties text, or JSON — the REST
// body shape {"name": ..., "config": {...}} or the bare config map. Throws
// std::runtime_error naming the file on malformed JSON or non-string values.
properties load_connector_file(const std::string& path);

} // namespace starpipe::conf
