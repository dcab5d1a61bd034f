#pragma once
// Kafka Connect's built-in transforms that users chain with the Debezium ones, under their
// org.apache.kafka.connect.transforms.* names ($Value, and $Key where Connect has it).
#include "protocol/transforms/transform.h"

namespace starpipe::transforms {

// nullptr (and no error) when `spec.type` is not one of them.
std::unique_ptr<transform> make_builtin_transform(const transform_spec& spec, const conf::properties& p,
                                                  conf::config_errors& errs);

// Java SimpleDateFormat subset (yyyy yy MM dd HH mm ss SSS, 'quoted' text, other literals).
std::string format_timestamp(int64_t epoch_ms, const std::string& pattern);
std::optional<int64_t> parse_timestamp(const std::string& text, const std::string& pattern);

} // namespace starpipe::transforms
