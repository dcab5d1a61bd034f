#pragma once
// The Kafka Connect REST API's shapes and errors (docs/reference/kafka-connect-compat.md section 1), as
// a pure function of a request and the connectors' registry. Standalone mode serves the
// read-only endpoints; creating or changing connectors over REST is distributed mode's.
#include <map>
#include <optional>
#include <string>

#include "common/connector_registry.h"
#include "conf/worker_config.h"
#include "protocol/connect/internal_topics.h"

namespace starpipe::rest {

struct request {
  std::string method; // GET, POST, ...
  std::string target; // path and query
  std::string body;
};

struct response {
  response() = default;
  response(int s, std::string b, std::string type) : status(s), body(std::move(b)), content_type(std::move(type)) {}
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string location; // Location header of a 201
};

// What a write did. `status` is the HTTP status; `message` the error text when >= 400;
// `body` a JSON document to return (offsets), else empty.
struct admin_result {
  int status = 200;
  std::string message;
  std::string body;
};

// Distributed mode's changes to the cluster, behind the REST API. Bodies are validated
// before any of these is called; they only record the change and wait until this worker
// has read it back. 409 when the worker cannot vouch for an up-to-date view of the cluster.
class connector_admin {
public:
  virtual ~connector_admin() = default;
  // False until the worker has read the cluster's state: connector endpoints answer 503.
  virtual bool ready() const = 0;
  // 201 created, 200 replaced; 409 when create_only and the name exists.
  virtual admin_result put_config(const std::string& name, const std::map<std::string, std::string>& config,
                                  bool create_only, std::optional<connect::target_state> initial) = 0;
  virtual admin_result remove(const std::string& name) = 0;
  virtual admin_result set_target_state(const std::string& name, connect::target_state s) = 0;
  virtual admin_result restart(const connect::restart_request& r) = 0;
  // body: {"offsets":[{"partition":{"kafka_topic":..,"kafka_partition":..},"offset":{"kafka_offset":..}}]}
  virtual admin_result offsets(const std::string& name) = 0;
};

struct api_context {
  const pipelines::connector_registry* registry = nullptr; // what GET shows (the cluster's, in distributed mode)
  const pipelines::connector_registry* metrics = nullptr;  // this worker's own pipelines (GET /metrics)
  connector_admin* admin = nullptr;                        // null: standalone, read-only
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
