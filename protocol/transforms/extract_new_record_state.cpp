#include "protocol/transforms/extract_new_record_state.h"

#include <set>
#include <sstream>

namespace starpipe::transforms {

namespace {

enum class mode { drop, tombstone, rewrite, rewrite_with_tombstone, delete_to_tombstone };

struct added_field {
  std::string source; // "op", "source.ts_ms", "table", ...
  std::string name;   // output name, prefix included
};


std::vector<added_field> parse_fields(const std::string& list, const std::string& prefix) {
  std::vector<added_field> out;
  for (const auto& item : conf::split_list(list)) {
    auto colon = item.find(':');
    std::string src = item.substr(0, colon);
    std::string name = colon == std::string::npos ? src : item.substr(colon + 1);
    for (auto& c : name)
      if (c == '.') c = '_';
    out.push_back({src, prefix + name});
  }
  return out;
}

class extract_new_record_state : public transform {
public:
  mode handling = mode::tombstone;
  std::vector<added_field> fields, headers;
  std::string route_by_field;
  bool keep_source_tombstones = false; // legacy drop.tombstones=false with drop/none

  std::optional<connect_record> apply(connect_record r) const override {
    if (!r.value) { // a tombstone from the source
      if (!headers.empty()) r.headers.emplace_back(header_name("op"), "d");
      if (handling == mode::rewrite_with_tombstone || keep_source_tombstones) return r;
      return std::nullopt;
    }
    if (!is_envelope(r)) return r;
    const std::string op = envelope_op(r);
    const json envelope = r.value->value;
    const json envelope_schema = r.value->schema;
    for (const auto& h : headers) {
      auto v = lookup(envelope, envelope_schema, h.source);
      if (v) r.headers.emplace_back(h.name, v->first.is_string() ? v->first.get<std::string>() : v->first.dump());
    }
    if (op == "t") return std::nullopt;
    const bool is_delete = op == "d";
    if (op != "c" && op != "u" && op != "r" && !is_delete) return r; // unknown op: unchanged
    const char* image = is_delete ? "before" : "after";
    if (is_delete) {
      switch (handling) {
        case mode::drop: return std::nullopt;
        case mode::tombstone:
          r.value_schema_of_null = field_schema(envelope_schema, "before");
          r.value.reset();
          route(r, envelope, "before");
          return r;
        case mode::delete_to_tombstone:
          r.value.reset();
          r.value_schema_of_null.reset();
          route(r, envelope, "before");
          return r;
        case mode::rewrite:
        case mode::rewrite_with_tombstone: break;
      }
    }
    json row = envelope.contains(image) ? envelope[image] : json();
    if (!row.is_object()) return std::nullopt; // e.g. a delete without before image
    json row_schema;
    if (!envelope_schema.is_null()) {
      row_schema = field_schema(envelope_schema, image);
      row_schema.erase("field");
    }
    auto append = [&](const std::string& name, json value, json schema) {
      row[name] = std::move(value);
      if (!row_schema.is_null()) {
        schema["optional"] = true;
        schema["field"] = name;
        row_schema["fields"].push_back(std::move(schema));
      }
    };
    if (handling == mode::rewrite || handling == mode::rewrite_with_tombstone)
      append("__deleted", is_delete ? "true" : "false", json{{"type", "string"}});
    for (const auto& f : fields) {
      auto v = lookup(envelope, envelope_schema, f.source);
      if (!v) continue;
      json schema = v->second.is_null() ? json{{"type", "string"}} : v->second;
      schema.erase("field");
      append(f.name, v->first, schema);
    }
    r.value->value = std::move(row);
    r.value->schema = std::move(row_schema);
    route(r, envelope, image);
    return r;
  }

private:
  std::string header_name(const std::string& field) const {
    for (const auto& h : headers)
      if (h.source == field) return h.name;
    return "__" + field;
  }

  void route(connect_record& r, const json& envelope, const char* image) const {
    if (route_by_field.empty()) return;
    auto it = envelope.find(image);
    if (it == envelope.end() || !it->is_object() || !it->contains(route_by_field)) return;
    const json& v = (*it)[route_by_field];
    if (v.is_string()) r.topic = v.get<std::string>();
  }

