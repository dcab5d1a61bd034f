#pragma once
// Every librdkafka client starpipe makes (sink consumers, the dead-letter producer, the
// distributed worker's topic clients) is made here: settings applied in one place, a failed
// key named in the error.
#include <librdkafka/rdkafka.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace starpipe {

// Null on failure, with `error` naming the setting. `configure` sets callbacks and the opaque
// on the conf before the client is made.
rd_kafka_t* new_kafka_client(rd_kafka_type_t type, const std::map<std::string, std::string>& settings,
                             std::string& error, const std::function<void(rd_kafka_conf_t*)>& configure = {});

// A record's key or value as bytes; nullopt for a null one (not the same as empty).
std::optional<std::string> bytes_of(const void* p, size_t n);
// A record's headers, in order (a null header value becomes empty).
std::vector<std::pair<std::string, std::string>> headers_of(const rd_kafka_message_t* m);

} // namespace starpipe
