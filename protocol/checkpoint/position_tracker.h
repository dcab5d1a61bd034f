#pragma once
// Which source positions are safe to commit: a stream's position advances past a batch only
// when every piece of it was loaded, and never past a failed batch. Acks may arrive before
// the batch's registration (they come from different actors) and in any order. Positions
// are opaque (source_contract.h): the committable position of a stream is the last position
// of its longest fully loaded prefix of batches, as the source registered it.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "protocol/pipeline/source_contract.h"

namespace starpipe::checkpoint {

using pipeline::position_map;
using pipeline::source_position;
using pipeline::stream_id;

class position_tracker {
public:
  // A stage cut batch `seq` of `stream`, whose last handled record is at `last`, into
  // `parts` pieces sent to writers (0 when every record was skipped). bytes: what the batch
  // holds in memory until loaded; owner: the source whose credit the bytes return to.
  void register_batch(const stream_id& stream, uint64_t seq, source_position last, int parts, int64_t bytes,
                      int owner = 0);
  void ack(const stream_id& stream, uint64_t seq);
  void fail(const stream_id& stream, uint64_t seq, const std::string& reason);

  // The position to commit, per stream, covering only fully loaded batches.
  std::optional<source_position> committable(const stream_id& stream) const;
  // Every stream's committable position (checkpoints re-commit them all: an earlier
  // asynchronous commit may have failed).
  position_map all_committable() const;
  // Streams whose committable position moved since the last call, with that position.
  position_map take_advanced();
  // Registered bytes not yet loaded, and bytes freed since the last call (credit to give back).
  int64_t outstanding_bytes() const { return outstanding_bytes_; }
  std::map<int, int64_t> take_released_bytes();
  bool has_pending(const stream_id& stream) const;
  std::optional<std::string> failure(const stream_id& stream) const;
  // The stream went to another owner (a revoked partition): its batches no longer count.
  void forget(const stream_id& stream);

private:
  struct batch {
    bool registered = false;
    int remaining = 0; // parts still to ack; negative while acks precede registration
    source_position last;
    int64_t bytes = 0;
    bool failed = false;
    int owner = 0;
  };
  struct stream_state {
    std::map<uint64_t, batch> batches;
    std::optional<source_position> committable;
    bool advanced = false;
    std::optional<std::string> failure;
  };
  void advance(stream_state& st);

  std::map<stream_id, stream_state> streams_;
  int64_t outstanding_bytes_ = 0;
  std::map<int, int64_t> released_bytes_;
};

} // namespace starpipe::checkpoint
