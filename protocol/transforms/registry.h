#pragma once
// Every transform and predicate class starpipe has, registered once by its Kafka Connect class
// name with its constructor. Building a chain, the REST plugin list and the "available: ..."
// errors all read this table, so a new transform is one entry here plus its file.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conf/config_def.h"
#include "protocol/transforms/transform.h"

namespace starpipe::transforms {

using transform_factory =
    std::function<std::unique_ptr<transform>(const transform_spec&, const conf::properties&, conf::config_errors&)>;
using predicate_factory =
    std::function<std::unique_ptr<predicate>(const predicate_spec&, const conf::properties&, conf::config_errors&)>;

// options: the class's own keys (transforms.<alias>.<key>, predicates.<name>.<key>); the
// chain builder refuses any other.
struct transform_plugin {
  std::string class_name;
  transform_factory make;
  const conf::config_def* options = nullptr;
};
struct predicate_plugin {
  std::string class_name;
  predicate_factory make;
  const conf::config_def* options = nullptr;
};

// Sorted by class name.
const std::vector<transform_plugin>& transform_plugins();
const std::vector<predicate_plugin>& predicate_plugins();

// Null when the class is not registered.
const transform_plugin* find_transform(const std::string& class_name);
const predicate_plugin* find_predicate(const std::string& class_name);

// "a, b and c": the registered class names, for errors.
std::string transform_class_list();
std::string predicate_class_list();

} // namespace starpipe::transforms
