#pragma once
// Every librdkafka client starpipe makes (sink consumers, the dead-letter producer, the
// distributed worker's topic clients) is made here: settings applied in one place, a failed
// key named in the error.
#include <librdkafka/rdkafka.h>

#include <functional>
#include <map>
#include <string>

namespace starpipe {

// Null on failure, with `error` naming the setting. `configure` sets callbacks and the opaque
// on the conf before the client is made.
rd_kafka_t* new_kafka_client(rd_kafka_type_t type, const std::map<std::string, std::string>& settings,
                             std::string& error, const std::function<void(rd_kafka_conf_t*)>& configure = {});

} // namespace starpipe
