#pragma once
// One Stream Load request: identity, headers and body, built once per batch. The label
// and headers are fixed at build time and reused on every retry of the batch.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "conf/connector_config.h"

namespace starpipe::stream_load {

struct load_request {
  std::string database;
  std::string table;
  std::string label;
  std::vector<std::pair<std::string, std::string>> headers; // data headers (format, columns, ...)
  std::shared_ptr<const std::string> body;
  size_t rows = 0;

  std::string path() const { return "/api/" + database + "/" + table + "/_stream_load"; }
};

// Headers from sink.properties.* plus the label; Authorization and Expect are added by the client.
load_request build_load_request(const conf::connector_config& cfg, const std::string& table,
                                const std::string& label, std::shared_ptr<const std::string> body, size_t rows);

std::string basic_auth(const std::string& user, const std::string& password);

} // namespace starpipe::stream_load
