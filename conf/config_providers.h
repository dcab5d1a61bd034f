#pragma once
// Kafka Connect config providers, so secrets need not sit in connector configs:
//   worker:    config.providers=file,env
//              config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
//              config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
//   connector: starrocks.password=${file:/etc/starpipe/secrets.properties:sr.password}
//              starrocks.password=${env:SR_PASSWORD}
// References to providers the worker does not declare are left as they are (as Kafka does).
#include <map>
#include <string>

#include "conf/config_errors.h"
#include "conf/properties.h"

namespace starpipe::conf {

struct config_providers {
  std::map<std::string, std::string> classes; // alias -> class
};

config_providers read_config_providers(const properties& worker, config_errors& errs);

// Returns `p` with every ${alias:path:key} / ${alias:key} of a declared provider replaced;
// an unreadable file or missing key or variable is an error naming the config key (and
// never the secret).
properties resolve_config(const properties& p, const config_providers& providers, config_errors& errs);

} // namespace starpipe::conf
