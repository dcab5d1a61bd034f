#pragma once
// One source actor per assigned Kafka partition: decodes a poll's records with the
// connector's converter, encodes them as rows per target table, registers the batch with
// the supervisor (for offsets and memory credit) and hands each table's rows to its writer.
#include <caf/all.hpp>

#include <memory>

#include "conf/connector_config.h"

namespace starpipe::sources {

struct partition_source_settings {
  std::shared_ptr<const conf::connector_config> connector;
  int owner = 0; // index of the consumer whose credit the batch uses
  caf::actor dead_letters; // the connector's dead-letter producer, if errors.deadletterqueue.topic.name
};

// Handlers: (batch_atom, record_batch); (barrier_atom) -> bool once everything before it is handed on.
// A record that cannot be converted fails the task: rows before it are still loaded, the
// offset never passes it, and the supervisor gets (failed_atom, tp, offset, reason).
caf::actor spawn_partition_source(caf::actor_system& sys, partition_source_settings settings, caf::actor supervisor);

} // namespace starpipe::sources
