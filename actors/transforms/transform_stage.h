#pragma once
// One transform actor per partition when a connector has `transforms`: applies the chain
// (AddOpFieldForDebeziumRecord, ExtractNewRecordState, ...) to a decoded batch and answers
// with each record's outcome, so the partition's order is kept.
#include <caf/all.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/transforms/transform.h"

namespace starpipe::transform_actors {

struct stage_result {
  int64_t offset = 0;
  std::optional<connect::connect_record> record; // nullopt: dropped by a transform (or failed)
  std::string error;                              // set when a transform failed on it
};

// Handler: (transform_atom, std::vector<connect_record>) -> std::vector<stage_result>
caf::actor spawn_transform_stage(caf::actor_system& sys, std::shared_ptr<const transforms::chain> chain);

} // namespace starpipe::transform_actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<starpipe::connect::connect_record>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<starpipe::transform_actors::stage_result>)
