#pragma once
// A Kafka Connect converter, both directions: bytes -> Connect data (schema, value) for a sink,
// Connect data -> bytes for a source. Every converter class is registered once by its Kafka
// Connect class name (converter_plugins): the configuration's validation, the REST plugin
// list and the pipeline's record stage all build from that table, so a new converter is its
// class, one entry there, and its tests.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/config_def.h"
#include "conf/worker_config.h"
#include "protocol/connect/record.h"

namespace starpipe::connect {

class converter {
public:
  virtual ~converter() = default;
  // Sink side. Null bytes give nullopt (a null value, not an error). Bytes that do not convert
  // give false, with Kafka Connect's wording in `error`.
  virtual bool to_connect(const char* data, size_t len, std::optional<schema_and_value>& out,
                          std::string& error) const = 0;
  // Source side: the bytes a Kafka record carries for this data; nullopt for a null value.
  virtual std::optional<std::string> from_connect(const std::optional<schema_and_value>& data) const = 0;
};

struct converter_plugin {
  std::string class_name;
  // What the bytes are, for the decisions that depend on it (CSV needs text; schemaless JSON
  // text may go to StarRocks as it came, without a DOM).
  conf::converter_kind kind;
  std::function<std::unique_ptr<converter>(const conf::converter_spec&)> make;
  // Its own keys, as given after `key.converter.` / `value.converter.`.
  const conf::config_def* keys;
};

// Sorted by class name.
const std::vector<converter_plugin>& converter_plugins();
// Null when the class is not registered.
const converter_plugin* find_converter(const std::string& class_name);
// "a, b and c": the registered class names, for errors.
std::string converter_class_list();
// Checks the converter's own keys under `prefix` ("value.converter"): bad values are errors,
// keys the converter does not read are warnings (as Kafka Connect's converters ignore them).
void check_converter_keys(const conf::properties& p, const std::string& prefix, const conf::converter_spec& spec,
                          conf::config_errors& errs, std::vector<std::string>& warnings);
// The converter a validated spec names (its class is registered: the configuration checked).
std::unique_ptr<converter> make_converter(const conf::converter_spec& spec);

} // namespace starpipe::connect
