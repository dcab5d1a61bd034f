#include "protocol/checkpoint/checkpointer.h"

namespace starpipe::checkpoint {

void checkpointer::on_batch(const stream_id& stream, uint64_t seq, source_position last, int parts, int64_t bytes,
                            int owner) {
  tracker_.register_batch(stream, seq, last, parts, bytes, owner);
}

position_map checkpointer::on_loaded(const std::vector<piece_id>& pieces) {
  for (const auto& p : pieces) tracker_.ack(p.stream, p.seq);
  if (exactly_once_ || draining_) return {};
  return tracker_.take_advanced();
}

void checkpointer::on_failed(const std::vector<piece_id>& pieces, const std::string& reason) {
  for (const auto& p : pieces) tracker_.fail(p.stream, p.seq, reason);
}

position_map checkpointer::checkpoint() {
  tracker_.take_advanced(); // all of them are in the answer
  return tracker_.all_committable();
}

position_map checkpointer::positions_of(const std::vector<stream_id>& streams) const {
  position_map out;
  for (const auto& s : streams)
    if (auto p = tracker_.committable(s)) out[s] = *p;
  return out;
}

position_map checkpointer::hand_off(const std::vector<stream_id>& streams) {
  auto out = positions_of(streams);
  forget(streams);
  return out;
}

void checkpointer::forget(const std::vector<stream_id>& streams) {
  for (const auto& s : streams) tracker_.forget(s);
  tracker_.take_advanced(); // what remains advanced is committed by the next checkpoint
}

} // namespace starpipe::checkpoint
