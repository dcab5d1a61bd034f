#pragma once
// Runs Stream Load attempts for one writer on a thread of its own (a detached actor):
// blocking HTTP never touches a CAF scheduler thread. Answers each request by message.
#include <caf/all.hpp>

#include "protocol/stream_load/stream_load_client.h"

namespace starpipe::sinks {

// Handlers:
//   (load_atom, load_request)            -> attempt_outcome
//   (state_atom, database, label)        -> std::string state ("" + error text on failure)
//   (errlog_atom, url)                   -> std::string first bytes of the error log (to show)
//   (errlog_atom, url, uint64_t limit)   -> std::string up to `limit` bytes of it (to read)
//   (load_atom, txn_op, load_request)    -> attempt_outcome (one transaction operation)
//   (probe_atom, database)               -> interface_probe (sink.version=AUTO)
caf::behavior load_executor(caf::event_based_actor* self, stream_load::client_settings settings);

inline caf::actor spawn_load_executor(caf::actor_system& sys, stream_load::client_settings settings) {
  return sys.spawn<caf::detached>(load_executor, std::move(settings));
}

} // namespace starpipe::sinks
