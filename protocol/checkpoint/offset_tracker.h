#pragma once
// Which Kafka offsets are safe to commit: a partition's offset advances past a batch only
// when every piece of it was loaded, and never past a failed batch. Acks may arrive before
// the batch's registration (they come from different actors) and in any order.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>

namespace starpipe::checkpoint {

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  bool operator<(const topic_partition& o) const { return std::tie(topic, partition) < std::tie(o.topic, o.partition); }
  bool operator==(const topic_partition& o) const { return topic == o.topic && partition == o.partition; }
  std::string to_string() const { return topic + "-" + std::to_string(partition); }
};

class offset_tracker {
public:
  // A source cut a batch ending at last_offset into `parts` pieces sent to writers (0 when
  // every record was skipped). bytes: what the batch holds in memory until loaded.
  void register_batch(const topic_partition& tp, uint64_t seq, int64_t last_offset, int parts, int64_t bytes,
                      int owner = 0);
  void ack(const topic_partition& tp, uint64_t seq);
  void fail(const topic_partition& tp, uint64_t seq, const std::string& reason);

  // Next offset to consume, per partition, covering only fully loaded batches.
  std::optional<int64_t> committable(const topic_partition& tp) const;
  // Every partition's committable offset (checkpoints re-commit them all: an earlier
  // asynchronous commit may have failed).
  std::map<topic_partition, int64_t> all_committable() const;
  // Partitions whose committable offset moved since the last call, with that offset.
  std::map<topic_partition, int64_t> take_advanced();
  // Registered bytes not yet loaded, and bytes freed since the last call (credit to give back).
  int64_t outstanding_bytes() const { return outstanding_bytes_; }
  // owner: the consumer whose credit the bytes return to.
  std::map<int, int64_t> take_released_bytes();
  bool has_pending(const topic_partition& tp) const;
  std::optional<std::string> failure(const topic_partition& tp) const;
  void forget(const topic_partition& tp);

private:
  struct batch {
    bool registered = false;
    int remaining = 0; // parts still to ack; negative while acks precede registration
    int64_t last_offset = -1;
    int64_t bytes = 0;
    bool failed = false;
    int owner = 0;
  };
  struct partition_state {
    std::map<uint64_t, batch> batches;
    std::optional<int64_t> next_offset; // committable
    bool advanced = false;
    std::optional<std::string> failure;
  };
  void advance(partition_state& st);

  std::map<topic_partition, partition_state> partitions_;
  int64_t outstanding_bytes_ = 0;
  std::map<int, int64_t> released_bytes_;
};

} // namespace starpipe::checkpoint
