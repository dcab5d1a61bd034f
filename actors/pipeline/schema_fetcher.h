#pragma once
// A converter's schema source behind a detached actor (schema_fetch.h): the record stage asks
// it for schemas and goes on with its mailbox while the registry is being asked; the blocking
// requests never run on a scheduler thread.
#include <caf/all.hpp>

#include <memory>

#include "protocol/connect/schema_fetch.h"

namespace starpipe::pipeline {

// Handler: (schemas_atom, std::vector<std::string> ids) -> std::vector<connect::fetched_schema>,
// one answer per id, in order.
caf::actor spawn_schema_fetcher(caf::actor_system& sys, std::shared_ptr<connect::schema_source> source);

} // namespace starpipe::pipeline
