#include "protocol/checkpoint/offset_tracker.h"

namespace starpipe::checkpoint {

void offset_tracker::register_batch(const topic_partition& tp, uint64_t seq, int64_t last_offset, int parts,
                                    int64_t bytes, int owner) {
  auto& st = partitions_[tp];
  auto& b = st.batches[seq];
  b.registered = true;
  b.remaining += parts;
  b.last_offset = last_offset;
  b.bytes = bytes;
  b.owner = owner;
  outstanding_bytes_ += bytes;
  advance(st);
}

void offset_tracker::ack(const topic_partition& tp, uint64_t seq) {
  auto& st = partitions_[tp];
  auto& b = st.batches[seq];
  b.remaining -= 1;
  advance(st);
}

void offset_tracker::fail(const topic_partition& tp, uint64_t seq, const std::string& reason) {
  auto& st = partitions_[tp];
  st.batches[seq].failed = true;
  if (!st.failure) st.failure = reason;
}

void offset_tracker::advance(partition_state& st) {
  while (!st.batches.empty()) {
    auto it = st.batches.begin();
    const batch& b = it->second;
    if (!b.registered || b.remaining != 0 || b.failed) break;
    st.next_offset = b.last_offset + 1;
    st.advanced = true;
    outstanding_bytes_ -= b.bytes;
    released_bytes_[b.owner] += b.bytes;
    st.batches.erase(it);
  }
}

std::optional<int64_t> offset_tracker::committable(const topic_partition& tp) const {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return std::nullopt;
  return it->second.next_offset;
}

std::map<topic_partition, int64_t> offset_tracker::all_committable() const {
  std::map<topic_partition, int64_t> out;
  for (const auto& [tp, st] : partitions_)
    if (st.next_offset) out[tp] = *st.next_offset;
  return out;
}

std::map<topic_partition, int64_t> offset_tracker::take_advanced() {
  std::map<topic_partition, int64_t> out;
  for (auto& [tp, st] : partitions_) {
    if (st.advanced && st.next_offset) out[tp] = *st.next_offset;
    st.advanced = false;
  }
  return out;
}

std::map<int, int64_t> offset_tracker::take_released_bytes() {
  std::map<int, int64_t> r;
  r.swap(released_bytes_);
  return r;
}

bool offset_tracker::has_pending(const topic_partition& tp) const {
  auto it = partitions_.find(tp);
  return it != partitions_.end() && !it->second.batches.empty();
}

std::optional<std::string> offset_tracker::failure(const topic_partition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? std::nullopt : it->second.failure;
}

void offset_tracker::forget(const topic_partition& tp) {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return;
  for (auto& [seq, b] : it->second.batches)
    if (b.registered) outstanding_bytes_ -= b.bytes, released_bytes_[b.owner] += b.bytes;
  partitions_.erase(it);
}

} // namespace starpipe::checkpoint
