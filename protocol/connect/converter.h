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
#include <string_view>
#include <vector>

#include "conf/config_def.h"
#include "conf/worker_config.h"
#include "protocol/connect/record.h"
#include "protocol/connect/schema_cache.h"
#include "protocol/connect/schema_fetch.h"

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

  // Converters whose records name schemas kept elsewhere (schema_fetch.h). Appends the ids of
  // the schemas these bytes need that this converter has not been given yet; the default
  // needs none.
  virtual void schemas_needed(const char* data, size_t len, std::vector<std::string>& ids) const {
    (void)data, (void)len, (void)ids;
  }
  // A fetched schema (found or missing), given before the records that need it convert.
  virtual void add_schema(const fetched_schema& schema) { (void)schema; }
};

struct converter_plugin {
  std::string class_name;
  // What the bytes are, for the decisions that depend on it (CSV needs text; schemaless JSON
  // text may go to StarRocks as it came, without a DOM).
  conf::converter_kind kind;
  std::function<std::unique_ptr<converter>(const conf::converter_spec&)> make;
  // Its own keys, as given after `key.converter.` / `value.converter.`.
  const conf::config_def* keys;
  // Where its schemas come from, for converters that fetch them (null for the others).
  std::function<std::shared_ptr<schema_source>(const conf::converter_spec&)> make_schema_source = nullptr;
};

// JsonConverter's reading of a value without a cache: any JSON text, errors in its wording.
// schemas_enable: the text must be a {"schema", "payload"} envelope whose payload matches.
bool read_json_value(std::string_view text, bool schemas_enable, std::optional<schema_and_value>& out,
                     std::string& error);

// JsonConverter's reading of a {"schema", "payload"} envelope with the schema compiled once per
// distinct schema text. not_cached: the text is not a plain envelope whose parts parse (the
// caller reads it the general way, which words the error); refused: the payload does not match
// its schema (`error` says why, as JsonConverter does); null_payload: no value.
enum class envelope_read { decoded, null_payload, refused, not_cached };
envelope_read read_envelope(std::string_view text, schema_cache& schemas, std::shared_ptr<const compiled_schema>& schema,
                            nlohmann::ordered_json& payload, std::string& error);

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
