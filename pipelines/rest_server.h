#pragma once
// The REST listener (`listeners`, default http://127.0.0.1:8083): Boost.Beast on its own
// io_context thread, answering from the connector registry. Bodies are size-limited and
// malformed requests get an error, never a crash.
#include <memory>
#include <string>

#include "common/connector_registry.h"
#include "conf/worker_config.h"

namespace starpipe::pipelines {

class rest_server {
public:
  // Throws std::runtime_error naming the address when it cannot listen.
  rest_server(const std::string& host, unsigned short port, std::shared_ptr<const connector_registry> registry,
              std::shared_ptr<const conf::worker_config> worker);
  ~rest_server();
  unsigned short port() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace starpipe::pipelines
