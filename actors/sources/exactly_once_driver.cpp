#include "actors/sources/exactly_once_driver.h"

#include "actors/messages.h"
#include "common/log.h"

namespace starpipe::sources {

namespace {

std::vector<pipeline::stream_id> streams_of(const stage_list& stages) {
  std::vector<pipeline::stream_id> out;
  for (const auto& [s, stage] : stages) out.push_back(s);
  return out;
}

} // namespace

void barrier_stages(caf::actor_system& sys, const stage_list& stages) {
  caf::scoped_actor blocker{sys};
  for (const auto& [stream, stage] : stages)
    blocker->request(stage, std::chrono::seconds(30), barrier_atom::value)
        .receive([](bool) {}, [&, s = stream](caf::error& e) {
          LOG_WARN("source", "the stage of " << s.to_string() << " did not hand on what it holds: " << sys.render(e));
        });
}

exactly_once_driver::exactly_once_driver(caf::actor_system& sys, caf::actor supervisor, int task, std::string id,
                                         std::unique_ptr<checkpoint::transaction_coordinator> coordinator)
    : sys_(sys), supervisor_(std::move(supervisor)), task_(task), id_(std::move(id)),
      coordinator_(std::move(coordinator)) {}

void exactly_once_driver::announce(const std::string& slot) {
  // Enqueued before this thread hands any row of the new slot on, so the writers see it first.
  caf::anon_send(supervisor_, slot_atom::value, task_, slot);
}

void exactly_once_driver::take(checkpoint::position_store& store, const std::vector<pipeline::stream_id>& added,
                               const std::vector<pipeline::stream_id>& owned) {
  // A crash between recording the positions and committing the transactions leaves them
  // prepared: the record says so, and they are committed now; a crash before the record
  // leaves them lingering, and they are rolled back. Then a fresh slot, recorded on every
  // owned stream before any row is read.
  announce(coordinator_->take_streams(store, added, owned));
}

void exactly_once_driver::rotate(checkpoint::position_store& store, const std::vector<pipeline::stream_id>& kept) {
  // Whatever the task keeps is labelled under a fresh slot from here on: the old one may be
  // searched for lingering transactions by the given-up streams' next owner.
  announce(coordinator_->rotate(store, kept));
}

void exactly_once_driver::checkpoint(checkpoint::position_store& store, const stage_list& owned, bool revoking) {
  if (owned.empty() && coordinator_->idle()) return;
  barrier_stages(sys_, owned);
  const auto streams = streams_of(owned);
  prepared_checkpoint prepared{false, "no answer", {}, {}};
  // No timeout: a prepare that finished after one would leave its rows acknowledged (their
  // positions committable) in a transaction no record names. Writers always answer: their
  // transactions give up after sink.max-retries.
  caf::scoped_actor blocker{sys_};
  blocker->request(supervisor_, caf::infinite, prepare_atom::value, task_, streams)
      .receive([&](const prepared_checkpoint& p) { prepared = p; },
               [&](caf::error& e) { prepared.failure = sys_.render(e); });
  if (!prepared.ok) {
    LOG_WARN("source", id_ << " checkpoint not taken: " << prepared.failure);
    coordinator_->roll_back(prepared.labels, "the checkpoint failed");
    if (revoking) coordinator_->abandon("the checkpoint failed: " + prepared.failure);
    return;
  }
  coordinator_->decide(store, prepared, streams, revoking);
}

} // namespace starpipe::sources
