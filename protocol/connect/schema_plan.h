#pragma once
// A Connect schema (JsonConverter's JSON layout) compiled once into a plan: every field's type,
// logical type, optionality, default and children read and decided up front, so checking and
// rendering a value is a walk over the plan with no schema lookups, no string comparisons and
// no per-field path strings (a field's path is only spelled out for an error).
//
// The plan keeps the schema's own quirks: a malformed part of a schema is an error only when a
// value reaches it, with the text the direct reading gave, so compiling never changes which
// records convert.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace starpipe::connect {

class time_zone;

class schema_plan {
public:
  using json = nlohmann::ordered_json;

  // Compiles `schema` (null: schemaless). Never throws.
  static std::shared_ptr<const schema_plan> compile(const json& schema);

  // JsonConverter's checks when it turns a payload into Connect data: a required field may
  // not be null or missing unless its schema has a default; struct, array, integer, boolean
  // and string values must be of their type. Throws std::runtime_error naming the field.
  void check(const json& value) const;

  // The value as a StarRocks row (the top level) or column value: logical types as the text
  // StarRocks parses, nested structs and maps as JSON text, arrays as arrays. Throws
  // std::runtime_error naming the field ("field 'a.b': ...").
  json render(const json& value, const time_zone* zone) const;

  struct node;
  ~schema_plan();
  schema_plan(const schema_plan&) = delete;
  schema_plan& operator=(const schema_plan&) = delete;

private:
  schema_plan();
  std::unique_ptr<node> root_;
};

} // namespace starpipe::connect
