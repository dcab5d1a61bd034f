// docs/configuration.md's key tables, printed from the tables the parsers read.
#include "conf/key_tables.h"

#include "protocol/connect/converter.h"

namespace starpipe::conf {

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
  return out;
}

} // namespace starpipe::conf
