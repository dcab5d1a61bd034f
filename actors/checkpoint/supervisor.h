#pragma once
// One supervisor per connector: the root that starts its sources, writers and dead-letter
// queue, fails the task and stops it (states running, paused, stopping; see supervisor.cpp).
// What may be committed when is its checkpointer's decision (protocol/checkpoint/
// checkpointer.h): a stream's position is committed only when every record before it was
// loaded (Success or Publish Timeout). Checkpoints run every offset.flush.interval.ms, on
// revoke and at shutdown: writers flush first, positions are committed after. What REST and
// /metrics show is its connector_status. It speaks to its sources only through the source
// contract (protocol/pipeline/source_contract.h).
#include <caf/all.hpp>

#include <functional>
#include <memory>

#include "conf/connector_config.h"
#include "common/connector_registry.h"
#include "conf/worker_config.h"

namespace starpipe::checkpoint {

// Makes source `index` of the connector (a Kafka consumer by default). The source sends its
// batches to record stages it spawns with dead_letters (pipeline::spawn_record_stage).
using source_factory =
    std::function<caf::actor(caf::actor_system&, int index, caf::actor supervisor, caf::actor dead_letters)>;
// Makes a writer's load executor (HTTP to StarRocks by default).
using executor_factory = std::function<caf::actor(caf::actor_system&)>;

struct supervisor_settings {
  std::shared_ptr<const conf::connector_config> connector;
  std::shared_ptr<const conf::worker_config> worker;
  std::chrono::milliseconds progress_interval{5000};
  std::chrono::milliseconds writer_tick{100};
  std::shared_ptr<pipelines::connector_registry> registry; // what the REST API shows; may be null
  source_factory make_source;     // null: the Kafka consumer
  executor_factory make_executor; // null: the HTTP load executor
};

// Handlers (besides those the other actors use): (shutdown_atom) -> bool once consumers
// left their group and everything buffered was loaded and committed; the actor then quits.
caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_settings settings);

} // namespace starpipe::checkpoint
