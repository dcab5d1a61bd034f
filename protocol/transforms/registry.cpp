#include "protocol/transforms/registry.h"

#include <algorithm>

#include "protocol/transforms/add_op_field.h"
#include "protocol/transforms/builtin_transforms.h"
#include "protocol/transforms/extract_new_record_state.h"
#include "protocol/transforms/transform_options.h"

namespace starpipe::transforms {

// Defined beside the predicates they make (predicates.cpp).
std::vector<predicate_plugin> builtin_predicates();

namespace {

template <class Plugin>
std::vector<Plugin> sorted(std::vector<Plugin> v) {
  std::sort(v.begin(), v.end(), [](const Plugin& a, const Plugin& b) { return a.class_name < b.class_name; });
  return v;
}

template <class Plugin>
const Plugin* find_in(const std::vector<Plugin>& all, const std::string& class_name) {
  for (const auto& p : all)
    if (p.class_name == class_name) return &p;
  return nullptr;
}

template <class Plugin>
std::string list_of(const std::vector<Plugin>& all) {
  std::string out;
  for (size_t i = 0; i < all.size(); ++i)
    out += (i == 0 ? "" : i + 1 == all.size() ? " and " : ", ") + all[i].class_name;
  return out;
}

} // namespace

const std::vector<transform_plugin>& transform_plugins() {
  static const std::vector<transform_plugin> all = [] {
    std::vector<transform_plugin> v = {
        {"com.starrocks.connector.kafka.transforms.AddOpFieldForDebeziumRecord", make_add_op_field, &no_options()},
        {"io.debezium.transforms.ExtractNewRecordState", make_extract_new_record_state,
         &extract_new_record_state_options()},
    };
    // Kafka Connect's own, each under the names Connect gives it ($Key / $Value where it has both).
    for (const char* name : {"Cast$Key", "Cast$Value", "ExtractField$Key", "ExtractField$Value", "Filter",
                             "HoistField$Key", "HoistField$Value", "InsertField$Value", "RegexRouter",
                             "ReplaceField$Key", "ReplaceField$Value", "TimestampConverter$Key",
                             "TimestampConverter$Value", "ValueToKey"}) {
      std::string base(name);
      base = base.substr(0, base.find('$'));
      v.push_back({"org.apache.kafka.connect.transforms." + std::string(name), make_builtin_transform,
                   &builtin_transform_options(base)});
    }
    return sorted(std::move(v));
  }();
  return all;
}

const std::vector<predicate_plugin>& predicate_plugins() {
  static const std::vector<predicate_plugin> all = sorted(builtin_predicates());
  return all;
}

const transform_plugin* find_transform(const std::string& class_name) {
  return find_in(transform_plugins(), class_name);
}
const predicate_plugin* find_predicate(const std::string& class_name) {
  return find_in(predicate_plugins(), class_name);
}
std::string transform_class_list() { return list_of(transform_plugins()); }
std::string predicate_class_list() { return list_of(predicate_plugins()); }

} // namespace starpipe::transforms
