#pragma once
// Distributed mode's worker: it keeps the cluster's connectors in the config topic and the
// statuses in the status topic, and runs an instance of every connector here. The work is
// shared through Kafka alone: every worker's consumers join the connector's consumer group
// (connect-<name>), and the group protocol spreads the partitions over all of them and moves
// a dead worker's partitions to the living. No protocol of our own between workers.
//
// Threads: the REST API's threads call the admin methods (they write to the config topic
// and wait to read the write back); one reconcile thread starts, stops, pauses and restarts
// local pipelines (stopping blocks while buffered rows load) and publishes statuses. No CAF
// scheduler thread ever waits here.
#include <caf/all.hpp>

#include <memory>
#include <string>

#include "common/connector_registry.h"
#include "conf/worker_config.h"
#include "protocol/rest/connect_api.h"

namespace starpipe::pipelines::cluster {

class herder : public rest::connector_admin {
public:
  // `cluster_view` receives the merged view of every connector (what GET shows);
  // `local` is what this worker's pipelines publish (GET /metrics).
  herder(caf::actor_system& sys, std::shared_ptr<const conf::worker_config> worker,
         std::shared_ptr<connector_registry> cluster_view, std::shared_ptr<connector_registry> local);
  ~herder() override;

  // Opens the config and status topics, reads them to the end and starts the connectors.
  // Returns an error text, or empty.
  std::string start();
  // Stops every local pipeline (buffered rows loaded, offsets committed), then withdraws
  // this worker's statuses.
  void stop();

  bool ready() const override;
  rest::admin_result put_config(const std::string& name, const std::map<std::string, std::string>& config,
                                bool create_only, std::optional<connect::target_state> initial) override;
  rest::admin_result remove(const std::string& name) override;
  rest::admin_result set_target_state(const std::string& name, connect::target_state s) override;
  rest::admin_result restart(const connect::restart_request& r) override;
  rest::admin_result offsets(const std::string& name) override;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace starpipe::pipelines::cluster
