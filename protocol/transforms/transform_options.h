#pragma once
// Each transform and predicate class's options as a conf::config_def table (the registry
// holds one per class), and the check every chain builder runs against it.
#include <map>
#include <string>

#include "conf/config_def.h"

namespace starpipe::transforms {

// Kafka Connect's own transforms by their name without package and $Key/$Value ("Cast").
const conf::config_def& builtin_transform_options(const std::string& base_name);
const conf::config_def& extract_new_record_state_options();
// Predicates by their name without package ("TopicNameMatches").
const conf::config_def& predicate_options(const std::string& base_name);
// An empty table for a class that takes no options.
const conf::config_def& no_options();

// The options given to one transform or predicate (without their key prefix), against its
// class's table: declared values checked by type and choices, anything undeclared an
// "unknown option (<context>)" error against the full key.
void check_options(const conf::config_def& table, const std::map<std::string, std::string>& options,
                   const std::string& source, const std::string& key_prefix, const std::string& context,
                   conf::config_errors& errs);

} // namespace starpipe::transforms
