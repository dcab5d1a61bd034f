#pragma once
// The exactly-once steps any source runs for its task, blocking, on the source's own detached
// thread: when it takes streams (recovery and a fresh writer slot), at each checkpoint (every
// stage hands on what it got, the writers prepare through the supervisor, the positions are
// recorded with the labels in the source's position_store, then the transactions are
// committed) and after it gave streams up (a fresh slot on those it keeps). Why on the
// source's thread: a Kafka revoke must be decided before librdkafka's rebalance callback
// returns, and the position store (the consumer group) is only usable there.
//
// A source that wants exactly-once implements a checkpoint::position_store over wherever it
// keeps its positions and calls these three steps; it never sees a label or a transaction.
#include <caf/all.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "protocol/exactly_once/position_store.h"
#include "protocol/exactly_once/transaction_coordinator.h"

namespace starpipe::sources {

using stage_list = std::vector<std::pair<pipeline::stream_id, caf::actor>>;

// Every stage hands on what it was given (its answer comes once its rows reached the writers).
void barrier_stages(caf::actor_system& sys, const stage_list& stages);

class exactly_once_driver {
public:
  exactly_once_driver(caf::actor_system& sys, caf::actor supervisor, int task, std::string id,
                      std::unique_ptr<checkpoint::transaction_coordinator> coordinator);

  // The source took `added` and owns `owned` now (`added` included), before reading them.
  void take(checkpoint::position_store& store, const std::vector<pipeline::stream_id>& added,
            const std::vector<pipeline::stream_id>& owned);
  // One checkpoint over every stream the source owns; `revoking`: the streams are being given
  // up, so what cannot be decided now is rolled back.
  void checkpoint(checkpoint::position_store& store, const stage_list& owned, bool revoking);
  // After streams were given up (their checkpoint taken): a fresh slot on those kept.
  void rotate(checkpoint::position_store& store, const std::vector<pipeline::stream_id>& kept);
  bool idle() const { return coordinator_->idle(); }

private:
  // The task's writers label what they prepare from now on with `slot`, starting at 1.
  void announce(const std::string& slot);

  caf::actor_system& sys_;
  caf::actor supervisor_;
  int task_;
  std::string id_;
  std::unique_ptr<checkpoint::transaction_coordinator> coordinator_;
};

} // namespace starpipe::sources
