#include "protocol/connect/record.h"

#include "protocol/connect/converter.h"
#include "protocol/connect/json_converter.h"
#include "protocol/connect/schema_cache.h"
#include "protocol/connect/schema_plan.h"
#include "protocol/connect/time_zone.h"

namespace starpipe::connect {

bool decode(const conf::converter_spec& spec, const char* data, size_t len, std::optional<schema_and_value>& out,
            std::string& error) {
  return make_converter(spec)->to_connect(data, len, out, error);
}

std::optional<std::string> render_row(const schema_plan& plan, const json& value, const render_options& opt,
                                      std::string& error) {
  error.clear();
  json row;
  try {
    row = plan.render(value, opt.zone);
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

std::optional<std::string> render_row(const connect_record& r, const render_options& opt, std::string& error) {
  error.clear();
  if (!r.value) return std::nullopt;
  const auto& schema = r.value->schema;
  if (opt.plans && !schema.is_null()) return render_row(*opt.plans->by_value(schema), r.value->value, opt, error);
  return render_row(*schema_plan::compile(schema), r.value->value, opt, error);
}

} // namespace starpipe::connect
