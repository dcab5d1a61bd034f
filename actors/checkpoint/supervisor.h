#pragma once
// One supervisor per connector. It owns the connector's consumers and writers and makes
// the at-least-once rule hold: a partition's offset is committed only when every record
// before it was loaded (Success or Publish Timeout). Checkpoints run every
// offset.flush.interval.ms, on revoke and at shutdown: writers flush first, offsets are
// committed after.
#include <caf/all.hpp>

#include <memory>

#include "conf/connector_config.h"
#include "common/connector_registry.h"
#include "conf/worker_config.h"

namespace starpipe::checkpoint {

struct supervisor_settings {
  std::shared_ptr<const conf::connector_config> connector;
  std::shared_ptr<const conf::worker_config> worker;
  std::chrono::milliseconds progress_interval{5000};
  std::chrono::milliseconds writer_tick{100};
  std::shared_ptr<pipelines::connector_registry> registry; // what the REST API shows; may be null
};

// Handlers (besides those the other actors use): (shutdown_atom) -> bool once consumers
// left their group and everything buffered was loaded and committed; the actor then quits.
caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_settings settings);

} // namespace starpipe::checkpoint
