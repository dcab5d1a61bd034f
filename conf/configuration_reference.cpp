// docs/configuration.md's key tables, printed from the tables the parsers read.
#include "conf/key_tables.h"

#include <algorithm>
#include <vector>

#include "protocol/connect/converter.h"
#include "protocol/transforms/registry.h"

namespace starpipe::conf {

namespace {

// One section per table; the classes that share a table ($Key and $Value) share its section.
template <class Plugin>
std::string plugin_tables(const std::vector<Plugin>& plugins) {
  std::vector<std::pair<const config_def*, std::string>> sections;
  for (const auto& p : plugins) {
    auto it = std::find_if(sections.begin(), sections.end(), [&](const auto& s) { return s.first == p.options; });
    if (it == sections.end()) sections.push_back({p.options, "`" + p.class_name + "`"});
    else it->second += ", `" + p.class_name + "`";
  }
  std::string out;
  for (const auto& [table, names] : sections) {
    out += "\n#### " + names + "\n\n";
    out += table->keys().empty() ? std::string("No options.\n") : table->markdown();
  }
  return out;
}

} // namespace

std::string configuration_reference() {
  std::string out;
  out += "### Worker keys\n\n" + worker_keys().markdown();
  out += "\n### Connector keys\n\n" + sink_connector_keys().markdown();
  out += "\n### Converter keys\n\nEach converter's own keys, given after `key.converter.` or `value.converter.`; "
         "a key the chosen converter does not read is warned about and ignored, as Kafka Connect's converters "
         "ignore it.\n";
  for (const auto& c : connect::converter_plugins()) {
    out += "\n#### `" + c.class_name + "`\n\n";
    out += c.keys->keys().empty() ? std::string("No keys of its own.\n") : c.keys->markdown();
  }
  out += "\n### Transform options\n\nEach transform's own keys, given as `transforms.<alias>.<key>` beside "
         "`type`, `predicate` and `negate`; each predicate's as `predicates.<name>.<key>` beside `type`. Any other "
         "key is refused.\n";
  out += plugin_tables(transforms::transform_plugins());
  out += plugin_tables(transforms::predicate_plugins());
  return out;
}

} // namespace starpipe::conf
