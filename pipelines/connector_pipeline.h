#pragma once
// A sink connector's pipeline: sources (Kafka consumers, one per task) -> record stages (one
// per stream) -> Stream Load writers (one per table), under one supervisor.
#include <caf/all.hpp>

#include <memory>

#include "common/connector_registry.h"
#include "conf/connector_config.h"
#include "conf/worker_config.h"

namespace starpipe::pipelines {

caf::actor start_connector(caf::actor_system& sys, std::shared_ptr<const conf::connector_config> connector,
                           std::shared_ptr<const conf::worker_config> worker,
                           std::shared_ptr<connector_registry> registry = nullptr);

// What starpipe logs about a connector at start (secrets hidden).
std::string describe(const conf::connector_config& c);

} // namespace starpipe::pipelines
