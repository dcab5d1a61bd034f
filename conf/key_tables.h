#pragma once
// The key tables of the files starpipe reads: each key declared once (conf/config_def.h).
// parse_worker_config and parse_connector_config read through them, config/validate describes
// them, and docs/configuration.md prints them (`starpipe config-reference`).
#include "conf/config_def.h"

namespace starpipe::conf {

// The StarRocks sink connector file (connect-StarRocks-sink.properties, a REST config).
const config_def& sink_connector_keys();
// The Kafka Connect worker file (connect-standalone.properties, connect-distributed.properties).
const config_def& worker_keys();

// key.converter, value.converter, their sub-key prefixes and header.converter, which the
// worker and a connector both declare (a connector's fall back to the worker's).
void define_converter_keys(config_def& d, const std::string& group, const std::optional<std::string>& def,
                           const std::string& when_unset);

// docs/configuration.md's generated part: every table with its heading.
std::string configuration_reference();

} // namespace starpipe::conf
