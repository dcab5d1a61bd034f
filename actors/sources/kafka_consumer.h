#pragma once
// The Kafka source (source_contract.h): one consumer-group member per task (group
// connect-<name>), on its own thread (a detached actor). It polls, splits each poll into one
// record batch per partition (a stream; a record's position is its offset) for the record
// stage it spawns on assignment, and commits the positions the supervisor names (as the
// offsets after them).
//
// On revoke, before giving a partition up, it waits until its source has handed everything
// on, asks the supervisor to load what is buffered, and commits the partition's offset.
// Memory is bounded by credit: each poll's bytes are spent, the supervisor gives them back
// as loads finish; with no credit left the partitions are paused (still polling, so the
// group membership stays alive).
#include <caf/all.hpp>

#include <memory>

#include "conf/connector_config.h"
#include "conf/worker_config.h"

namespace starpipe::sources {

struct kafka_consumer_settings {
  std::shared_ptr<const conf::connector_config> connector;
  std::shared_ptr<const conf::worker_config> worker;
  int index = 0;             // task id
  int64_t budget_bytes = 0;  // this consumer's share of bufferflush.maxbytes
  std::chrono::milliseconds drain_timeout{120000};
  caf::actor dead_letters; // handed to the record stages
};

// Handlers: (poll_atom) internal loop; (credit_atom, int64_t); (commit_atom, position_map);
//           (quiesce_atom) -> bool: stops polling, once every source handed on what it read;
//           (stop_atom) -> bool: leaves the group (revoking, so handing off and committing) and quits.
// Sends to supervisor: (lag_atom, int index, int64_t lag, int64_t partitions), (pressure_atom),
// (relieved_atom), (handoff_atom, streams)
//                      as a request, (failed_atom, std::string reason) when the client fails.
caf::actor spawn_kafka_consumer(caf::actor_system& sys, kafka_consumer_settings settings, caf::actor supervisor);

} // namespace starpipe::sources
