#pragma once
// When a connector commits positions, as plain decisions over the position tracker: the
// supervisor tells it what happened and sends the sources what it answers. Data first,
// positions after: no answer ever holds a position whose rows are not all loaded.
//
// At-least-once: a load that moves a stream's committable position is committed at once
// (asynchronously, by the source), and every periodic checkpoint, after the writers flushed,
// re-commits all committable positions (an earlier asynchronous commit may have been lost).
// Exactly-once: nothing is committed on a load; the source's two-phase checkpoint asks for
// the positions its prepared transactions reach (positions_of) and commits them with their
// labels. Draining (shutdown): no more commits on load; the final commit is checkpoint().
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "protocol/checkpoint/position_tracker.h"

namespace starpipe::checkpoint {

using pipeline::piece_id;

class checkpointer {
public:
  explicit checkpointer(bool exactly_once) : exactly_once_(exactly_once) {}

  // A record stage cut batch `seq` of `stream` into `parts` table pieces (see position_tracker).
  void on_batch(const stream_id& stream, uint64_t seq, source_position last, int parts, int64_t bytes, int owner);
  // A load covered `pieces`: the positions to commit right now (often none).
  position_map on_loaded(const std::vector<piece_id>& pieces);
  // A load of `pieces` failed for good: their streams never pass them.
  void on_failed(const std::vector<piece_id>& pieces, const std::string& reason);

  // A checkpoint, once every writer flushed: every committable position.
  position_map checkpoint();
  // Exactly-once prepare: the committable positions of these streams.
  position_map positions_of(const std::vector<stream_id>& streams) const;
  // Streams given up (revoked, stopped) once their writers flushed: their positions, to be
  // committed by the source before it lets them go; their batches no longer count.
  position_map hand_off(const std::vector<stream_id>& streams);
  // Streams given up without a commit (exactly-once: the transaction decided already).
  void forget(const std::vector<stream_id>& streams);
  // Shutdown began: loads no longer commit on their own.
  void drain() { draining_ = true; }

  bool exactly_once() const { return exactly_once_; }
  // Bytes freed since the last call, per source (credit to give back).
  std::map<int, int64_t> take_credit() { return tracker_.take_released_bytes(); }
  int64_t outstanding_bytes() const { return tracker_.outstanding_bytes(); }

private:
  position_tracker tracker_;
  bool exactly_once_;
  bool draining_ = false;
};

} // namespace starpipe::checkpoint
