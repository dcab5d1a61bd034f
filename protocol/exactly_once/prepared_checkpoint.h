#pragma once
// Phase one of an exactly-once checkpoint, as the writers hand it to the task's coordinator:
// the prepared transactions and the offsets their rows reach.
#include <map>
#include <string>
#include <vector>

#include "protocol/checkpoint/offset_tracker.h"
#include "protocol/exactly_once/checkpoint_record.h"

namespace starpipe {

using offset_map = std::map<checkpoint::topic_partition, int64_t>;

// A task's writers prepared their transactions: the offsets their rows reach and the labels.
// On failure, `labels` holds what was prepared anyway, to be rolled back.
struct prepared_checkpoint {
  bool ok = true;
  std::string failure;
  offset_map offsets;
  std::vector<stream_load::prepared_label> labels;
};

} // namespace starpipe
