#include "protocol/checkpoint/position_tracker.h"

namespace starpipe::checkpoint {

void position_tracker::register_batch(const stream_id& stream, uint64_t seq, source_position last, int parts,
                                      int64_t bytes, int owner) {
  auto& st = streams_[stream];
  auto& b = st.batches[seq];
  b.registered = true;
  b.remaining += parts;
  b.last = last;
  b.bytes = bytes;
  b.owner = owner;
  outstanding_bytes_ += bytes;
  advance(st);
}

void position_tracker::ack(const stream_id& stream, uint64_t seq) {
  auto& st = streams_[stream];
  auto& b = st.batches[seq];
  b.remaining -= 1;
  advance(st);
}

void position_tracker::fail(const stream_id& stream, uint64_t seq, const std::string& reason) {
  auto& st = streams_[stream];
  st.batches[seq].failed = true;
  if (!st.failure) st.failure = reason;
}

void position_tracker::advance(stream_state& st) {
  while (!st.batches.empty()) {
    auto it = st.batches.begin();
    const batch& b = it->second;
    if (!b.registered || b.remaining != 0 || b.failed) break;
    st.committable = b.last;
    st.advanced = true;
    outstanding_bytes_ -= b.bytes;
    released_bytes_[b.owner] += b.bytes;
    st.batches.erase(it);
  }
}

std::optional<source_position> position_tracker::committable(const stream_id& stream) const {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return std::nullopt;
  return it->second.committable;
}

position_map position_tracker::all_committable() const {
  position_map out;
  for (const auto& [stream, st] : streams_)
    if (st.committable) out[stream] = *st.committable;
  return out;
}

position_map position_tracker::take_advanced() {
  position_map out;
  for (auto& [stream, st] : streams_) {
    if (st.advanced && st.committable) out[stream] = *st.committable;
    st.advanced = false;
  }
  return out;
}

std::map<int, int64_t> position_tracker::take_released_bytes() {
  std::map<int, int64_t> r;
  r.swap(released_bytes_);
  return r;
}

bool position_tracker::has_pending(const stream_id& stream) const {
  auto it = streams_.find(stream);
  return it != streams_.end() && !it->second.batches.empty();
}

std::optional<std::string> position_tracker::failure(const stream_id& stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? std::nullopt : it->second.failure;
}

void position_tracker::forget(const stream_id& stream) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  for (auto& [seq, b] : it->second.batches)
    if (b.registered) outstanding_bytes_ -= b.bytes, released_bytes_[b.owner] += b.bytes;
  streams_.erase(it);
}

} // namespace starpipe::checkpoint
