#include "protocol/transforms/add_op_field.h"

namespace starpipe::transforms {

namespace {

class add_op_field : public transform {
public:
  std::optional<connect_record> apply(connect_record r) const override {
    if (!is_envelope(r)) return r;
    std::string op = envelope_op(r);
    const char* image;
    int marker;
    if (op == "c" || op == "u" || op == "r") image = "after", marker = 0;
    else if (op == "d") image = "before", marker = 1;
    else return r; // t, m: unchanged
    json& v = r.value->value;
    if (!v.contains(image) || !v[image].is_object()) return r;
    v[image]["__op"] = marker;
    json& s = r.value->schema;
    if (!s.is_null() && s.contains("fields")) {
      for (auto& f : s["fields"]) {
        if (f.value("field", "") != image || !f.contains("fields")) continue;
        bool present = false;
        for (const auto& g : f["fields"]) present = present || g.value("field", "") == "__op";
        if (!present) f["fields"].push_back(json{{"type", "int32"}, {"optional", false}, {"field", "__op"}});
      }
    }
    return r;
  }
};

} // namespace

// It takes no options: the registry gives it an empty table, so any option is refused there.
std::unique_ptr<transform> make_add_op_field(const transform_spec&, const conf::properties&, conf::config_errors&) {
  return std::make_unique<add_op_field>();
}

} // namespace starpipe::transforms
