#pragma once
// A Kafka Connect record as transforms see it: topic, partition, offset, key and value each
// as (schema, value) in JsonConverter's JSON layout, and headers. Schema null = schemaless.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "conf/worker_config.h"

namespace starpipe::connect {

using json = nlohmann::ordered_json;

struct schema_and_value {
  json schema; // null when schemaless
  json value;  // never null here: a null key or value is an absent optional
};

struct connect_record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<schema_and_value> key;
  std::optional<schema_and_value> value; // nullopt: tombstone / null value
  std::optional<json> value_schema_of_null; // a null value that still has a schema
  std::vector<std::pair<std::string, std::string>> headers;
};

// Decodes raw bytes with the converter a spec names (converter.h; one converter made per
// call: the pipeline keeps its converters instead). Returns false and sets `error` (Kafka
// Connect's wording) when the bytes do not convert.
bool decode(const conf::converter_spec& spec, const char* data, size_t len, std::optional<schema_and_value>& out,
            std::string& error);

// Rendering options for rows.
struct render_options {
  const class time_zone* zone = nullptr; // the zone zoned timestamps are rendered in (UTC when null)
  // Where the plans of the values' schemas are kept; null: each schema is compiled per call.
  class schema_cache* plans = nullptr;
};

// A record value as one StarRocks JSON row (an object). nullopt with empty error: no row
// (tombstone). nullopt with error: the value cannot be a row.
std::optional<std::string> render_row(const connect_record& r, const render_options& opt, std::string& error);
// The same for a value whose schema is compiled already.
std::optional<std::string> render_row(const class schema_plan& plan, const json& value, const render_options& opt,
                                      std::string& error);

} // namespace starpipe::connect
