#include "protocol/connect/record.h"

#include "protocol/connect/converter.h"
#include "protocol/connect/json_converter.h"
#include "protocol/connect/time_zone.h"

namespace starpipe::connect {

bool decode(const conf::converter_spec& spec, const char* data, size_t len, std::optional<schema_and_value>& out,
            std::string& error) {
  return make_converter(spec)->to_connect(data, len, out, error);
}

std::optional<std::string> render_row(const connect_record& r, const render_options& opt, std::string& error) {
  error.clear();
  if (!r.value) return std::nullopt;
  json row;
  try {
    row = render_with_schema(r.value->schema, r.value->value, opt.zone);
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
  if (row.is_null()) return std::nullopt;
  if (!row.is_object()) {
    error = "value is a " + std::string(row.type_name()) + ", not a struct or map: StarRocks needs one object per row";
    return std::nullopt;
  }
  return row.dump();
}

} // namespace starpipe::connect
