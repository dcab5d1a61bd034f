#pragma once
// Phase one of an exactly-once checkpoint, as the writers hand it to the task's coordinator:
// the prepared transactions and the source positions their rows reach.
#include <string>
#include <vector>

#include "protocol/exactly_once/checkpoint_record.h"
#include "protocol/pipeline/source_contract.h"

namespace starpipe {

// A task's writers prepared their transactions: the positions their rows reach and the
// labels. On failure, `labels` holds what was prepared anyway, to be rolled back.
struct prepared_checkpoint {
  bool ok = true;
  std::string failure;
  pipeline::position_map positions;
  std::vector<stream_load::prepared_label> labels;
};

} // namespace starpipe
