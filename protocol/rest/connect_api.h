#pragma once
// The Kafka Connect REST API's shapes and errors (docs/kafka-connect-compat.md section 1), as
// a pure function of a request and the connectors' registry. Standalone mode serves the
// read-only endpoints; creating or changing connectors over REST is distributed mode's.
#include <string>

#include "common/connector_registry.h"
#include "conf/worker_config.h"

namespace starpipe::rest {

struct request {
  std::string method; // GET, POST, ...
  std::string target; // path and query
  std::string body;
};

struct response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

struct api_context {
  const pipelines::connector_registry* registry = nullptr;
  std::string worker_id; // advertised host:port
  std::string version;
  const conf::worker_config* worker = nullptr; // defaults for validation
};

response handle(const request& req, const api_context& ctx);

// HTTP Basic check against the worker's users; true when no users are configured.
bool authorized(const std::string& authorization_header, const std::map<std::string, std::string>& users);

// Prometheus text exposition of every connector's metrics.
std::string prometheus_metrics(const pipelines::connector_registry& registry);

} // namespace starpipe::rest
