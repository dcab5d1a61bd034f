#pragma once
// The record stage: what every source's batches go through, one actor per stream. It turns a
// batch into rows per target table (converter, then the transform chain inline, then the
// table router and the row encoder), sends records that cannot become rows to the dead-letter
// topic or stops the task, registers the batch's position with the supervisor (for
// checkpoints and memory credit) and hands each table's rows to its writer. It knows nothing
// of the source: records come as a record_set, positions are opaque.
#include <caf/all.hpp>

#include <functional>
#include <memory>

#include "conf/connector_config.h"
#include "protocol/connect/converter.h"

namespace starpipe::pipeline {

struct record_stage_settings {
  std::shared_ptr<const conf::connector_config> connector;
  int owner = 0;           // index of the source whose credit the batches use (the supervisor's numbering)
  caf::actor dead_letters; // the connector's dead-letter producer, if errors.deadletterqueue.topic.name
  // Converters whose records name schemas kept elsewhere: who fetches them (schema_fetcher.h).
  // Unset: the stage spawns one from its converter's schema source when the converter has one.
  caf::actor schema_fetcher;
  // Makes the key and value converters; unset: the converter registry (converter.h).
  std::function<std::unique_ptr<connect::converter>(const conf::converter_spec&)> make_converter;
};

// Handlers: (batch_atom, record_batch); (caught_up_atom): the stream is read to its end for
// now, passed on to the writers it fed; (barrier_atom) -> bool once everything received
// before it is handed on.
// States: `converting`, and `fetching_schemas` while a batch waits for schemas its converter
// must be given: later batches, caught-up signals and barriers then wait behind it, in order.
// A record that cannot be converted fails the task: rows before it are still loaded, the
// position never passes it, and the supervisor gets (failed_atom, stream, offset, reason).
caf::actor spawn_record_stage(caf::actor_system& sys, record_stage_settings settings, caf::actor supervisor);

} // namespace starpipe::pipeline
