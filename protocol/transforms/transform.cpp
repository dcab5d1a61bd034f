#include "protocol/transforms/transform.h"

#include <algorithm>
#include <sstream>

#include "protocol/transforms/registry.h"
#include "protocol/transforms/transform_options.h"

namespace starpipe::transforms {

std::vector<transform_spec> read_transform_specs(const conf::properties& p, conf::config_errors& errs) {
  std::vector<transform_spec> specs;
  auto list = p.get("transforms");
  if (!list) return specs;
  for (const auto& alias : conf::split_list(*list)) {
    transform_spec s;
    s.alias = alias;
    auto type = p.get("transforms." + alias + ".type");
    if (!type || type->empty()) {
      errs.add({p.source, "transforms." + alias + ".type", "", "is required for transform alias '" + alias + "'"});
      continue;
    }
    s.type = conf::read_string(p, "transforms." + alias + ".type", "");
    for (const auto& [k, v] : p.with_prefix("transforms." + alias + "."))
      if (k != "type" && k != "predicate" && k != "negate") s.options[k] = v;
    if (auto name = p.get("transforms." + alias + ".predicate"); name && !name->empty()) {
      auto names = conf::split_list(p.get("predicates").value_or(""));
      if (std::find(names.begin(), names.end(), *name) == names.end()) {
        errs.add(p, "transforms." + alias + ".predicate",
                 "predicate '" + *name + "' of alias '" + alias + "' is not listed in predicates");
      } else {
        predicate_spec ps;
        ps.name = *name;
        ps.type = conf::read_string(p, "predicates." + *name + ".type", "");
        for (const auto& [k, v] : p.with_prefix("predicates." + *name + "."))
          if (k != "type") ps.options[k] = v;
        s.predicate = ps;
      }
    }
    s.negate = conf::read_bool(p, "transforms." + alias + ".negate", false, errs);
    specs.push_back(std::move(s));
  }
  return specs;
}

std::unique_ptr<transform> make_transform(const transform_spec& spec, const conf::properties& p,
                                          conf::config_errors& errs) {
  if (const auto* plugin = find_transform(spec.type)) {
    check_options(*plugin->options, spec.options, p.source, "transforms." + spec.alias + ".",
                  "alias '" + spec.alias + "', " + spec.type, errs);
    if (auto t = plugin->make(spec, p, errs)) return t;
    return nullptr; // its errors are in errs
  }
  errs.add(p, "transforms." + spec.alias + ".type",
           "unknown transform class for alias '" + spec.alias + "'; available: " + transform_class_list());
  return nullptr;
}

std::optional<connect_record> chain::apply(connect_record r) const {
  std::optional<connect_record> cur = std::move(r);
  for (const auto& s : steps_) {
    if (s.when && s.when->test(*cur) == s.negate) continue;
    try {
      cur = s.t->apply(std::move(*cur));
    } catch (const std::exception& e) {
      throw transform_error("transform '" + s.alias + "': " + e.what());
    }
    if (!cur) return std::nullopt;
  }
  return cur;
}

std::shared_ptr<const chain> build_chain(const std::vector<transform_spec>& specs) {
  auto c = std::make_shared<chain>();
  conf::properties none;
  conf::config_errors errs;
  for (const auto& s : specs) {
    auto t = make_transform(s, none, errs);
    std::unique_ptr<predicate> when;
    if (s.predicate) when = make_predicate(*s.predicate, none, errs);
    if (t) c->add(s.alias, std::move(t), std::move(when), s.negate);
  }
  if (!errs.empty()) throw std::runtime_error(errs.to_string()); // validated before: not reached
  return c;
}

bool is_envelope(const connect_record& r) {
  if (!r.value || !r.value->value.is_object()) return false;
  const json& v = r.value->value;
  if (!r.value->schema.is_null()) {
    const json& s = r.value->schema;
    std::string name = s.value("name", "");
    return s.value("type", "") == "struct" && name.size() >= 9 && name.compare(name.size() - 9, 9, ".Envelope") == 0;
  }
  // Schemaless (schemas.enable=false): the envelope's shape.
  return v.contains("op") && v["op"].is_string() && v.contains("source") && (v.contains("after") || v.contains("before"));
}

std::string envelope_op(const connect_record& r) {
  const json& v = r.value->value;
  auto it = v.find("op");
  return it != v.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json field_schema(const json& struct_schema, const std::string& field) {
  if (!struct_schema.is_object() || !struct_schema.contains("fields")) return json();
  for (const auto& f : struct_schema["fields"])
    if (f.value("field", "") == field) return f;
  return json();
}

std::vector<chain_result> apply_to_batch(const chain& c, std::vector<connect_record> records) {
  std::vector<chain_result> out;
  out.reserve(records.size());
  for (auto& r : records) {
    chain_result res;
    res.offset = r.offset;
    try {
      res.record = c.apply(std::move(r));
    } catch (const std::exception& e) {
      res.error = e.what();
    }
    out.push_back(std::move(res));
  }
  return out;
}

} // namespace starpipe::transforms
