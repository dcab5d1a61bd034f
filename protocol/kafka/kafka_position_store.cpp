#include "protocol/kafka/kafka_position_store.h"

#include <cstdlib>
#include <cstring>

#include "common/log.h"

namespace starpipe::kafka {

namespace {
constexpr int deadline_ms = 10000;

bool resets_to_end(rd_kafka_t* rk) {
  char reset[32] = "earliest";
  size_t size = sizeof reset;
  if (rd_kafka_topic_conf_t* tc = rd_kafka_default_topic_conf_dup(rk)) {
    rd_kafka_topic_conf_get(tc, "auto.offset.reset", reset, &size);
    rd_kafka_topic_conf_destroy(tc);
  }
  return std::strcmp(reset, "latest") == 0 || std::strcmp(reset, "largest") == 0 || std::strcmp(reset, "end") == 0;
}
} // namespace

kafka_position_store::kafka_position_store(rd_kafka_t* rk, std::string id)
    : rk_(rk), id_(std::move(id)), start_at_end_(resets_to_end(rk)) {}

std::optional<std::map<pipeline::stream_id, checkpoint::recorded_position>> kafka_position_store::recorded(
    const std::vector<pipeline::stream_id>& streams) {
  auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(streams.size()));
  for (const auto& s : streams) rd_kafka_topic_partition_list_add(list, s.name.c_str(), s.part);
  std::optional<std::map<pipeline::stream_id, checkpoint::recorded_position>> out;
  if (rd_kafka_committed(rk_, list, deadline_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    out.emplace();
    for (int i = 0; i < list->cnt; ++i) {
      const auto& e = list->elems[i];
      checkpoint::recorded_position r;
      if (e.offset >= 0) {
        r.position = position_before(e.offset);
        known_[{e.topic, e.partition}] = e.offset;
      }
      if (e.metadata && e.metadata_size > 0) r.metadata.assign(static_cast<const char*>(e.metadata), e.metadata_size);
      (*out)[{e.topic, e.partition}] = std::move(r);
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  return out;
}

bool kafka_position_store::record(const std::vector<pipeline::stream_id>& streams,
                                  const pipeline::position_map& positions, const std::string& metadata) {
  offset_map offsets;
  std::vector<pipeline::stream_id> unknown;
  for (const auto& s : streams) {
    const topic_partition tp = partition_of(s);
    if (auto p = positions.find(s); p != positions.end()) offsets[tp] = offset_after(p->second);
    else if (auto k = known_.find(tp); k != known_.end()) offsets[tp] = k->second;
    else unknown.push_back(s);
  }
  if (!unknown.empty()) {
    // Never seen committed by this store: ask the group, and failing that, where the partition starts.
    auto recorded_now = recorded(unknown);
    for (const auto& s : unknown) {
      const topic_partition tp = partition_of(s);
      if (auto k = known_.find(tp); k != known_.end()) offsets[tp] = k->second;
      else if (int64_t start = recorded_now ? start_offset(tp) : -1; start >= 0) offsets[tp] = start;
      else
        LOG_WARN("exactly-once", id_ << " cannot tell where " << tp.to_string()
                                     << " starts; its record is written at the next checkpoint");
    }
  }
  if (offsets.empty()) return true;
  if (!commit(offsets, metadata)) return false;
  for (const auto& [tp, off] : offsets) known_[tp] = off;
  return true;
}

bool kafka_position_store::commit(const offset_map& offsets, const std::string& metadata) {
  auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [tp, off] : offsets) {
    auto* e = rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition);
    e->offset = off;
    if (!metadata.empty()) {
      e->metadata = std::malloc(metadata.size()); // freed by the list
      std::memcpy(e->metadata, metadata.data(), metadata.size());
      e->metadata_size = metadata.size();
    }
  }
  auto err = rd_kafka_commit(rk_, list, 0);
  bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (ok)
    for (int i = 0; i < list->cnt && ok; ++i)
      if (list->elems[i].err) ok = false, err = list->elems[i].err;
  rd_kafka_topic_partition_list_destroy(list);
  if (!ok) LOG_WARN("exactly-once", id_ << " offset commit failed: " << rd_kafka_err2str(err));
  return ok;
}

void kafka_position_store::forget(const std::vector<topic_partition>& partitions) {
  for (const auto& tp : partitions) known_.erase(tp);
}

int64_t kafka_position_store::start_offset(const topic_partition& tp) {
  int64_t low = -1, high = -1;
  if (rd_kafka_query_watermark_offsets(rk_, tp.topic.c_str(), tp.partition, &low, &high, deadline_ms) !=
      RD_KAFKA_RESP_ERR_NO_ERROR)
    return -1;
  return start_at_end_ ? high : low;
}

} // namespace starpipe::kafka
