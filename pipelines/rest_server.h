#pragma once
// The REST listener (`listeners`, default http://127.0.0.1:8083): Boost.Beast on its own
// io_context threads, answering from the connector registries. Bodies are size-limited and
// malformed requests get an error, never a crash.
#include <memory>
#include <string>

#include "common/connector_registry.h"
#include "conf/worker_config.h"
#include "protocol/rest/connect_api.h"

namespace starpipe::pipelines {

// What the API answers from: the connectors shown (the cluster's in distributed mode), this
// worker's own pipelines for /metrics, and the writer of changes (null in standalone mode).
struct rest_backend {
  std::shared_ptr<const connector_registry> view;
  std::shared_ptr<const connector_registry> metrics;
  rest::connector_admin* admin = nullptr; // must outlive the server
};

class rest_server {
public:
  // Throws std::runtime_error naming the address when it cannot listen. Writes block while
  // they reach Kafka, so requests are served on a few threads.
  rest_server(const std::string& host, unsigned short port, std::shared_ptr<const conf::worker_config> worker,
              rest_backend backend);
  ~rest_server();
  unsigned short port() const;
  std::string scheme() const; // http or https

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace starpipe::pipelines