  // (value, schema) of an add.fields / add.headers name in the envelope.
  static std::optional<std::pair<json, json>> lookup(const json& env, const json& env_schema, const std::string& name) {
    static const std::set<std::string> envelope_level = {"op", "ts_ms", "ts_us", "ts_ns"};
    static const std::set<std::string> transaction_level = {"id", "total_order", "data_collection_order"};
    std::string container, field = name;
    auto dot = name.find('.');
    if (dot != std::string::npos) container = name.substr(0, dot), field = name.substr(dot + 1);
    else if (envelope_level.count(name)) container.clear();
    else if (transaction_level.count(name)) container = "transaction";
    else container = "source";
    const json* holder = &env;
    json holder_schema = env_schema;
    if (!container.empty()) {
      auto it = env.find(container);
      if (it == env.end() || !it->is_object()) return std::nullopt;
      holder = &*it;
      holder_schema = field_schema(env_schema, container);
    }
    auto it = holder->find(field);
    if (it == holder->end() || it->is_null()) return std::nullopt;
    return std::make_pair(*it, field_schema(holder_schema, field));
  }
};

} // namespace

std::unique_ptr<transform> make_extract_new_record_state(const transform_spec& spec, const conf::properties& p,
                                                         conf::config_errors& errs) {
  auto t = std::make_unique<extract_new_record_state>();
  const std::string key = "transforms." + spec.alias + ".";
  auto opt = [&](const std::string& k) -> std::optional<std::string> {
    auto it = spec.options.find(k);
    return it == spec.options.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  auto bad = [&](const std::string& k, const std::string& what) {
    conf::config_error e{p.source, key + k, opt(k).value_or(""), what + " (alias '" + spec.alias +
                                                                      "', io.debezium.transforms.ExtractNewRecordState)"};
    errs.add(e);
  };
  // Accepted by Debezium but not implemented here: refuse rather than ignore.
  for (const char* k : {"drop.fields.header.name", "drop.fields.from.key", "drop.fields.keep.schema.compatible"})
    if (spec.options.count(k)) bad(k, "is not supported by starpipe yet");

  if (auto m = opt("delete.tombstone.handling.mode")) {
    if (*m == "drop") t->handling = mode::drop;
    else if (*m == "tombstone") t->handling = mode::tombstone;
    else if (*m == "rewrite") t->handling = mode::rewrite;
    else if (*m == "rewrite-with-tombstone") t->handling = mode::rewrite_with_tombstone;
    else if (*m == "delete-to-tombstone") t->handling = mode::delete_to_tombstone;
    else bad("delete.tombstone.handling.mode", "must be drop, tombstone, rewrite, rewrite-with-tombstone or delete-to-tombstone");
  } else if (opt("drop.tombstones") || opt("delete.handling.mode")) {
    // Legacy options (Debezium <= 3.1), with their defaults: drop deletes, drop tombstones.
    std::string dhm = opt("delete.handling.mode").value_or("drop");
    std::string dt = opt("drop.tombstones").value_or("true");
    if (dt != "true" && dt != "false") bad("drop.tombstones", "must be true or false");
    bool keep_tombstones = dt == "false";
    if (dhm == "drop") t->handling = keep_tombstones ? mode::rewrite_with_tombstone : mode::drop;
    else if (dhm == "none") t->handling = mode::tombstone;
    else if (dhm == "rewrite") t->handling = keep_tombstones ? mode::rewrite_with_tombstone : mode::rewrite;
    else bad("delete.handling.mode", "must be drop, none or rewrite");
    if (dhm == "drop" && keep_tombstones) {
      // drop deletes but pass source tombstones: closest mode keeps rewrite's tombstones,
      // so deletes are dropped explicitly below.
      t->handling = mode::drop;
      t->keep_source_tombstones = true;
    }
    if (dhm == "none" && keep_tombstones) t->keep_source_tombstones = true;
  }
  t->fields = parse_fields(opt("add.fields").value_or(""), opt("add.fields.prefix").value_or("__"));
  t->headers = parse_fields(opt("add.headers").value_or(""), opt("add.headers.prefix").value_or("__"));
  t->route_by_field = opt("route.by.field").value_or("");
  return t;
}

} // namespace starpipe::transforms
